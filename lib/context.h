/*
 * context.h -- the context handle's layout, shared by the core files.
 */
#ifndef GALANN_CONTEXT_H
#define GALANN_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>

#include "galann.h"
#include "attachment.h"
#include "backend.h"

struct galann_exact_sum;

struct galann_context {
    /* Set for the duration of every call that uses the context
     * (galann_context_enter): a second call meanwhile, from another thread
     * or from a callback inside the first, gets GALANN_ERR_BUSY instead of
     * sharing the backend's state. */
    atomic_flag busy;
    const galann_backend_ops *ops;
    void *state;           /* the backend's, from ops->create */
    int threads;
    /* Attachments this context's backend made of datasets; a dataset being
     * freed in another thread unlinks itself, hence the list's lock. */
    galann_attachment_list attachments;
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

/* Claim the context for one call: GALANN_OK, or GALANN_ERR_BUSY with a
 * message naming who when another call holds it. A NULL context is left
 * to the caller's own check (GALANN_OK). */
int galann_context_enter(galann_context *c, const char *who);

/* Release the claim galann_context_enter made. */
void galann_context_leave(galann_context *c);

#endif /* GALANN_CONTEXT_H */
