/*
 * blas.c -- the blas backend: the batched matrix form through CBLAS,
 * parallel over samples.
 *
 * The samples are cut into fixed chunks of GALANN_SUM_CHUNK samples,
 * counted from the dataset's first row, whatever the thread count. Each
 * worker takes a contiguous run of chunks and walks a chunk in blocks
 * small enough to stay in cache, doing the forward pass, the cost, the
 * backward pass and the gradient accumulation for a block before it moves
 * on, so the data matrix is read once per evaluation. A chunk's partial
 * sums are computed in the same order by whichever worker runs it; they go
 * into the worker's exact accumulator (lib/exact_sum.h), and the workers'
 * accumulators are merged exactly, range by range in parallel, into the
 * core's. Each sum is rounded once, at the end, so the result is
 * the same bits for any thread count, and for any split of the rows over
 * processes that starts shares at chunk boundaries.
 *
 * A layer of at most NARROW_ROWS outputs (8 and 3 in 1024-8-3) skips
 * dgemm on a CPU with AVX-512: the loops of narrow.h's table (narrow.c)
 * do its two products, and convert.c turns u8 rows into doubles, both
 * vectorised, with sums in a written-out order (docs/performance.md §5.10: an evaluation of the
 * galaxy data in a third of dgemm's time). Other layers, and every layer
 * elsewhere, go through dgemm with untransposed operands: the weights are
 * transposed once per evaluation and the deltas once per block, which
 * makes OpenBLAS pick its faster "nn" small-matrix kernels (measured on
 * Zen 4 with OpenBLAS 0.3.21: 15-20 % less time per evaluation than the
 * transposed forms).
 *
 * Within a chunk the blocks' gradients are summed plainly (narrow.c adds
 * each block's to the chunk's, dgemm with beta = 1): exact sums per block
 * would cost as much as a quarter of the products, per chunk they cost
 * about 2 % (docs/performance.md).
 *
 * dgemm is CBLAS's, loaded on the first context (cblas_loader.c): libgalann
 * does not link CBLAS, so only a process that uses this backend loads it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <stdatomic.h>

#include "backend.h"
#include "blas_internal.h"
#include "../numerics.h"

/* Samples per block. OpenBLAS runs a dgemm in the calling thread when
 * m*n*k <= 65536 * 4 (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD in
 * its interface/gemm.c); our workers must not each wake OpenBLAS's own
 * thread pool, so blocks are sized under that product for the widest
 * layer, within [MIN_BLOCK, MAX_BLOCK] (only a layer of more than 262144
 * weights exceeds it with one sample). For 1024-8-3 that is 32 samples,
 * 256 KiB of features: the block stays in L2 between the forward and the
 * gradient product. */
#define OPENBLAS_SERIAL_PRODUCT 262144
#define MIN_BLOCK 1
#define MAX_BLOCK 256

/* A_l = g(Theta_l [1; A_{l-1}]) for a block of b samples: the narrow
 * loops compute bias + product for a layer of at most NARROW_ROWS
 * outputs; otherwise the bias column is written first and the product
 * added by dgemm (beta = 1). The output layer keeps z in delta_L for the
 * stable cost. */
static void forward_block(const galann_net_view *net, const evaluation_task *t, worker_space *w, const double *x,
                          size_t ldx, size_t b)
{
    const double *in = x;
    size_t ld_in = ldx;
    size_t L = net->n_layers - 1;
    for (size_t l = 1; l <= L; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        const double *theta = net->theta + t->offsets[l];
        double *a = w->activations + t->unit_offsets[l];
        const galann_narrow_kernels *narrow = narrow_for(t->state, rows);
        if (narrow) {
            narrow->forward(in, ld_in, b, theta, rows, cols, a, w->narrow_scratch);
        } else {
            for (size_t i = 0; i < b; i++) {
                for (size_t r = 0; r < rows; r++)
                    a[i * rows + r] = theta[r * (cols + 1)];
            }
            t->dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)rows, (int)cols, 1.0, in, (int)ld_in,
                     t->weights_t + t->weight_offsets[l], (int)rows, 1.0, a, (int)rows);
        }
        if (l == L)
            memcpy(w->deltas + t->unit_offsets[l], a, b * rows * sizeof *a);
        for (size_t e = 0; e < b * rows; e++)
            a[e] = galann_sigmoid(a[e]);
        in = a;
        ld_in = rows;
    }
}

/* Cost terms, outputs, correct predictions and delta_L = a_L - y. */
static void score_block(const galann_eval_request *req, const evaluation_task *t, worker_space *w, size_t first,
                        size_t b)
{
    const galann_net_view *net = &req->net;
    size_t L = net->n_layers - 1, k = net->sizes[L];
    const double *a = w->activations + t->unit_offsets[L];
    double *delta = w->deltas + t->unit_offsets[L];
    double block_cost = 0.0;
    for (size_t i = 0; i < b; i++) {
        int32_t label = req->data.y[first + i];
        const double *out = a + i * k;
        double *d = delta + i * k;
        if (req->cost_wanted) {
            for (size_t c = 0; c < k; c++)
                block_cost += label == (int32_t)c ? galann_softplus(-d[c]) : galann_softplus(d[c]);
        }
        if (req->outputs)
            memcpy(req->outputs + (first + i) * k, out, k * sizeof *out);
        if (req->n_correct) {
            size_t best = 0;
            for (size_t c = 1; c < k; c++) {
                if (out[c] > out[best])
                    best = c;
            }
            w->correct += best == (size_t)label;
        }
        for (size_t c = 0; c < k; c++)
            d[c] = out[c] - (label == (int32_t)c ? 1.0 : 0.0);
    }
    w->chunk_cost += block_cost;
}

/* below[i][c] = sum_r delta[i][r] Theta[r][1 + c], r in order: the
 * product behind the deltas under a narrow layer (a few FLOPs per sample,
 * not worth a dgemm call). */
static void deltas_below(const double *delta, size_t b, const double *theta, size_t rows, size_t cols, double *below)
{
    for (size_t i = 0; i < b; i++) {
        const double *d = delta + i * rows;
        double *out = below + i * cols;
        for (size_t c = 0; c < cols; c++)
            out[c] = 0.0;
        for (size_t r = 0; r < rows; r++) {
            const double *w = theta + r * (cols + 1) + 1;
            for (size_t c = 0; c < cols; c++)
                out[c] += d[r] * w[c];
        }
    }
}

/* delta_l = (delta_{l+1} Theta_{l+1}[:, 1:]) .* a_l (1 - a_l), and
 * block_grad_l (+)= delta_l^T [1, A_{l-1}] for l = L..1; fresh starts the
 * partial sum over, else the block adds to it. */
static void backward_block(const galann_net_view *net, const evaluation_task *t, worker_space *w, const double *x,
                           size_t ldx, size_t b, int fresh)
{
    size_t L = net->n_layers - 1;
    for (size_t l = L; l >= 1; l--) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        double *delta = w->deltas + t->unit_offsets[l];
        const double *in = l == 1 ? x : w->activations + t->unit_offsets[l - 1];
        size_t ld_in = l == 1 ? ldx : cols;
        double *grad = w->block_grad + t->offsets[l];
        const galann_narrow_kernels *narrow = narrow_for(t->state, rows);
        /* delta_l^T (s_l x b) first for dgemm: see the file comment */
        double *delta_t = w->delta_t;
        for (size_t r = 0; r < rows; r++) {
            double bias = 0.0;
            for (size_t i = 0; i < b; i++) {
                if (!narrow)
                    delta_t[r * b + i] = delta[i * rows + r];
                bias += delta[i * rows + r];
            }
            grad[r * (cols + 1)] = fresh ? bias : grad[r * (cols + 1)] + bias;
        }
        if (narrow)
            narrow->gradient(in, ld_in, b, delta, rows, cols, grad, fresh);
        else
            t->dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)cols, (int)b, 1.0, delta_t, (int)b,
                     in, (int)ld_in, fresh ? 0.0 : 1.0, grad + 1, (int)(cols + 1));
        if (l == 1)
            break;
        double *below = w->deltas + t->unit_offsets[l - 1];
        const double *a_below = w->activations + t->unit_offsets[l - 1];
        const double *theta = net->theta + t->offsets[l];
        if (narrow)
            deltas_below(delta, b, theta, rows, cols, below);
        else
            t->dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)cols, (int)rows, 1.0, delta,
                     (int)rows, theta + 1, (int)(cols + 1), 0.0, below, (int)cols);
        for (size_t e = 0; e < b * cols; e++)
            below[e] *= a_below[e] * (1.0 - a_below[e]);
    }
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One chunk's partial sums, in block order, into the worker's
 * accumulator. */
static void evaluate_chunk(const evaluation_task *t, worker_space *w, galann_exact_sum *sums, size_t first,
                           size_t last)
{
    const galann_eval_request *req = t->req;
    size_t n = req->data.n, n_params = req->net.n_params;
    const double *stored = galann_data_view_f64(&req->data);
    w->chunk_cost = 0.0;
    for (size_t i = first; i < last; i += t->block) {
        size_t b = last - i < t->block ? last - i : t->block;
        if (t->state->single) {
            galann_blas_block_single(t, w, i, b, i == first);
            continue;
        }
        const double *x = stored ? stored + i * n : w->inputs;
        if (t->u8_by_arithmetic)
            t->state->narrow->u8_rows((const uint8_t *)req->data.features + i * n, b * n, req->data.divisor,
                                      w->inputs);
        else if (!stored)
            galann_data_view_rows(&req->data, i, b, w->inputs);
        forward_block(&req->net, t, w, x, n, b);
        score_block(req, t, w, i, b);
        if (req->gradient_wanted)
            backward_block(&req->net, t, w, x, n, b, i == first);
    }
    if (!req->sums || w->status != GALANN_OK)
        return;
    double start = t->state->profiling ? now_seconds() : 0.0;
    if (req->gradient_wanted)
        w->status = galann_exact_sum_add(sums, 0, w->block_grad, n_params);
    if (req->cost_wanted && w->status == GALANN_OK)
        w->status = galann_exact_sum_add(sums, n_params, &w->chunk_cost, 1);
    if (t->state->profiling)
        w->combine_seconds += now_seconds() - start;
}

static void merge_share(evaluation_task *t, int worker, int n_workers);

/* Once every worker has added its chunks, each merges and rounds its slice
 * of the sums. Waiting here, yielding the CPU, instead of in a second
 * parallel run saves waking every worker again: tens of microseconds on an
 * idle machine, milliseconds on a loaded one, against an evaluation of
 * about a millisecond. Worker 0's merge time counts as combination time. */
static void finish_sums(evaluation_task *t, int worker, int n_workers)
{
    atomic_fetch_add(&t->workers_done, 1);
    while (atomic_load(&t->workers_done) < n_workers)
        sched_yield();
    worker_space *w = &t->state->workers[worker];
    double start = worker == 0 && t->state->profiling ? now_seconds() : 0.0;
    merge_share(t, worker, n_workers);
    if (worker == 0 && t->state->profiling)
        w->combine_seconds += now_seconds() - start;
}

/* Worker w runs chunks [C w / T, C (w + 1) / T): which worker runs a chunk
 * changes nothing in its sums. */
static void evaluate_share(void *arg, int worker, int n_workers)
{
    evaluation_task *t = arg;
    const galann_eval_request *req = t->req;
    worker_space *w = &t->state->workers[worker];
    size_t m = req->data.m;
    size_t chunks = (m + GALANN_SUM_CHUNK - 1) / GALANN_SUM_CHUNK;
    size_t first = chunks * (size_t)worker / (size_t)n_workers;
    size_t last = chunks * (size_t)(worker + 1) / (size_t)n_workers;
    w->correct = 0;
    w->status = GALANN_OK;
    /* worker 0 adds straight into the core's (cleared) accumulator: one
     * thread never merges */
    galann_exact_sum *sums = worker == 0 ? req->sums : w->sums;
    if (req->sums && worker != 0)
        galann_exact_sum_clear(sums);
    for (size_t c = first; c < last; c++) {
        size_t begin = c * GALANN_SUM_CHUNK;
        size_t end = begin + GALANN_SUM_CHUNK < m ? begin + GALANN_SUM_CHUNK : m;
        evaluate_chunk(t, w, sums, begin, end);
    }
    if (req->sums && (n_workers > 1 || req->rounded))
        finish_sums(t, worker, n_workers);
}

/* The other workers' accumulators into the core's, exactly, then (when
 * the core asks) rounded: worker w does its slice of the sums, so both
 * run in parallel. */
static void merge_share(evaluation_task *t, int worker, int n_workers)
{
    const galann_eval_request *req = t->req;
    galann_exact_sum *into = req->sums;
    size_t n = galann_exact_sum_count(into);
    size_t first = n * (size_t)worker / (size_t)n_workers;
    size_t last = n * (size_t)(worker + 1) / (size_t)n_workers;
    worker_space *mine = &t->state->workers[worker];
    for (int i = 1; i < t->state->threads && mine->status == GALANN_OK; i++)
        mine->status = galann_exact_sum_merge(into, t->state->workers[i].sums, first, last - first);
    if (!req->rounded || mine->status != GALANN_OK || last == first)
        return;
    galann_exact_sum_round(into, first, last - first, req->rounded + first);
}

static void free_workers(blas_state *s)
{
    if (!s->workers)
        return;
    for (int i = 0; i < s->threads; i++) {
        galann_exact_sum_free(s->workers[i].sums);
        free(s->workers[i].block_grad);
        free(s->workers[i].activations);
        free(s->workers[i].deltas);
        free(s->workers[i].delta_t);
        free(s->workers[i].inputs);
        free(s->workers[i].narrow_scratch);
        free(s->workers[i].inputs_f);
        free(s->workers[i].activations_f);
        free(s->workers[i].deltas_f);
        free(s->workers[i].delta_t_f);
        free(s->workers[i].grad_f);
    }
    free(s->workers);
    s->workers = NULL;
    s->grad_capacity = 0;
    s->unit_capacity = 0;
    s->input_capacity = 0;
    s->scratch_capacity = 0;
    s->single_inputs = s->single_units = s->single_widest = 0;
}

/* Grow the per-worker buffers to fit this network; allocation happens
 * here, never inside the sample loop. */
/* Room for a block of inputs converted to doubles (datasets stored as u8
 * or f32): block x n per worker, kept across evaluations. */
static int reserve_inputs(blas_state *s, size_t values)
{
    if (values <= s->input_capacity)
        return GALANN_OK;
    for (int i = 0; i < s->threads; i++) {
        free(s->workers[i].inputs);
        s->workers[i].inputs = malloc(values * sizeof(double));
        if (!s->workers[i].inputs) {
            free_workers(s);
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for a block of inputs");
        }
    }
    s->input_capacity = values;
    return GALANN_OK;
}

/* Room for narrow.c's partial sums of a block (double precision on a
 * CPU with AVX-512), kept across evaluations. */
static int reserve_scratch(blas_state *s, size_t block)
{
    size_t bytes = s->narrow->scratch_bytes(block);
    if (bytes <= s->scratch_capacity)
        return GALANN_OK;
    for (int i = 0; i < s->threads; i++) {
        free(s->workers[i].narrow_scratch);
        s->workers[i].narrow_scratch = aligned_alloc(64, bytes);
        if (!s->workers[i].narrow_scratch) {
            free_workers(s);
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for a block's partial sums");
        }
    }
    s->scratch_capacity = bytes;
    return GALANN_OK;
}

/* Single precision's float buffers, sized for this evaluation (they are
 * small: a block of inputs and activations, one layer's gradient). */
static int reserve_single(blas_state *s, size_t inputs, size_t units, size_t widest)
{
    if (inputs <= s->single_inputs && units <= s->single_units && widest <= s->single_widest)
        return GALANN_OK;
    for (int i = 0; i < s->threads; i++) {
        worker_space *w = &s->workers[i];
        free(w->inputs_f);
        free(w->activations_f);
        free(w->deltas_f);
        free(w->delta_t_f);
        free(w->grad_f);
        w->inputs_f = malloc(inputs * sizeof(float));
        w->activations_f = malloc(units * sizeof(float));
        w->deltas_f = malloc(units * sizeof(float));
        w->delta_t_f = malloc(units * sizeof(float));
        w->grad_f = malloc(widest * sizeof(float));
        if (!w->inputs_f || !w->activations_f || !w->deltas_f || !w->delta_t_f || !w->grad_f) {
            free_workers(s);
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for single precision work space");
        }
    }
    s->single_inputs = inputs;
    s->single_units = units;
    s->single_widest = widest;
    return GALANN_OK;
}

/* theta and the transposed weights as floats, once per evaluation. */
static int prepare_single_weights(blas_state *s, evaluation_task *t)
{
    const galann_net_view *net = &t->req->net;
    if (s->weights_f_capacity < 2 * net->n_params) {
        float *bigger = realloc(s->weights_f, 2 * net->n_params * sizeof *bigger);
        if (!bigger)
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for weights");
        s->weights_f = bigger;
        s->weights_f_capacity = 2 * net->n_params;
    }
    for (size_t i = 0; i < net->n_params; i++)
        s->weights_f[i] = (float)net->theta[i];
    for (size_t i = 0; i < net->n_params; i++)
        s->weights_f[net->n_params + i] = (float)s->weights_t[i];
    t->theta_f = s->weights_f;
    t->weights_t_f = s->weights_f + net->n_params;
    return GALANN_OK;
}

static int reserve_workers(blas_state *s, size_t n_params, size_t units)
{
    if (!s->workers) {
        s->workers = calloc((size_t)s->threads, sizeof *s->workers);
        if (!s->workers)
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory");
    }
    /* the accumulators hold exactly n_params + 1 sums: any change of
     * network reallocates */
    if (n_params == s->grad_capacity && units <= s->unit_capacity)
        return GALANN_OK;
    size_t g = n_params;
    size_t u = units > s->unit_capacity ? units : s->unit_capacity;
    for (int i = 0; i < s->threads; i++) {
        worker_space *w = &s->workers[i];
        galann_exact_sum_free(w->sums);
        w->sums = NULL;
        free(w->block_grad);
        free(w->activations);
        free(w->deltas);
        free(w->delta_t);
        w->block_grad = malloc(g * sizeof *w->block_grad);
        w->activations = malloc(u * sizeof(double));
        w->deltas = malloc(u * sizeof(double));
        w->delta_t = malloc(u * sizeof(double));
        if (galann_exact_sum_new(g + 1, &w->sums) != GALANN_OK || !w->block_grad || !w->activations || !w->deltas ||
            !w->delta_t) {
            free_workers(s);
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for work space");
        }
    }
    s->grad_capacity = g;
    s->unit_capacity = u;
    return GALANN_OK;
}

static size_t choose_block(const galann_net_view *net)
{
    size_t widest = 1;
    for (size_t l = 1; l < net->n_layers; l++) {
        size_t product = net->sizes[l] * net->sizes[l - 1];
        if (product > widest)
            widest = product;
    }
    size_t block = OPENBLAS_SERIAL_PRODUCT / widest;
    return block < MIN_BLOCK ? MIN_BLOCK : (block > MAX_BLOCK ? MAX_BLOCK : block);
}

/* The status of the first worker that failed (its message is in that
 * worker's thread: the generic one here is what the caller sees). */
static int first_failure(const blas_state *s)
{
    for (int i = 0; i < s->threads; i++) {
        if (s->workers[i].status != GALANN_OK)
            return galann_error_set(s->workers[i].status, "blas backend: out of memory for exact sums");
    }
    return GALANN_OK;
}

static int blas_evaluate(void *state, const galann_eval_request *req)
{
    blas_state *s = state;
    const galann_net_view *net = &req->net;
    if (net->n_layers > MAX_LAYERS)
        return galann_error_set(GALANN_ERR_INVALID, "blas backend: at most %d layers, got %zu", MAX_LAYERS,
                                net->n_layers);
    if (req->data.n > (size_t)0x7fffffff || net->n_params > (size_t)0x7fffffff)
        return galann_error_set(GALANN_ERR_DIMENSION, "blas backend: sizes exceed CBLAS's int range");
    evaluation_task t;
    t.state = s;
    t.req = req;
    t.dgemm = s->dgemm;
    t.block = choose_block(net);
    t.u8_by_arithmetic = !s->single && s->narrow && req->data.storage == GALANN_STORAGE_U8 &&
                         s->narrow->u8_exact(req->data.u8_values, req->data.divisor);
    size_t params = 0, units = 0;
    t.offsets[0] = 0;
    t.unit_offsets[0] = 0;
    for (size_t l = 1; l < net->n_layers; l++) {
        t.offsets[l] = params;
        t.unit_offsets[l] = units * t.block;
        params += net->sizes[l] * (net->sizes[l - 1] + 1);
        units += net->sizes[l];
    }
    size_t widest = 0;
    for (size_t l = 1; l < net->n_layers; l++)
        widest = net->sizes[l] * net->sizes[l - 1] > widest ? net->sizes[l] * net->sizes[l - 1] : widest;
    int status = reserve_workers(s, net->n_params, units * t.block);
    if (status == GALANN_OK && !s->single && !galann_data_view_f64(&req->data))
        status = reserve_inputs(s, t.block * req->data.n);
    if (status == GALANN_OK && !s->single && s->narrow)
        status = reserve_scratch(s, t.block);
    if (status == GALANN_OK && s->single)
        status = reserve_single(s, t.block * req->data.n, units * t.block, widest);
    if (status != GALANN_OK)
        return status;
    /* The weights transposed, once per evaluation: the forward products
     * then have no transposed operand, which OpenBLAS's small-matrix
     * kernels run faster. */
    if (s->weights_t_capacity < net->n_params) {
        double *bigger = realloc(s->weights_t, net->n_params * sizeof *bigger);
        if (!bigger)
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for weights");
        s->weights_t = bigger;
        s->weights_t_capacity = net->n_params;
    }
    size_t wt = 0;
    for (size_t l = 1; l < net->n_layers; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        const double *theta = net->theta + t.offsets[l];
        t.weight_offsets[l] = wt;
        for (size_t j = 0; j < cols; j++) {
            for (size_t r = 0; r < rows; r++)
                s->weights_t[wt + j * rows + r] = theta[r * (cols + 1) + j + 1];
        }
        wt += rows * cols;
    }
    t.weights_t = s->weights_t;
    t.theta_f = NULL;
    t.weights_t_f = NULL;
    if (s->single) {
        status = prepare_single_weights(s, &t);
        if (status != GALANN_OK)
            return status;
    }

    atomic_init(&t.workers_done, 0);
    thread_pool_run(s->pool, evaluate_share, &t);
    if (s->profiling) {
        s->combine_seconds += s->workers[0].combine_seconds;
        s->workers[0].combine_seconds = 0.0;
    }
    status = first_failure(s);
    if (status != GALANN_OK)
        return status;
    if (req->n_correct) {
        size_t correct = 0;
        for (int i = 0; i < s->threads; i++)
            correct += s->workers[i].correct;
        *req->n_correct = correct;
    }
    return GALANN_OK;
}

static int blas_set_threads(void *state, int threads)
{
    blas_state *s = state;
    thread_pool *pool;
    int status = thread_pool_new(threads, &pool);
    if (status != GALANN_OK)
        return status;
    free_workers(s);
    thread_pool_free(s->pool);
    s->pool = pool;
    s->threads = threads;
    return GALANN_OK;
}

/* Whether CBLAS can be loaded (the first call that succeeds loads it, for
 * good): "best available" falls back to reference when it cannot. */
static int blas_probe(void)
{
    galann_cblas cblas;
    return galann_cblas_load(&cblas);
}

static int blas_create(const galann_backend_config *cfg, void **state)
{
    galann_cblas cblas;
    int status = galann_cblas_load(&cblas);
    if (status != GALANN_OK)
        return status;
    blas_state *s = calloc(1, sizeof *s);
    if (!s)
        return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory");
    s->dgemm = cblas.dgemm;
    s->sgemm = cblas.sgemm;
    s->narrow = galann_blas_narrow_kernels();
    /* a CPU has double precision: "any" means double */
    s->single = cfg->precision == GALANN_PRECISION_SINGLE;
    status = thread_pool_new(cfg->threads, &s->pool);
    if (status != GALANN_OK) {
        free(s);
        return status;
    }
    s->threads = cfg->threads;
    s->profiling = cfg->profile;
    *state = s;
    return GALANN_OK;
}

static void blas_destroy(void *state)
{
    blas_state *s = state;
    if (!s)
        return;
    free_workers(s);
    thread_pool_free(s->pool);
    free(s->weights_t);
    free(s->weights_f);
    free(s);
}

static int blas_describe(void *state, char *buf, size_t size)
{
    blas_state *s = state;
    snprintf(buf, size, "blas: CBLAS, %d thread%s%s", s->threads, s->threads == 1 ? "" : "s",
             s->single ? ", single precision" : "");
    return GALANN_OK;
}

static int blas_precision(void *state)
{
    const blas_state *s = state;
    return s->single ? GALANN_PRECISION_SINGLE : GALANN_PRECISION_DOUBLE;
}

static void blas_profile(void *state, galann_profile *out)
{
    const blas_state *s = state;
    out->combine_seconds += s->combine_seconds;
}

const galann_backend_ops galann_blas_backend = {
    .name = "blas",
    .exact_sums = 1,
    .probe = blas_probe,
    .create = blas_create,
    .destroy = blas_destroy,
    .evaluate = blas_evaluate,
    .set_threads = blas_set_threads,
    .describe = blas_describe,
    .device_count = galann_host_cpu_device_count,
    .device_get = galann_host_cpu_device,
    .profile = blas_profile,
    .precision = blas_precision,
};
