/*
 * blas_internal.h -- what the blas backend's files share: the per-worker
 * work space, the backend state and one evaluation's task. blas.c runs an
 * evaluation (chunks, workers, exact sums) and computes a block in double;
 * single.c computes a block in single precision; both hand narrow layers
 * to this CPU's table of narrow.h when there is one.
 */
#ifndef GALANN_BLAS_INTERNAL_H
#define GALANN_BLAS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "cblas_loader.h"
#include "narrow.h"
#include "thread_pool.h"

/* Deeper networks than this are refused rather than allocated per call. */
#define MAX_LAYERS 64

typedef struct worker_space {
    galann_exact_sum *sums; /* the chunks this worker ran: gradient, then cost */
    double *block_grad;  /* the current chunk's gradient, summed over its blocks */
    double *activations; /* per layer l >= 1: block x s_l */
    double *deltas;      /* same layout */
    double *delta_t;     /* one layer's deltas transposed: s_l x block */
    double *inputs;      /* a block of u8 or f32 rows as doubles: block x n */
    void *narrow_scratch; /* the narrow forward product's partial sums, 64-byte aligned */
    /* single precision (GALANN_PRECISION_SINGLE): the same roles in float,
     * and one layer's block gradient before it is added in double */
    float *inputs_f, *activations_f, *deltas_f, *delta_t_f, *grad_f;
    double chunk_cost;   /* the current chunk's cost terms */
    double combine_seconds; /* adding chunk partials exactly (profiling) */
    size_t correct;
    int status;          /* GALANN_OK, or why the worker stopped */
} worker_space;

typedef struct blas_state {
    galann_dgemm_fn *dgemm; /* CBLAS's cblas_dgemm */
    galann_sgemm_fn *sgemm; /* and cblas_sgemm */
    const galann_narrow_kernels *narrow; /* this CPU's narrow-layer loops, or NULL */
    int single;             /* GALANN_PRECISION_SINGLE */
    thread_pool *pool;
    int threads;
    worker_space *workers;
    size_t grad_capacity;  /* doubles allocated per worker gradient (and sums - 1) */
    size_t unit_capacity;  /* doubles allocated per worker for a block's activations */
    size_t input_capacity; /* doubles allocated per worker for a block of converted inputs */
    size_t scratch_capacity; /* bytes of narrow_scratch per worker */
    double *weights_t;     /* transposed weights, shared read-only by the workers */
    int profiling;         /* time the exact combination */
    double combine_seconds; /* worker 0's additions and the merge phases */
    size_t weights_t_capacity;
    size_t single_inputs, single_units, single_widest; /* floats allocated per worker */
    float *weights_f;       /* single: theta, then the transposed weights, as floats */
    size_t weights_f_capacity;
} blas_state;

typedef struct evaluation_task {
    blas_state *state;
    const galann_eval_request *req;
    galann_dgemm_fn *dgemm;
    size_t block;                    /* samples per block */
    const double *weights_t;         /* Theta_l[:, 1:]^T for every layer, s_{l-1} x s_l */
    const float *theta_f;            /* single: theta as floats */
    const float *weights_t_f;        /* single: weights_t as floats */
    int u8_by_arithmetic;            /* double, u8 data: the narrow table's u8_rows */
    size_t weight_offsets[MAX_LAYERS];
    size_t offsets[MAX_LAYERS];      /* where Theta_l starts in theta */
    size_t unit_offsets[MAX_LAYERS]; /* where layer l starts in a block's activations */
    atomic_int workers_done;         /* workers whose chunks are all added */
} evaluation_task;


/* The narrow-layer loops for a layer of rows outputs, or NULL: dgemm or
 * sgemm then. */
static inline const galann_narrow_kernels *narrow_for(const blas_state *s, size_t rows)
{
    return rows <= NARROW_ROWS ? s->narrow : NULL;
}

/* One block of b samples in single precision: the forward pass, the cost
 * terms (in double, into w->chunk_cost), outputs and correct predictions,
 * and, when the gradient is wanted, the backward pass with the block's
 * gradient added in double to w->block_grad (fresh: the chunk's first
 * block, which starts the sums over). first: the block's first sample. */
void galann_blas_block_single(const evaluation_task *t, worker_space *w, size_t first, size_t b, int fresh);

#endif /* GALANN_BLAS_INTERNAL_H */
