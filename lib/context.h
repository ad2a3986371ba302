/*
 * context.h -- the context handle's layout, shared by the core files.
 */
#ifndef GALANN_CONTEXT_H
#define GALANN_CONTEXT_H

#include <pthread.h>

#include "galann.h"
#include "backend.h"

struct galann_attachment;
struct galann_exact_sum;

struct galann_context {
    const galann_backend_ops *ops;
    void *state;           /* the backend's, from ops->create */
    int threads;
    /* Attachments this context's backend made of datasets; a dataset being
     * freed in another thread unlinks itself, hence the lock. */
    pthread_mutex_t attachments_lock;
    struct galann_attachment *attachments;
    /* galann_context_profile: every evaluation is timed (two clock reads) */
    uint64_t evaluations;
    double evaluate_seconds;
    int profiling;           /* time the exact combination too */
    double combine_seconds;  /* the core's part of it */
    /* Data-parallel evaluation (galann_context_set_allreduce); NULL = this
     * process holds the whole dataset. */
    galann_allreduce_fn allreduce;
    void *allreduce_user;
    /* The exact data sums of one evaluation (n_params gradient sums, then
     * the cost), reused across calls: see combine.c. */
    struct galann_exact_sum *sums;
    double *rounded;       /* the sums rounded by the backend, n_params + 1 */
};

#endif /* GALANN_CONTEXT_H */
