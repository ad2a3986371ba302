/*
 * combine.c -- turning a backend's exact data sums into the cost and the
 * gradient, and combining them across processes.
 *
 * A backend with exact sums (blas) leaves, per evaluation, n_params + 1
 * exact accumulators in the context: the gradient's data sums, then the
 * cost's. Here they are, when the context is data-parallel
 * (galann_context_set_allreduce), summed over every process exactly with
 * integer reductions, then rounded once and divided by the total sample
 * count. Because nothing is rounded before that point, the bits do not
 * depend on how the samples were split between threads or processes.
 *
 * Backends without exact sums (reference, opencl) hand back means; on a
 * data-parallel context their means times the local sample count join
 * the same reduction, which is deterministic for a given split but not
 * independent of it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "combine.h"
#include "context.h"
#include "error.h"

GALANN_API size_t galann_sum_chunk_samples(void)
{
    return GALANN_SUM_CHUNK;
}

GALANN_API int galann_context_set_allreduce(galann_context *c, galann_allreduce_fn fn, void *user)
{
    galann_error_clear();
    if (!c)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_set_allreduce: context is NULL");
    c->allreduce = fn;
    c->allreduce_user = fn ? user : NULL;
    return GALANN_OK;
}

int galann_context_sums(galann_context *c, size_t n_params, galann_exact_sum **out)
{
    if (c->sums && galann_exact_sum_count(c->sums) != n_params + 1) {
        galann_exact_sum_free(c->sums);
        c->sums = NULL;
        free(c->rounded);
        c->rounded = NULL;
    }
    if (!c->sums) {
        int status = galann_exact_sum_new(n_params + 1, &c->sums);
        if (status != GALANN_OK)
            return status;
        c->rounded = malloc((n_params + 1) * sizeof *c->rounded);
        if (!c->rounded) {
            galann_exact_sum_free(c->sums);
            c->sums = NULL;
            return galann_error_set(GALANN_ERR_NOMEM, "out of memory for %zu sums", n_params + 1);
        }
    } else {
        galann_exact_sum_clear(c->sums);
    }
    *out = c->sums;
    return GALANN_OK;
}

static int reduce(galann_context *c, int64_t *values, size_t count, galann_reduce_op op)
{
    if (c->allreduce(c->allreduce_user, values, count, op) != 0)
        return galann_error_set(GALANN_ERR_BACKEND, "the allreduce callback failed");
    return GALANN_OK;
}

int galann_sum_counts(galann_context *c, int64_t *counts, size_t n)
{
    if (!c->allreduce)
        return GALANN_OK;
    return reduce(c, counts, n, GALANN_REDUCE_SUM);
}

/* Every process's sums added into every process's s, exactly. The last
 * words of the SUM reduction carry the counts and the failure flag. */
static int sum_over_processes(galann_context *c, galann_exact_sum *s, int64_t *counts, size_t n_counts)
{
    size_t n = galann_exact_sum_count(s);
    int64_t *span = malloc((2 * n + 1) * sizeof *span);
    int64_t *words = NULL;
    int status = GALANN_OK;
    if (!span) {
        status = galann_error_set(GALANN_ERR_NOMEM, "out of memory for %zu sums", n);
        goto done;
    }
    status = galann_exact_sum_span(s, span);
    if (status == GALANN_OK)
        status = reduce(c, span, 2 * n + 1, GALANN_REDUCE_MAX);
    if (status != GALANN_OK)
        goto done;
    size_t packed = galann_exact_sum_pack_size(s, span);
    words = malloc((packed + n_counts) * sizeof *words);
    if (!words) {
        status = galann_error_set(GALANN_ERR_NOMEM, "out of memory for %zu packed words", packed);
        goto done;
    }
    galann_exact_sum_pack(s, span, words);
    memcpy(words + packed, counts, n_counts * sizeof *counts);
    status = reduce(c, words, packed + n_counts, GALANN_REDUCE_SUM);
    if (status == GALANN_OK)
        status = galann_exact_sum_unpack(s, span, words);
    if (status == GALANN_OK)
        memcpy(counts, words + packed, n_counts * sizeof *counts);

done:
    free(span);
    free(words);
    return status;
}

/* Rounded once (by the backend, in parallel, when rounded is not NULL),
 * then divided by the sample count: the mean the original takes. */
static void round_means(const galann_exact_sum *s, const double *rounded, size_t n, double m, double *cost,
                        double *gradient)
{
    if (gradient) {
        if (rounded)
            memcpy(gradient, rounded, n * sizeof *gradient);
        else
            galann_exact_sum_round(s, 0, n, gradient);
        for (size_t p = 0; p < n; p++)
            gradient[p] /= m;
    }
    if (cost) {
        if (rounded)
            *cost = rounded[n];
        else
            galann_exact_sum_round(s, n, 1, cost);
        *cost /= m;
    }
}

int galann_combine(galann_context *c, const galann_combine_job *job)
{
    int64_t counts[3] = { (int64_t)job->m, job->n_correct ? (int64_t)*job->n_correct : 0,
                          job->local_status != GALANN_OK };
    galann_exact_sum *s = job->sums;
    int status = GALANN_OK;
    size_t n = job->n_params;

    /* predictions alone stay per process: no reduction, nothing to wait for */
    int collective = c->allreduce && (job->want_sums || job->n_correct);
    if (!collective) {
        if (job->local_status != GALANN_OK)
            return job->local_status;
        *job->m_total = job->m;
        if (s)
            round_means(s, job->rounded, n, (double)job->m, job->cost, job->gradient);
        return GALANN_OK;
    }
    if (job->want_sums) {
        if (!s) {
            /* a backend without exact sums: its means, times m, join in */
            status = galann_context_sums(c, n, &s);
            if (status != GALANN_OK) {
                counts[2] = 1;
                s = NULL;
            }
            if (s && job->local_status == GALANN_OK && job->m > 0) {
                double m = (double)job->m;
                for (size_t p = 0; p < n && job->gradient; p++)
                    job->gradient[p] *= m;
                if (job->gradient)
                    status = galann_exact_sum_add(s, 0, job->gradient, n);
                if (status == GALANN_OK && job->cost) {
                    double total = *job->cost * m;
                    status = galann_exact_sum_add(s, n, &total, 1);
                }
                if (status != GALANN_OK)
                    counts[2] = 1;
            }
        }
        if (counts[2] && s)
            galann_exact_sum_clear(s);
        if (s) {
            status = sum_over_processes(c, s, counts, 3);
        } else {
            /* Out of memory for the sums: still call the hook, so that
             * no other process waits forever. The count differs from
             * theirs, which an MPI allreduce reports as an error (by
             * default it aborts the job) rather than hanging. */
            int64_t empty = 0;
            status = reduce(c, &empty, 1, GALANN_REDUCE_MAX);
        }
    } else {
        status = reduce(c, counts, 3, GALANN_REDUCE_SUM);
    }
    if (job->local_status != GALANN_OK)
        return job->local_status;
    if (status != GALANN_OK)
        return status;
    if (counts[2] != 0)
        return galann_error_set(GALANN_ERR_BACKEND, "another process failed in the same evaluation");
    if (counts[0] <= 0)
        return galann_error_set(GALANN_ERR_INVALID, "%s: the dataset is empty on every process", job->who);

    *job->m_total = (size_t)counts[0];
    if (job->n_correct)
        *job->n_correct = (size_t)counts[1];
    if (!job->want_sums || !s)
        return GALANN_OK;
    round_means(s, NULL, n, (double)counts[0], job->cost, job->gradient);
    return GALANN_OK;
}
