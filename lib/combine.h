/*
 * combine.h -- from a backend's data sums to the cost and gradient the
 * caller sees, across threads and processes (combine.c).
 */
#ifndef GALANN_COMBINE_H
#define GALANN_COMBINE_H

#include <stddef.h>
#include <stdint.h>

#include "galann.h"
#include "backend.h"

/* The context's accumulator for n_params + 1 sums, cleared. */
int galann_context_sums(galann_context *c, size_t n_params, galann_exact_sum **out);

/* Sum n counts over the processes of a data-parallel context (no-op on
 * others). */
int galann_sum_counts(galann_context *c, int64_t *counts, size_t n);

/* One evaluation's results, as the backend left them. */
typedef struct galann_combine_job {
    const char *who;
    int local_status;          /* the backend's status on this process */
    int want_sums;             /* cost or gradient was asked for */
    galann_exact_sum *sums;    /* exact sums (exact_sums backends), else NULL */
    const double *rounded;     /* the sums already rounded by the backend, or NULL */
    size_t n_params;
    size_t m;                  /* samples on this process */
    double *cost;              /* in: the mean (without exact sums); out: the mean over all */
    double *gradient;          /* the same, n_params */
    size_t *n_correct;         /* in: this process's; out: every process's */
    size_t *m_total;           /* out: samples on every process */
} galann_combine_job;

/* Combine across processes (on a data-parallel context), round exact sums
 * once and divide by the total sample count. Every process must call it
 * for every evaluation, also when its backend failed. */
int galann_combine(galann_context *c, const galann_combine_job *job);

#endif /* GALANN_COMBINE_H */
