/*
 * opencl.c -- the opencl backend: the batched matrix form on any OpenCL
 * device with double precision, through the kernels of kernels.cl.
 *
 * A dataset goes to the device once per (dataset, context): its attachment
 * holds X and y there. Each evaluation uploads only the weights, runs the
 * kernels in one in-order queue and reads back what was asked for: the
 * reduced cost, correct count and gradient (one read), and the output
 * activations. The work buffers (activations, deltas, per-chunk partial
 * sums) belong to the context and only grow.
 *
 * Determinism: the samples are cut into chunks by a rule that depends only
 * on m and the number of parameters, every chunk's sums are formed in a
 * fixed order on the device, and the chunks are added in index order, so
 * the same inputs give the same bits on the same device, whether the cost,
 * the gradient or both are asked for.
 *
 * Timing: with profiling on (galann_context_options.profile or
 * GALANN_PROFILE=1 when the context is created) the queue records event
 * times; galann_context_profile reports the time spent uploading weights,
 * in kernels and downloading results (and the one-off dataset uploads),
 * and describe() appends the same per evaluation.
 *
 * Not here: device enumeration (devices.c), program building and its
 * cache (program.c), the lambda term (the core).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "devices.h"
#include "host_guard.h"
#include "program.h"
#include "opencl_kernels.h"

/* Deeper networks are refused rather than given per-call tables. */
#define MAX_LAYERS 64

/* Samples per chunk of the gradient and cost reductions: at least
 * MIN_CHUNK (a work-group's worth of samples for score_output, and enough
 * work per group for gradient_partial), at most MAX_CHUNKS chunks (enough
 * groups to fill a GPU beside the feature tiles), and partial sums of at
 * most PARTIALS_BUDGET bytes. */
#define MIN_CHUNK 128
#define MAX_CHUNKS 256
#define PARTIALS_BUDGET ((size_t)64 << 20)

/* The reduced results start with the cost and the correct count, then the
 * gradient in parameter-vector order. */
#define SLOT_COST 0
#define SLOT_CORRECT 1
#define SCORE_SLOTS 2

/* Units of the narrow side per work-item in forward_layer and
 * gradient_partial (RB in kernels.cl): the galaxy network's hidden layer. */
#define UNITS_PER_ITEM 8

/* Chunks are whole steps of gradient_partial's staging (ST in kernels.cl). */
#define CHUNK_ALIGN 16

/* Sizes the kernels index with 32-bit integers. */
#define MAX_KERNEL_SIZE ((size_t)1 << 30)

/* Work-items per group of reduce_partials (any size works: one item per
 * entry, no local memory). */
#define REDUCE_GROUP 64

enum { K_FORWARD, K_FORWARD_TILED, K_SCORE, K_BACKWARD, K_GRADIENT, K_REDUCE, N_KERNELS };

static const char *const kernel_names[N_KERNELS] = {
    "forward_layer", "forward_tiled", "score_output", "backward_layer", "gradient_partial", "reduce_partials",
};

/* forward_tiled instead of forward_layer when the latter would have fewer
 * work-groups than this many per compute unit. */
#define MIN_GROUPS_PER_UNIT 4

/* Profile timers: one per kernel (indexed like kernel_names), then the
 * transfers. */
enum { T_DATASET = N_KERNELS, T_UPLOAD, T_DOWNLOAD, N_TIMERS };

/* Commands of one evaluation, at most: the weights, L forward layers, the
 * score, L gradient partials, L-1 backward layers, the reduction, 2 reads. */
#define MAX_EVENTS (3 * MAX_LAYERS + 8)

typedef struct device_buffer {
    cl_mem mem;
    size_t capacity;  /* bytes */
} device_buffer;

typedef struct opencl_state {
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernels[N_KERNELS];
    size_t tile;       /* TILE the program was built with: backward_layer's groups are tile x tile */
    size_t line;       /* LINE: the 1-D groups of forward_layer, gradient_partial, score_output */
    cl_ulong max_alloc;
    cl_uint compute_units;
    char device_name[OCL_NAME_CAPACITY];
    char platform_name[OCL_NAME_CAPACITY];
    char driver_version[OCL_NAME_CAPACITY];
    int from_cache;    /* the program came from the binary cache */
    /* work space, grown as needed */
    device_buffer theta, act, delta, partials, result;
    double *staging;
    size_t staging_capacity;  /* doubles */
    /* profiling (galann_context_options.profile) */
    int profiling;
    uint64_t evaluations, dataset_uploads;
    double seconds[N_TIMERS];
    /* kinds of request (request_kind) already run once inside a host guard */
    unsigned guarded_kinds;
} opencl_state;

/* A dataset on the device. */
typedef struct opencl_dataset {
    cl_mem x;  /* m x n doubles, row-major */
    cl_mem y;  /* m ints */
    size_t m, n, k;
} opencl_dataset;

/* The commands of one call whose times are recorded when profiling. */
typedef struct event_log {
    int enabled;
    size_t count;
    cl_event events[MAX_EVENTS];
    int timers[MAX_EVENTS];
} event_log;

static int cl_failure(cl_int err, const char *what)
{
    int status = (err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE) ? GALANN_ERR_NOMEM
                                                                                           : GALANN_ERR_BACKEND;
    return galann_error_set(status, "opencl: %s: %s (%d)", what, ocl_error_name(err), (int)err);
}

/* Where an enqueue should leave its event: NULL unless profiling. */
static cl_event *event_slot(event_log *log, int timer)
{
    if (!log->enabled || log->count == MAX_EVENTS)
        return NULL;
    log->timers[log->count] = timer;
    log->events[log->count] = NULL;
    return &log->events[log->count++];
}

/* Add the recorded times (the queue has finished) and release the events. */
static void event_log_close(event_log *log, opencl_state *s, int add_times)
{
    for (size_t i = 0; i < log->count; i++) {
        cl_event e = log->events[i];
        if (!e)
            continue;
        cl_ulong start = 0, end = 0;
        if (add_times && clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) ==
                             CL_SUCCESS &&
            clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) == CL_SUCCESS &&
            end >= start)
            s->seconds[log->timers[i]] += 1e-9 * (double)(end - start);
        clReleaseEvent(e);
    }
    log->count = 0;
}

/* Kernel arguments in order; the first failure is kept. */
typedef struct kernel_args {
    cl_kernel kernel;
    cl_uint index;
    cl_int err;
} kernel_args;

static void arg_set(kernel_args *a, size_t size, const void *value)
{
    if (a->err == CL_SUCCESS)
        a->err = clSetKernelArg(a->kernel, a->index, size, value);
    a->index++;
}

static void arg_mem(kernel_args *a, cl_mem v)
{
    arg_set(a, sizeof v, &v);
}

static void arg_ulong(kernel_args *a, size_t v)
{
    cl_ulong u = (cl_ulong)v;
    arg_set(a, sizeof u, &u);
}

static void arg_uint(kernel_args *a, size_t v)
{
    cl_uint u = (cl_uint)v;
    arg_set(a, sizeof u, &u);
}

static void arg_int(kernel_args *a, int v)
{
    cl_int i = v;
    arg_set(a, sizeof i, &i);
}

static size_t round_up(size_t v, size_t multiple)
{
    return (v + multiple - 1) / multiple * multiple;
}

static int run_kernel(opencl_state *s, event_log *log, int which, const kernel_args *args, cl_uint dims,
                      const size_t *global, const size_t *local)
{
    char what[64];
    if (args->err != CL_SUCCESS) {
        snprintf(what, sizeof what, "clSetKernelArg(%s, %u)", kernel_names[which], (unsigned)args->index - 1);
        return cl_failure(args->err, what);
    }
    cl_int err = clEnqueueNDRangeKernel(s->queue, s->kernels[which], dims, NULL, global, local, 0, NULL,
                                        event_slot(log, which));
    if (err != CL_SUCCESS) {
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", kernel_names[which]);
        return cl_failure(err, what);
    }
    return GALANN_OK;
}

/* Make b hold at least bytes; its old contents are not kept. */
static int reserve(opencl_state *s, device_buffer *b, size_t bytes, cl_mem_flags flags, const char *what)
{
    if (bytes <= b->capacity)
        return GALANN_OK;
    if (bytes > s->max_alloc)
        return galann_error_set(GALANN_ERR_NOMEM, "opencl: the %s need %zu bytes, %s allows %llu in one buffer",
                                what, bytes, s->device_name, (unsigned long long)s->max_alloc);
    cl_int err;
    cl_mem mem = clCreateBuffer(s->context, flags, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        char where[64];
        snprintf(where, sizeof where, "clCreateBuffer(%s)", what);
        return cl_failure(err, where);
    }
    if (b->mem)
        clReleaseMemObject(b->mem);
    b->mem = mem;
    b->capacity = bytes;
    return GALANN_OK;
}

static void release_buffer(device_buffer *b)
{
    if (b->mem)
        clReleaseMemObject(b->mem);
    b->mem = NULL;
    b->capacity = 0;
}

/* ------------------------------------------------------------- datasets */

static void opencl_release_dataset(void *state, void *attachment)
{
    (void)state;
    opencl_dataset *ds = attachment;
    if (!ds)
        return;
    if (ds->x)
        clReleaseMemObject(ds->x);
    if (ds->y)
        clReleaseMemObject(ds->y);
    free(ds);
}

/* The features as doubles into buf: f64 data as it is; u8 or f32 data a
 * block of rows at a time through a host staging buffer (blocking writes,
 * so the buffer can be reused), never as a whole double copy on the host. */
#define UPLOAD_ROWS 1024
static cl_int upload_features(opencl_state *s, cl_mem buf, const galann_data_view *data, event_log *log)
{
    const double *x = galann_data_view_f64(data);
    if (x)
        return clEnqueueWriteBuffer(s->queue, buf, CL_FALSE, 0, data->m * data->n * sizeof(double), x, 0, NULL,
                                    event_slot(log, T_DATASET));
    size_t rows = data->m < UPLOAD_ROWS ? data->m : UPLOAD_ROWS;
    double *staging = malloc(rows * data->n * sizeof *staging);
    if (!staging)
        return CL_OUT_OF_HOST_MEMORY;
    cl_int err = CL_SUCCESS;
    for (size_t first = 0; first < data->m && err == CL_SUCCESS; first += rows) {
        size_t count = data->m - first < rows ? data->m - first : rows;
        galann_data_view_rows(data, first, count, staging);
        err = clEnqueueWriteBuffer(s->queue, buf, CL_TRUE, first * data->n * sizeof(double),
                                   count * data->n * sizeof(double), staging, 0, NULL, NULL);
    }
    free(staging);
    return err;
}

static int opencl_prepare_dataset(void *state, const galann_data_view *data, void **attachment)
{
    opencl_state *s = state;
    opencl_dataset *ds = NULL;
    event_log log;
    log.enabled = s->profiling;
    log.count = 0;
    int status;
    cl_int err;
    *attachment = NULL;

    if (data->m == 0 || data->m > MAX_KERNEL_SIZE || data->n > MAX_KERNEL_SIZE ||
        data->n > SIZE_MAX / sizeof(double) / data->m) {
        status = galann_error_set(GALANN_ERR_DIMENSION, "opencl: a dataset of %zu x %zu is empty or too large", data->m,
                                  data->n);
        goto fail;
    }
    size_t x_bytes = data->m * data->n * sizeof(double), y_bytes = data->m * sizeof(cl_int);
    if (x_bytes > s->max_alloc) {
        status = galann_error_set(GALANN_ERR_NOMEM, "opencl: the dataset needs %zu bytes, %s allows %llu in one buffer",
                                  x_bytes, s->device_name, (unsigned long long)s->max_alloc);
        goto fail;
    }
    ds = calloc(1, sizeof *ds);
    if (!ds) {
        status = galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory for a dataset attachment");
        goto fail;
    }
    ds->m = data->m;
    ds->n = data->n;
    ds->k = data->k;
    ds->x = clCreateBuffer(s->context, CL_MEM_READ_ONLY, x_bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "clCreateBuffer(dataset features)");
        goto fail;
    }
    ds->y = clCreateBuffer(s->context, CL_MEM_READ_ONLY, y_bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "clCreateBuffer(dataset labels)");
        goto fail;
    }
    err = upload_features(s, ds->x, data, &log);
    if (err == CL_SUCCESS)
        err = clEnqueueWriteBuffer(s->queue, ds->y, CL_FALSE, 0, y_bytes, data->y, 0, NULL,
                                   event_slot(&log, T_DATASET));
    /* Always wait: the queue must not read data->x after we return. */
    cl_int finished = clFinish(s->queue);
    if (err == CL_SUCCESS)
        err = finished;
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "uploading a dataset");
        goto fail;
    }
    event_log_close(&log, s, 1);
    s->dataset_uploads++;
    *attachment = ds;
    return GALANN_OK;

fail:
    event_log_close(&log, s, 0);
    opencl_release_dataset(s, ds);
    return status;
}

/* ----------------------------------------------------------- evaluation */

/* Where things are: layer l's weights in theta, its units in the
 * activation and delta buffers (m x s_l row-major, layer after layer). */
typedef struct layout {
    size_t L;
    size_t param_off[MAX_LAYERS];
    size_t unit_off[MAX_LAYERS];
    size_t units;       /* sum of s_l, l >= 1 */
    size_t stride;      /* SCORE_SLOTS + n_params: one chunk's partial sums */
    size_t chunk;       /* samples per chunk, a multiple of the tile */
    size_t n_chunks;
} layout;

static int plan(const galann_net_view *net, size_t m, layout *p)
{
    if (net->n_layers < 2 || net->n_layers > MAX_LAYERS)
        return galann_error_set(GALANN_ERR_INVALID, "opencl: 2..%d layers, got %zu", MAX_LAYERS, net->n_layers);
    if (m > MAX_KERNEL_SIZE || net->n_params > MAX_KERNEL_SIZE)
        return galann_error_set(GALANN_ERR_DIMENSION, "opencl: %zu samples or %zu parameters exceed the kernels' "
                                "range", m, net->n_params);
    p->L = net->n_layers - 1;
    size_t params = 0, units = 0;
    for (size_t l = 1; l <= p->L; l++) {
        if (net->sizes[l] > MAX_KERNEL_SIZE || net->sizes[l - 1] > MAX_KERNEL_SIZE)
            return galann_error_set(GALANN_ERR_DIMENSION, "opencl: layer %zu is too wide", l);
        p->param_off[l] = params;
        p->unit_off[l] = units;  /* in samples x units; scaled by m below */
        params += net->sizes[l] * (net->sizes[l - 1] + 1);
        units += net->sizes[l];
    }
    if (units > SIZE_MAX / sizeof(double) / m)
        return galann_error_set(GALANN_ERR_NOMEM, "opencl: %zu samples x %zu units overflow", m, units);
    for (size_t l = 1; l <= p->L; l++)
        p->unit_off[l] *= m;
    p->units = units;
    p->stride = SCORE_SLOTS + net->n_params;

    /* The chunking depends on m and the parameter count only, never on
     * what was asked for: the cost has the same bits with or without the
     * gradient. */
    size_t chunk = (m + MAX_CHUNKS - 1) / MAX_CHUNKS;
    if (chunk < MIN_CHUNK)
        chunk = MIN_CHUNK;
    size_t max_chunks = PARTIALS_BUDGET / (p->stride * sizeof(double));
    if (max_chunks < 1)
        max_chunks = 1;
    if ((m + chunk - 1) / chunk > max_chunks)
        chunk = (m + max_chunks - 1) / max_chunks;
    p->chunk = round_up(chunk, CHUNK_ALIGN);
    p->n_chunks = (m + p->chunk - 1) / p->chunk;
    return GALANN_OK;
}

static int reserve_work_space(opencl_state *s, const layout *p, size_t m, int need_score)
{
    int status = reserve(s, &s->theta, (p->stride - SCORE_SLOTS) * sizeof(double), CL_MEM_READ_ONLY, "weights");
    if (status == GALANN_OK)
        status = reserve(s, &s->act, m * p->units * sizeof(double), CL_MEM_READ_WRITE, "activations");
    if (status == GALANN_OK)
        status = reserve(s, &s->delta, m * p->units * sizeof(double), CL_MEM_READ_WRITE, "deltas");
    if (status == GALANN_OK && need_score)
        status = reserve(s, &s->partials, p->n_chunks * p->stride * sizeof(double), CL_MEM_READ_WRITE,
                         "partial sums");
    if (status == GALANN_OK && need_score)
        status = reserve(s, &s->result, p->stride * sizeof(double), CL_MEM_READ_WRITE, "results");
    if (status != GALANN_OK || !need_score || p->stride <= s->staging_capacity)
        return status;
    double *staging = malloc(p->stride * sizeof *staging);
    if (!staging)
        return galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory for %zu results", p->stride);
    free(s->staging);
    s->staging = staging;
    s->staging_capacity = p->stride;
    return GALANN_OK;
}

/* A_l = g([1, A_{l-1}] Theta_l^T), l = 1..L; z_L is kept in the delta
 * buffer for the stable cost. forward_layer unless it would leave the
 * device's compute units short of work-groups (few samples on a GPU):
 * then forward_tiled, which gives the same bits. */
static int enqueue_forward(opencl_state *s, event_log *log, const galann_net_view *net, const layout *p,
                           const opencl_dataset *ds)
{
    for (size_t l = 1; l <= p->L; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        size_t global[2] = { round_up(ds->m, s->line), (rows + UNITS_PER_ITEM - 1) / UNITS_PER_ITEM };
        size_t local[2] = { s->line, 1 };
        int which = K_FORWARD;
        if (global[0] / s->line * global[1] < MIN_GROUPS_PER_UNIT * (size_t)s->compute_units) {
            which = K_FORWARD_TILED;
            global[0] = round_up(rows, s->tile);
            global[1] = round_up(ds->m, s->tile);
            local[0] = local[1] = s->tile;
        }
        kernel_args a = { s->kernels[which], 0, CL_SUCCESS };
        arg_mem(&a, l == 1 ? ds->x : s->act.mem);
        arg_ulong(&a, l == 1 ? 0 : p->unit_off[l - 1]);
        arg_uint(&a, cols);
        arg_mem(&a, s->theta.mem);
        arg_ulong(&a, p->param_off[l]);
        arg_uint(&a, rows);
        arg_uint(&a, ds->m);
        arg_mem(&a, s->act.mem);
        arg_ulong(&a, p->unit_off[l]);
        arg_mem(&a, s->delta.mem);
        arg_ulong(&a, p->unit_off[l]);
        arg_int(&a, l == p->L);
        int status = run_kernel(s, log, which, &a, 2, global, local);
        if (status != GALANN_OK)
            return status;
    }
    return GALANN_OK;
}

/* Per-chunk cost and correct count; delta_L = a_L - y when the gradient
 * follows. */
static int enqueue_score(opencl_state *s, event_log *log, const layout *p, const opencl_dataset *ds, int want_delta)
{
    kernel_args a = { s->kernels[K_SCORE], 0, CL_SUCCESS };
    arg_mem(&a, s->delta.mem);
    arg_ulong(&a, p->unit_off[p->L]);
    arg_mem(&a, s->act.mem);
    arg_ulong(&a, p->unit_off[p->L]);
    arg_mem(&a, ds->y);
    arg_uint(&a, ds->m);
    arg_uint(&a, ds->k);
    arg_uint(&a, p->chunk);
    arg_mem(&a, s->partials.mem);
    arg_ulong(&a, p->stride);
    arg_ulong(&a, SLOT_COST);
    arg_int(&a, want_delta);
    size_t group = s->line, global = p->n_chunks * group;
    return run_kernel(s, log, K_SCORE, &a, 1, &global, &group);
}

/* For l = L..1: the chunks' partial gradients of layer l, then
 * delta_{l-1} = (delta_l Theta_l[:, 1:]) .* a_{l-1} (1 - a_{l-1}). */
static int enqueue_backward(opencl_state *s, event_log *log, const galann_net_view *net, const layout *p,
                            const opencl_dataset *ds)
{
    for (size_t l = p->L; l >= 1; l--) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        kernel_args a = { s->kernels[K_GRADIENT], 0, CL_SUCCESS };
        arg_mem(&a, s->delta.mem);
        arg_ulong(&a, p->unit_off[l]);
        arg_uint(&a, rows);
        arg_mem(&a, l == 1 ? ds->x : s->act.mem);
        arg_ulong(&a, l == 1 ? 0 : p->unit_off[l - 1]);
        arg_uint(&a, cols);
        arg_uint(&a, ds->m);
        arg_uint(&a, p->chunk);
        arg_mem(&a, s->partials.mem);
        arg_ulong(&a, p->stride);
        arg_ulong(&a, SCORE_SLOTS + p->param_off[l]);
        size_t global[3] = { round_up(cols + 1, s->line), (rows + UNITS_PER_ITEM - 1) / UNITS_PER_ITEM, p->n_chunks };
        size_t local[3] = { s->line, 1, 1 };
        int status = run_kernel(s, log, K_GRADIENT, &a, 3, global, local);
        if (status != GALANN_OK || l == 1)
            return status;

        kernel_args b = { s->kernels[K_BACKWARD], 0, CL_SUCCESS };
        arg_mem(&b, s->delta.mem);
        arg_ulong(&b, p->unit_off[l]);
        arg_uint(&b, rows);
        arg_mem(&b, s->theta.mem);
        arg_ulong(&b, p->param_off[l]);
        arg_uint(&b, cols);
        arg_uint(&b, ds->m);
        arg_mem(&b, s->act.mem);
        arg_ulong(&b, p->unit_off[l - 1]);
        arg_mem(&b, s->delta.mem);
        arg_ulong(&b, p->unit_off[l - 1]);
        size_t global_b[2] = { round_up(cols, s->tile), round_up(ds->m, s->tile) };
        size_t local_b[2] = { s->tile, s->tile };
        status = run_kernel(s, log, K_BACKWARD, &b, 2, global_b, local_b);
        if (status != GALANN_OK)
            return status;
    }
    return GALANN_OK;
}

/* result[p] = sum over chunks of partials[c][p], p < count. */
static int enqueue_reduce(opencl_state *s, event_log *log, const layout *p, size_t count)
{
    kernel_args a = { s->kernels[K_REDUCE], 0, CL_SUCCESS };
    arg_mem(&a, s->partials.mem);
    arg_ulong(&a, p->stride);
    arg_uint(&a, p->n_chunks);
    arg_uint(&a, count);
    arg_mem(&a, s->result.mem);
    size_t local = REDUCE_GROUP, global = round_up(count, REDUCE_GROUP);
    return run_kernel(s, log, K_REDUCE, &a, 1, &global, &local);
}

static int opencl_evaluate(void *state, const galann_eval_request *req)
{
    opencl_state *s = state;
    const galann_net_view *net = &req->net;
    const galann_data_view *data = &req->data;
    opencl_dataset *ds = data->attachment;
    void *temporary = NULL;
    int enqueued = 0, status;
    cl_int err;
    layout p = { 0 };
    event_log log;
    log.enabled = s->profiling;
    log.count = 0;

    status = plan(net, data->m, &p);
    if (status != GALANN_OK)
        goto done;
    if (!ds) {
        /* Without the core's cache: a dataset for this call only. */
        status = opencl_prepare_dataset(s, data, &temporary);
        if (status != GALANN_OK)
            goto done;
        ds = temporary;
    }
    if (ds->m != data->m || ds->n != data->n || ds->k != data->k || net->sizes[0] != ds->n ||
        net->sizes[p.L] != ds->k) {
        status = galann_error_set(GALANN_ERR_DIMENSION, "opencl: the dataset on the device is %zu x %zu with %zu "
                                  "labels, the call has %zu x %zu with %zu", ds->m, ds->n, ds->k, data->m, data->n,
                                  data->k);
        goto done;
    }
    int need_grad = req->gradient != NULL;
    int need_score = need_grad || req->cost || req->n_correct;
    status = reserve_work_space(s, &p, ds->m, need_score);
    if (status != GALANN_OK)
        goto done;

    enqueued = 1;
    err = clEnqueueWriteBuffer(s->queue, s->theta.mem, CL_FALSE, 0, net->n_params * sizeof(double), net->theta, 0,
                               NULL, event_slot(&log, T_UPLOAD));
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "clEnqueueWriteBuffer(weights)");
        goto done;
    }
    status = enqueue_forward(s, &log, net, &p, ds);
    if (status == GALANN_OK && need_score)
        status = enqueue_score(s, &log, &p, ds, need_grad);
    if (status == GALANN_OK && need_grad)
        status = enqueue_backward(s, &log, net, &p, ds);
    size_t count = SCORE_SLOTS + (need_grad ? net->n_params : 0);
    if (status == GALANN_OK && need_score)
        status = enqueue_reduce(s, &log, &p, count);
    if (status != GALANN_OK)
        goto done;
    if (need_score) {
        err = clEnqueueReadBuffer(s->queue, s->result.mem, CL_FALSE, 0, count * sizeof(double), s->staging, 0, NULL,
                                  event_slot(&log, T_DOWNLOAD));
        if (err != CL_SUCCESS) {
            status = cl_failure(err, "clEnqueueReadBuffer(results)");
            goto done;
        }
    }
    if (req->outputs) {
        size_t k = ds->k;
        err = clEnqueueReadBuffer(s->queue, s->act.mem, CL_FALSE, p.unit_off[p.L] * sizeof(double),
                                  ds->m * k * sizeof(double), req->outputs, 0, NULL, event_slot(&log, T_DOWNLOAD));
        if (err != CL_SUCCESS) {
            status = cl_failure(err, "clEnqueueReadBuffer(outputs)");
            goto done;
        }
    }
    enqueued = 0;
    err = clFinish(s->queue);
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "clFinish");
        goto done;
    }

    double m = (double)ds->m;
    if (req->cost)
        *req->cost = s->staging[SLOT_COST] / m;
    if (req->n_correct)
        *req->n_correct = (size_t)s->staging[SLOT_CORRECT];
    if (need_grad) {
        const double *g = s->staging + SCORE_SLOTS;
        for (size_t i = 0; i < net->n_params; i++)
            req->gradient[i] = g[i] / m;
    }
    s->evaluations++;

done:
    /* Nothing queued may touch the caller's memory after we return. */
    if (enqueued)
        clFinish(s->queue);
    event_log_close(&log, s, status == GALANN_OK);
    opencl_release_dataset(s, temporary);
    return status;
}

/* ------------------------------------------------------ context, device */

static void release_kernels(opencl_state *s)
{
    for (int i = 0; i < N_KERNELS; i++) {
        if (s->kernels[i])
            clReleaseKernel(s->kernels[i]);
        s->kernels[i] = NULL;
    }
    if (s->program)
        clReleaseProgram(s->program);
    s->program = NULL;
}

static void opencl_destroy(void *state)
{
    opencl_state *s = state;
    if (!s)
        return;
    release_kernels(s);
    release_buffer(&s->theta);
    release_buffer(&s->act);
    release_buffer(&s->delta);
    release_buffer(&s->partials);
    release_buffer(&s->result);
    free(s->staging);
    if (s->queue)
        clReleaseCommandQueue(s->queue);
    if (s->context)
        clReleaseContext(s->context);
    free(s);
}

/* Create the kernels of the built program; *fits is 0 when the device
 * cannot run this program's work-groups (a smaller tile may do). */
static int create_kernels(opencl_state *s, int *fits)
{
    *fits = 1;
    for (int i = 0; i < N_KERNELS; i++) {
        cl_int err;
        s->kernels[i] = clCreateKernel(s->program, kernel_names[i], &err);
        if (err != CL_SUCCESS) {
            char what[64];
            snprintf(what, sizeof what, "clCreateKernel(%s)", kernel_names[i]);
            return cl_failure(err, what);
        }
        size_t limit = 0, needed = (i == K_BACKWARD || i == K_FORWARD_TILED) ? s->tile * s->tile
                                   : i == K_REDUCE                         ? REDUCE_GROUP
                                                                           : s->line;
        if (clGetKernelWorkGroupInfo(s->kernels[i], s->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit, &limit,
                                     NULL) != CL_SUCCESS ||
            limit < needed)
            *fits = 0;
    }
    return GALANN_OK;
}

/* Build the program with the largest groups the device runs: tiles of
 * 16 x 16 and lines of 128, else 8 x 8 and 64. A cached binary that
 * yields no kernels is replaced by a build from source. */
static int build_kernels(opencl_state *s, const char *cache_dir)
{
    static const size_t tiles[] = { 16, 8 };
    size_t max_group = 0, max_items[16] = { 0 };  /* one per dimension; devices have 3 or more */
    char c_version[64];
    clGetDeviceInfo(s->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_group, &max_group, NULL);
    clGetDeviceInfo(s->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof max_items, max_items, NULL);
    ocl_device_string(s->device, CL_DEVICE_OPENCL_C_VERSION, c_version, sizeof c_version);
    /* "OpenCL C 1.1 ...": only then leave the language version to the
     * compiler; the kernels are written for 1.2. */
    int is_c11 = strncmp(c_version, "OpenCL C 1.1", 12) == 0 || strncmp(c_version, "OpenCL C 1.0", 12) == 0;

    int status = GALANN_OK;
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        size_t tile = tiles[t], line = 8 * tile;
        if (tile * tile > max_group || line > max_group || line > max_items[0] || tile > max_items[1])
            continue;
        char options[128];
        snprintf(options, sizeof options, "%s-DTILE=%zu -DLINE=%zu -DRB=%d", is_c11 ? "" : "-cl-std=CL1.2 ", tile,
                 line, UNITS_PER_ITEM);
        s->tile = tile;
        s->line = line;
        for (int read_cache = 1; read_cache >= 0; read_cache--) {
            ocl_program_request pr = { s->context, s->device, GALANN_OPENCL_KERNEL_SOURCE, options, cache_dir,
                                       read_cache };
            status = ocl_program_build(&pr, &s->program, &s->from_cache);
            if (status != GALANN_OK)
                return status;
            int fits;
            status = create_kernels(s, &fits);
            if (status == GALANN_OK && fits)
                return GALANN_OK;
            int retry = status != GALANN_OK && s->from_cache;
            release_kernels(s);
            if (!retry)
                break;
        }
        if (status != GALANN_OK)
            return status;
    }
    return galann_error_set(GALANN_ERR_UNAVAILABLE, "opencl: %s runs work-groups of %zu items, the kernels need 64",
                            s->device_name, max_group);
}

static int opencl_create(const galann_backend_config *cfg, void **out)
{
    ocl_device_list list;
    opencl_state *s = NULL;
    size_t index;
    cl_int err;
    int status = ocl_device_list_get(&list);
    if (status != GALANN_OK)
        return status;
    status = ocl_device_select(&list, cfg->device, &index);
    if (status != GALANN_OK)
        goto fail;
    const ocl_device *d = &list.items[index];
    s = calloc(1, sizeof *s);
    if (!s) {
        status = galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory for a context");
        goto fail;
    }
    s->device = d->device;
    memcpy(s->device_name, d->device_name, sizeof s->device_name);
    memcpy(s->platform_name, d->platform_name, sizeof s->platform_name);
    ocl_device_string(d->device, CL_DRIVER_VERSION, s->driver_version, sizeof s->driver_version);
    if (clGetDeviceInfo(d->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof s->max_alloc, &s->max_alloc, NULL) !=
        CL_SUCCESS)
        s->max_alloc = (cl_ulong)128 << 20;  /* the OpenCL 1.2 minimum */
    if (clGetDeviceInfo(d->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof s->compute_units, &s->compute_units, NULL) !=
        CL_SUCCESS)
        s->compute_units = 1;
    s->profiling = cfg->profile;

    cl_context_properties properties[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform, 0 };
    s->context = clCreateContext(properties, 1, &d->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "clCreateContext");
        goto fail;
    }
    s->queue = clCreateCommandQueue(s->context, d->device, s->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "clCreateCommandQueue");
        goto fail;
    }
    status = build_kernels(s, cfg->cache_dir);
    if (status != GALANN_OK)
        goto fail;
    ocl_device_list_free(&list);
    *out = s;
    return GALANN_OK;

fail:
    ocl_device_list_free(&list);
    opencl_destroy(s);
    return status;
}

static int opencl_probe(void)
{
    ocl_device_list list;
    size_t index;
    int status = ocl_device_list_get(&list);
    if (status != GALANN_OK)
        return status;
    status = ocl_device_select(&list, NULL, &index);
    ocl_device_list_free(&list);
    return status;
}

static int opencl_has_gpu(void)
{
    ocl_device_list list;
    if (ocl_device_list_get(&list) != GALANN_OK) {
        /* "no GPU" is an answer, not a failure of the caller's call */
        galann_error_clear();
        return 0;
    }
    int found = 0;
    for (size_t i = 0; i < list.count && !found; i++)
        found = (list.items[i].type & CL_DEVICE_TYPE_GPU) && list.items[i].fp64;
    ocl_device_list_free(&list);
    return found;
}

static int opencl_list_devices(char *buf, size_t size)
{
    ocl_device_list list;
    buf[0] = '\0';
    int status = ocl_device_list_get(&list);
    if (status != GALANN_OK)
        return status;
    size_t used = 0;
    for (size_t i = 0; i < list.count && used < size; i++) {
        const ocl_device *d = &list.items[i];
        int n = snprintf(buf + used, size - used, "%zu: %s / %s (%s, %s)\n", i, d->platform_name, d->device_name,
                         ocl_device_type_name(d->type), d->fp64 ? "fp64" : "no fp64");
        if (n < 0)
            break;
        used += (size_t)n;
    }
    ocl_device_list_free(&list);
    return GALANN_OK;
}

static int opencl_describe(void *state, char *buf, size_t size)
{
    const opencl_state *s = state;
    size_t used = 0;
    int n = snprintf(buf, size, "opencl: %s (%s, driver %s)", s->device_name, s->platform_name, s->driver_version);
    if (!s->profiling || n < 0 || (size_t)n >= size)
        return GALANN_OK;
    used = (size_t)n;
    /* per evaluation, in milliseconds */
    double per = s->evaluations ? 1e3 / (double)s->evaluations : 0.0, kernels = 0.0;
    for (int i = 0; i < N_KERNELS; i++)
        kernels += s->seconds[i];
    n = snprintf(buf + used, size - used, "; profile of %llu evaluations, ms each: upload %.3f, kernels %.3f (",
                 (unsigned long long)s->evaluations, s->seconds[T_UPLOAD] * per, kernels * per);
    for (int i = 0; i < N_KERNELS && n >= 0 && (used += (size_t)n) < size; i++)
        n = snprintf(buf + used, size - used, "%s%s %.3f", i ? ", " : "", kernel_names[i], s->seconds[i] * per);
    if (n >= 0 && (used += (size_t)n) < size)
        snprintf(buf + used, size - used, "), download %.3f; %llu dataset uploads, %.3f ms in all",
                 s->seconds[T_DOWNLOAD] * per, (unsigned long long)s->dataset_uploads, s->seconds[T_DATASET] * 1e3);
    return GALANN_OK;
}

static void opencl_profile(void *state, galann_profile *out)
{
    const opencl_state *s = state;
    double kernels = 0.0;
    for (int i = 0; i < N_KERNELS; i++)
        kernels += s->seconds[i];
    out->upload_seconds = s->seconds[T_UPLOAD];
    out->kernel_seconds = kernels;
    out->download_seconds = s->seconds[T_DOWNLOAD];
    out->dataset_uploads = s->dataset_uploads;
    out->dataset_upload_seconds = s->seconds[T_DATASET];
}

/* ------------------------------------------- entry points, guarded */

/* Every entry point that can reach the OpenCL runtime runs inside a host
 * guard (host_guard.h), so that the signal handlers and environment
 * variables the runtime sets when it starts or compiles do not outlive the
 * call. An evaluation is guarded the first time each kind of request runs
 * on a context, when the runtime may still compile for it; later ones
 * skip the 128 sigaction calls (about 40 us) of a guard. */

static int guarded_probe(void)
{
    ocl_host_guard g;
    int status = ocl_host_guard_enter(&g);
    if (status != GALANN_OK)
        return status;
    status = opencl_probe();
    ocl_host_guard_leave(&g);
    return status;
}

/* "Best available": no runtime is loaded unless the ICD configuration
 * names a driver that could offer a GPU. */
static int guarded_has_gpu(void)
{
    ocl_host_guard g;
    if (!ocl_icd_may_have_gpu())
        return 0;
    if (ocl_host_guard_enter(&g) != GALANN_OK) {
        galann_error_clear();
        return 0;
    }
    int found = opencl_has_gpu();
    ocl_host_guard_leave(&g);
    return found;
}

static int guarded_create(const galann_backend_config *cfg, void **out)
{
    ocl_host_guard g;
    int status = ocl_host_guard_enter(&g);
    if (status != GALANN_OK)
        return status;
    status = opencl_create(cfg, out);
    ocl_host_guard_leave(&g);
    return status;
}

static void guarded_destroy(void *state)
{
    ocl_host_guard g;
    if (ocl_host_guard_enter(&g) != GALANN_OK) {
        /* freeing cannot fail: release without the guard */
        opencl_destroy(state);
        return;
    }
    opencl_destroy(state);
    ocl_host_guard_leave(&g);
}

static unsigned request_kind(const galann_eval_request *req)
{
    return (req->cost ? 1u : 0u) | (req->gradient ? 2u : 0u) | (req->outputs ? 4u : 0u) |
           (req->n_correct ? 8u : 0u);
}

static int guarded_evaluate(void *state, const galann_eval_request *req)
{
    opencl_state *s = state;
    unsigned kind = 1u << request_kind(req);
    if (s->guarded_kinds & kind)
        return opencl_evaluate(state, req);
    ocl_host_guard g;
    int status = ocl_host_guard_enter(&g);
    if (status != GALANN_OK)
        return status;
    status = opencl_evaluate(state, req);
    ocl_host_guard_leave(&g);
    if (status == GALANN_OK)
        s->guarded_kinds |= kind;
    return status;
}

static int guarded_list_devices(char *buf, size_t size)
{
    ocl_host_guard g;
    int status = ocl_host_guard_enter(&g);
    if (status != GALANN_OK)
        return status;
    status = opencl_list_devices(buf, size);
    ocl_host_guard_leave(&g);
    return status;
}

static int guarded_prepare_dataset(void *state, const galann_data_view *data, void **attachment)
{
    ocl_host_guard g;
    int status = ocl_host_guard_enter(&g);
    if (status != GALANN_OK)
        return status;
    status = opencl_prepare_dataset(state, data, attachment);
    ocl_host_guard_leave(&g);
    return status;
}

static void guarded_release_dataset(void *state, void *attachment)
{
    ocl_host_guard g;
    if (ocl_host_guard_enter(&g) != GALANN_OK) {
        opencl_release_dataset(state, attachment);
        return;
    }
    opencl_release_dataset(state, attachment);
    ocl_host_guard_leave(&g);
}

const galann_backend_ops galann_opencl_backend = {
    .name = "opencl",
    .probe = guarded_probe,
    .has_gpu = guarded_has_gpu,
    .create = guarded_create,
    .destroy = guarded_destroy,
    .evaluate = guarded_evaluate,
    .set_threads = NULL,
    .describe = opencl_describe,
    .list_devices = guarded_list_devices,
    .prepare_dataset = guarded_prepare_dataset,
    .release_dataset = guarded_release_dataset,
    .profile = opencl_profile,
};
