/*
 * opencl.c -- the opencl backend: the batched matrix form on any OpenCL
 * device, in double precision (devices with fp64) or single precision
 * (GALANN_PRECISION_SINGLE, or _ANY on a device without fp64), through the
 * kernels of kernels.cl.
 *
 * A dataset goes to the device once per (dataset, context), in its own
 * storage type (u8 bytes, f32 or f64; f64 as f32 in single precision):
 * its attachment holds X and y there, cut into parts of whole chunks of
 * samples when one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE) cannot hold it
 * all. Only the kernels that read X for layer 1 know the storage type:
 * they come from a program built for it (input_program). Each evaluation
 * uploads only the weights, runs the kernels in one in-order queue, once
 * per slice of the samples (whole chunks within one part, as many as the
 * activation buffers hold: usually all of them), and reads back what was
 * asked for: the reduced cost, correct count and gradient (one read), and
 * the output activations. The work buffers (activations, deltas, per-chunk
 * partial sums) belong to the context and only grow.
 *
 * Determinism: the samples are cut into chunks by a rule that depends only
 * on m, every chunk's sums are formed in a fixed order on the device, and
 * the chunks are added in index order (in batches that carry their
 * compensated sums on, when the partial sums do not fit one buffer), so
 * the same inputs give the same bits on the same device, whether the cost,
 * the gradient or both are asked for, whatever the storage type of the
 * same numbers, and however the data is cut into parts and slices.
 *
 * Timing: with profiling on (galann_context_options.profile or
 * GALANN_PROFILE=1 when the context is created) the queue records event
 * times; galann_context_profile reports the time spent uploading weights,
 * in kernels and downloading results (and the one-off dataset uploads),
 * and describe() appends the same per evaluation.
 *
 * Testing knob: GALANN_OPENCL_MAX_BUFFER_BYTES, read when a context is
 * created, lowers the largest buffer the backend makes below the device's
 * own limit, so that the tests can cut small datasets into many parts,
 * slices and batches (see also devices.c's GALANN_OPENCL_HIDE_FP64).
 *
 * Not here: device enumeration (devices.c), the devices as galann_device
 * structs and best available's question (device_info.c), program building
 * and its cache (program.c), the lambda term (the core).
 */
#include <errno.h>
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
 * groups to fill a GPU beside the feature tiles). */
#define MIN_CHUNK 128
#define MAX_CHUNKS 256

/* The partial sums of at most this many bytes at once: more chunks are
 * reduced in batches. */
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

/* The storage types, as indices (GALANN_STORAGE_F64, _F32, _U8). */
#define N_STORAGES 3

enum { K_FORWARD, K_FORWARD_TILED, K_SCORE, K_BACKWARD, K_GRADIENT, K_REDUCE, N_KERNELS };

static const char *const kernel_names[N_KERNELS] = {
    "forward_layer", "forward_tiled", "score_output", "backward_layer", "gradient_partial", "reduce_partials",
};

/* The kernels that read X, which a program built for a storage type holds
 * (INPUT_U8, INPUT_F32 in kernels.cl). */
enum { X_FORWARD, X_FORWARD_TILED, X_GRADIENT, N_INPUT_KERNELS };
static const int input_kernel_ids[N_INPUT_KERNELS] = { K_FORWARD, K_FORWARD_TILED, K_GRADIENT };

/* forward_tiled instead of forward_layer when the latter would have fewer
 * work-groups than this many per compute unit. */
#define MIN_GROUPS_PER_UNIT 4

/* Profile timers: one per kernel (indexed like kernel_names), then the
 * transfers. */
enum { T_DATASET = N_KERNELS, T_UPLOAD, T_DOWNLOAD, N_TIMERS };

/* Commands recorded before the log is emptied (profiling only): the
 * weights, L forward layers, the score, L gradient partials, L-1 backward
 * layers, the reduction and 2 reads make one slice of the deepest network. */
#define MAX_EVENTS (3 * MAX_LAYERS + 8)

typedef struct device_buffer {
    cl_mem mem;
    size_t capacity;  /* bytes */
} device_buffer;

/* A program built for one storage type of X, and its kernels that read X. */
typedef struct input_program {
    cl_program program;
    cl_kernel kernels[N_INPUT_KERNELS];
} input_program;

typedef struct opencl_state {
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;   /* every kernel, X of the type `real` */
    cl_kernel kernels[N_KERNELS];
    input_program inputs[N_STORAGES];  /* built when a dataset first needs one */
    char options[160];    /* the program's build options, which input programs extend */
    char *cache_dir;      /* a copy of the configured one; NULL: the default */
    size_t tile;       /* TILE the program was built with: backward_layer's groups are tile x tile */
    size_t line;       /* LINE: the 1-D groups of forward_layer, gradient_partial, score_output */
    cl_ulong max_alloc;   /* the largest buffer made: the device's, or the testing knob's */
    cl_uint compute_units;
    char device_name[OCL_NAME_CAPACITY];
    char platform_name[OCL_NAME_CAPACITY];
    char driver_version[OCL_NAME_CAPACITY];
    /* precision: real is float (single) or double; acc_t float only in
     * single precision on a device without fp64 */
    int single, acc_float;
    size_t real_bytes, acc_bytes;
    int base_storage;  /* the storage the main program reads X in: F64, or F32 in single precision */
    /* work space, grown as needed */
    device_buffer theta, act, delta, partials, result;
    void *staging;            /* the results read back: sums, then carries */
    size_t staging_capacity;  /* bytes */
    float *theta_f;           /* single precision: the weights as uploaded */
    size_t theta_f_capacity;  /* floats */
    float *outputs_f;         /* single precision: the outputs as read back */
    size_t outputs_f_capacity;
    /* profiling (galann_context_options.profile) */
    int profiling;
    uint64_t evaluations, dataset_uploads;
    double seconds[N_TIMERS];
    /* kinds of request (request_kind) already run once inside a host guard */
    uint64_t guarded_kinds;
} opencl_state;

/* One buffer's worth of a dataset on the device: rows [first, first +
 * rows), a whole number of chunks (but for the last part). */
typedef struct data_part {
    cl_mem x;  /* rows x n values of the dataset's device storage, row-major */
    cl_mem y;  /* rows ints */
    size_t first, rows;
} data_part;

/* A dataset on the device. */
typedef struct opencl_dataset {
    size_t m, n, k;
    int storage;     /* on the device: GALANN_STORAGE_F64, _F32 or _U8 */
    size_t chunk;    /* samples per chunk of the sums (chunk_samples(m)) */
    cl_mem values;   /* u8: the 256 values of a byte, as reals */
    size_t n_parts;
    data_part *parts;
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

/* Where an enqueue should leave its event: NULL unless profiling. A full
 * log (many slices) is emptied first: the queue finishes, its times are
 * added (a failure shows at the caller's own clFinish). */
static cl_event *event_slot(opencl_state *s, event_log *log, int timer)
{
    if (!log->enabled)
        return NULL;
    if (log->count == MAX_EVENTS) {
        int finished = clFinish(s->queue) == CL_SUCCESS;
        event_log_close(log, s, finished);
    }
    log->timers[log->count] = timer;
    log->events[log->count] = NULL;
    return &log->events[log->count++];
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

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static int run_kernel(opencl_state *s, event_log *log, cl_kernel kernel, int which, const kernel_args *args,
                      cl_uint dims, const size_t *global, const size_t *local)
{
    char what[64];
    if (args->err != CL_SUCCESS) {
        snprintf(what, sizeof what, "clSetKernelArg(%s, %u)", kernel_names[which], (unsigned)args->index - 1);
        return cl_failure(args->err, what);
    }
    cl_int err = clEnqueueNDRangeKernel(s->queue, kernel, dims, NULL, global, local, 0, NULL,
                                        event_slot(s, log, which));
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

/* Make *p hold at least count elements of size bytes (host memory). */
static int reserve_host(void **p, size_t *capacity, size_t count, size_t size, const char *what)
{
    if (count <= *capacity)
        return GALANN_OK;
    void *grown = count <= SIZE_MAX / size ? malloc(count * size) : NULL;
    if (!grown)
        return galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory for %zu %s", count, what);
    free(*p);
    *p = grown;
    *capacity = count;
    return GALANN_OK;
}

static void release_buffer(device_buffer *b)
{
    if (b->mem)
        clReleaseMemObject(b->mem);
    b->mem = NULL;
    b->capacity = 0;
}

/* ------------------------------------------------------------- programs */

static void release_program(cl_program *program, cl_kernel *kernels, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (kernels[i])
            clReleaseKernel(kernels[i]);
        kernels[i] = NULL;
    }
    if (*program)
        clReleaseProgram(*program);
    *program = NULL;
}

static void release_kernels(opencl_state *s)
{
    release_program(&s->program, s->kernels, N_KERNELS);
    for (int t = 0; t < N_STORAGES; t++)
        release_program(&s->inputs[t].program, s->inputs[t].kernels, N_INPUT_KERNELS);
}

/* Create the kernels ids[0..count) of a built program; *fits is 0 when the
 * device cannot run its work-groups (a smaller tile may do). */
static int create_kernels(opencl_state *s, cl_program program, const int *ids, size_t count, cl_kernel *kernels,
                          int *fits)
{
    *fits = 1;
    for (size_t i = 0; i < count; i++) {
        int which = ids[i];
        cl_int err;
        kernels[i] = clCreateKernel(program, kernel_names[which], &err);
        if (err != CL_SUCCESS) {
            char what[64];
            snprintf(what, sizeof what, "clCreateKernel(%s)", kernel_names[which]);
            return cl_failure(err, what);
        }
        size_t limit = 0, needed = (which == K_BACKWARD || which == K_FORWARD_TILED) ? s->tile * s->tile
                                   : which == K_REDUCE                             ? REDUCE_GROUP
                                                                                   : s->line;
        if (clGetKernelWorkGroupInfo(kernels[i], s->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit, &limit,
                                     NULL) != CL_SUCCESS ||
            limit < needed)
            *fits = 0;
    }
    return GALANN_OK;
}

/* Build a program with options and create its kernels ids[0..count),
 * from the cache when it has them; a cached binary that yields no kernels
 * is replaced by a build from source. *fits as create_kernels. */
static int build_program(opencl_state *s, const char *options, const int *ids, size_t count, cl_program *program,
                         cl_kernel *kernels, int *fits)
{
    int status = GALANN_OK;
    *fits = 0;
    for (int read_cache = 1; read_cache >= 0; read_cache--) {
        ocl_program_request pr = { s->context, s->device, GALANN_OPENCL_KERNEL_SOURCE, options, s->cache_dir,
                                   read_cache };
        int from_cache;
        status = ocl_program_build(&pr, program, &from_cache);
        if (status != GALANN_OK)
            return status;
        status = create_kernels(s, *program, ids, count, kernels, fits);
        if (status == GALANN_OK && *fits)
            return GALANN_OK;
        int retry = status != GALANN_OK && from_cache;
        release_program(program, kernels, count);
        if (!retry)
            break;
    }
    return status;
}

/* Build the program with the largest groups the device runs: tiles of
 * 16 x 16 and lines of 128, else 8 x 8 and 64. */
static int build_kernels(opencl_state *s)
{
    static const size_t tiles[] = { 16, 8 };
    static const int all[N_KERNELS] = { K_FORWARD, K_FORWARD_TILED, K_SCORE, K_BACKWARD, K_GRADIENT, K_REDUCE };
    size_t max_group = 0, max_items[16] = { 0 };  /* one per dimension; devices have 3 or more */
    char c_version[64];
    clGetDeviceInfo(s->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_group, &max_group, NULL);
    clGetDeviceInfo(s->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof max_items, max_items, NULL);
    ocl_device_string(s->device, CL_DEVICE_OPENCL_C_VERSION, c_version, sizeof c_version);
    /* "OpenCL C 1.1 ...": only then leave the language version to the
     * compiler; the kernels are written for 1.2. */
    int is_c11 = strncmp(c_version, "OpenCL C 1.1", 12) == 0 || strncmp(c_version, "OpenCL C 1.0", 12) == 0;
    /* single precision: float products; without fp64 float sums too, and
     * no double anywhere (unsuffixed literals are float) */
    const char *precision = !s->single ? "" : s->acc_float ? " -DSINGLE -DACC_FLOAT -cl-single-precision-constant"
                                                           : " -DSINGLE";

    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        size_t tile = tiles[t], line = 8 * tile;
        if (tile * tile > max_group || line > max_group || line > max_items[0] || tile > max_items[1])
            continue;
        snprintf(s->options, sizeof s->options, "%s-DTILE=%zu -DLINE=%zu -DRB=%d%s", is_c11 ? "" : "-cl-std=CL1.2 ",
                 tile, line, UNITS_PER_ITEM, precision);
        s->tile = tile;
        s->line = line;
        int fits;
        int status = build_program(s, s->options, all, N_KERNELS, &s->program, s->kernels, &fits);
        if (status != GALANN_OK)
            return status;
        if (fits)
            return GALANN_OK;
    }
    return galann_error_set(GALANN_ERR_UNAVAILABLE, "opencl: %s runs work-groups of %zu items, the kernels need 64",
                            s->device_name, max_group);
}

/* The kernels that read X in the given device storage: the main
 * program's for its own storage, else those of a program built for it
 * (once per context, on the first dataset that needs it). */
static int ensure_input_program(opencl_state *s, int storage)
{
    if (storage == s->base_storage || s->inputs[storage].program)
        return GALANN_OK;
    char options[sizeof s->options + 16];
    snprintf(options, sizeof options, "%s %s", s->options, storage == GALANN_STORAGE_U8 ? "-DINPUT_U8" : "-DINPUT_F32");
    int fits;
    input_program *ip = &s->inputs[storage];
    int status = build_program(s, options, input_kernel_ids, N_INPUT_KERNELS, &ip->program, ip->kernels, &fits);
    if (status == GALANN_OK && !fits)
        status = galann_error_set(GALANN_ERR_UNAVAILABLE, "opencl: %s cannot run the %s kernels' work-groups",
                                  s->device_name, storage == GALANN_STORAGE_U8 ? "u8" : "f32");
    return status;
}

static cl_kernel input_kernel(const opencl_state *s, int storage, int which)
{
    if (storage == s->base_storage)
        return s->kernels[input_kernel_ids[which]];
    return s->inputs[storage].kernels[which];
}

/* ------------------------------------------------------------- datasets */

/* Samples per chunk of the sums: a function of m alone, so that the cost
 * has the same bits with or without the gradient, for any network, and so
 * that the parts a dataset is cut into when it is uploaded hold whole
 * chunks. */
static size_t chunk_samples(size_t m)
{
    size_t chunk = (m + MAX_CHUNKS - 1) / MAX_CHUNKS;
    if (chunk < MIN_CHUNK)
        chunk = MIN_CHUNK;
    return round_up(chunk, CHUNK_ALIGN);
}

static size_t storage_bytes(int storage)
{
    return storage == GALANN_STORAGE_U8 ? 1 : storage == GALANN_STORAGE_F32 ? sizeof(float) : sizeof(double);
}

static void opencl_release_dataset(void *state, void *attachment)
{
    (void)state;
    opencl_dataset *ds = attachment;
    if (!ds)
        return;
    for (size_t i = 0; ds->parts && i < ds->n_parts; i++) {
        if (ds->parts[i].x)
            clReleaseMemObject(ds->parts[i].x);
        if (ds->parts[i].y)
            clReleaseMemObject(ds->parts[i].y);
    }
    free(ds->parts);
    if (ds->values)
        clReleaseMemObject(ds->values);
    free(ds);
}

/* Rows [first, first + count) of the features into buf as the device
 * stores them: as they are, or (f64 data in single precision) as floats a
 * block of rows at a time through a host staging buffer, with blocking
 * writes so that it can be reused. */
#define UPLOAD_ROWS 1024
static cl_int upload_features(opencl_state *s, const opencl_dataset *ds, cl_mem buf, const galann_data_view *data,
                              size_t first, size_t count, event_log *log)
{
    size_t row_bytes = data->n * storage_bytes(ds->storage);
    if (ds->storage == data->storage)
        return clEnqueueWriteBuffer(s->queue, buf, CL_FALSE, 0, count * row_bytes,
                                    (const unsigned char *)data->features + first * row_bytes, 0, NULL,
                                    event_slot(s, log, T_DATASET));
    size_t rows = min_size(count, UPLOAD_ROWS);
    float *staging = malloc(rows * data->n * sizeof *staging);
    if (!staging)
        return CL_OUT_OF_HOST_MEMORY;
    cl_int err = CL_SUCCESS;
    for (size_t done = 0; done < count && err == CL_SUCCESS; done += rows) {
        size_t block = min_size(count - done, rows);
        galann_data_view_rows_f32(data, first + done, block, staging);
        err = clEnqueueWriteBuffer(s->queue, buf, CL_TRUE, done * row_bytes, block * row_bytes, staging, 0, NULL,
                                   NULL);
    }
    free(staging);
    return err;
}

/* u8: the value of each byte as the kernels' real, the same numbers the
 * host reads (galann_data_view_rows, _rows_f32). A blocking write: the
 * floats live on this stack. */
static cl_int upload_values(opencl_state *s, opencl_dataset *ds, const galann_data_view *data)
{
    cl_int err;
    float floats[256];
    const void *values = data->u8_values;
    if (s->single) {
        for (int p = 0; p < 256; p++)
            floats[p] = (float)data->u8_values[p];
        values = floats;
    }
    ds->values = clCreateBuffer(s->context, CL_MEM_READ_ONLY, 256 * s->real_bytes, NULL, &err);
    if (err == CL_SUCCESS)
        err = clEnqueueWriteBuffer(s->queue, ds->values, CL_TRUE, 0, 256 * s->real_bytes, values, 0, NULL, NULL);
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
    cl_int err = CL_SUCCESS;
    *attachment = NULL;

    if (data->storage < 0 || data->storage >= N_STORAGES) {
        status = galann_error_set(GALANN_ERR_INVALID, "opencl: storage type %d is not a galann_storage",
                                  data->storage);
        goto fail;
    }
    if (data->m == 0 || data->m > MAX_KERNEL_SIZE || data->n == 0 || data->n > MAX_KERNEL_SIZE) {
        status = galann_error_set(GALANN_ERR_DIMENSION, "opencl: a dataset of %zu x %zu is empty or too large", data->m,
                                  data->n);
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
    /* in single precision f64 is read as floats anyway: keep half */
    ds->storage = s->single && data->storage == GALANN_STORAGE_F64 ? GALANN_STORAGE_F32 : data->storage;
    ds->chunk = chunk_samples(data->m);
    status = ensure_input_program(s, ds->storage);
    if (status != GALANN_OK)
        goto fail;

    /* Parts of whole chunks, each as large as one buffer allows. */
    size_t row_bytes = data->n * storage_bytes(ds->storage);
    size_t per_row = row_bytes > sizeof(cl_int) ? row_bytes : sizeof(cl_int);
    size_t part_rows = (size_t)(s->max_alloc / per_row) / ds->chunk * ds->chunk;
    if (part_rows == 0) {
        status = galann_error_set(GALANN_ERR_NOMEM, "opencl: a chunk of %zu samples of the dataset needs %zu bytes, "
                                  "%s allows %llu in one buffer", ds->chunk, ds->chunk * per_row, s->device_name,
                                  (unsigned long long)s->max_alloc);
        goto fail;
    }
    ds->n_parts = (data->m + part_rows - 1) / part_rows;
    ds->parts = calloc(ds->n_parts, sizeof *ds->parts);
    if (!ds->parts) {
        status = galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory for a dataset attachment");
        goto fail;
    }
    for (size_t i = 0; i < ds->n_parts && err == CL_SUCCESS; i++) {
        data_part *part = &ds->parts[i];
        part->first = i * part_rows;
        part->rows = min_size(part_rows, data->m - part->first);
        part->x = clCreateBuffer(s->context, CL_MEM_READ_ONLY, part->rows * row_bytes, NULL, &err);
        if (err != CL_SUCCESS) {
            status = cl_failure(err, "clCreateBuffer(dataset features)");
            goto fail;
        }
        part->y = clCreateBuffer(s->context, CL_MEM_READ_ONLY, part->rows * sizeof(cl_int), NULL, &err);
        if (err != CL_SUCCESS) {
            status = cl_failure(err, "clCreateBuffer(dataset labels)");
            goto fail;
        }
        err = upload_features(s, ds, part->x, data, part->first, part->rows, &log);
        if (err == CL_SUCCESS)
            err = clEnqueueWriteBuffer(s->queue, part->y, CL_FALSE, 0, part->rows * sizeof(cl_int),
                                       data->y + part->first, 0, NULL, event_slot(s, &log, T_DATASET));
    }
    if (err == CL_SUCCESS && ds->storage == GALANN_STORAGE_U8)
        err = upload_values(s, ds, data);
    /* Always wait: the queue must not read data->features after we return. */
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
    /* nothing queued may still read the caller's memory */
    clFinish(s->queue);
    event_log_close(&log, s, 0);
    opencl_release_dataset(s, ds);
    return status;
}

/* ----------------------------------------------------------- evaluation */

/* Where things are: layer l's weights in theta; the chunks, and how many
 * of them one slice and one batch of partial sums hold. */
typedef struct layout {
    size_t L;
    size_t param_off[MAX_LAYERS];
    size_t units;         /* sum of s_l, l >= 1 */
    size_t stride;        /* SCORE_SLOTS + n_params: one chunk's partial sums */
    size_t chunk;         /* samples per chunk */
    size_t n_chunks;
    size_t slice_chunks;  /* chunks per slice at most: the activation buffers hold that many samples */
    size_t batch_chunks;  /* chunks whose partial sums are held at once */
} layout;

/* A run of whole chunks within one part of the dataset: the kernels run
 * once per slice, on its rows only. */
typedef struct slice {
    const data_part *part;
    size_t first;       /* its first row in the dataset */
    size_t rows;
    size_t part_row;    /* its first row in the part */
    size_t batch_chunk; /* its first chunk's place in the batch's partial sums */
    size_t unit_off[MAX_LAYERS];  /* layer l's units in act and delta: rows x s_l, layer after layer */
} slice;

static int plan(const opencl_state *s, const galann_net_view *net, const opencl_dataset *ds, layout *p)
{
    if (net->n_layers < 2 || net->n_layers > MAX_LAYERS)
        return galann_error_set(GALANN_ERR_INVALID, "opencl: 2..%d layers, got %zu", MAX_LAYERS, net->n_layers);
    if (net->n_params > MAX_KERNEL_SIZE)
        return galann_error_set(GALANN_ERR_DIMENSION, "opencl: %zu parameters exceed the kernels' range",
                                net->n_params);
    p->L = net->n_layers - 1;
    size_t params = 0, units = 0;
    for (size_t l = 1; l <= p->L; l++) {
        if (net->sizes[l] > MAX_KERNEL_SIZE || net->sizes[l - 1] > MAX_KERNEL_SIZE)
            return galann_error_set(GALANN_ERR_DIMENSION, "opencl: layer %zu is too wide", l);
        p->param_off[l] = params;
        params += net->sizes[l] * (net->sizes[l - 1] + 1);
        units += net->sizes[l];
    }
    p->units = units;
    p->stride = SCORE_SLOTS + net->n_params;
    p->chunk = ds->chunk;
    p->n_chunks = (ds->m + p->chunk - 1) / p->chunk;

    /* as many chunks per slice as the activations and deltas of one
     * buffer hold, and per batch as the partial sums' budget holds */
    size_t unit_bytes = units * s->real_bytes;
    p->slice_chunks = min_size((size_t)(s->max_alloc / unit_bytes) / p->chunk, p->n_chunks);
    if (p->slice_chunks == 0)
        return galann_error_set(GALANN_ERR_NOMEM, "opencl: the activations of a chunk of %zu samples need %zu "
                                "bytes, %s allows %llu in one buffer", p->chunk, p->chunk * unit_bytes,
                                s->device_name, (unsigned long long)s->max_alloc);
    size_t partial_bytes = p->stride * s->acc_bytes;
    size_t budget = (size_t)min_size(PARTIALS_BUDGET, s->max_alloc);
    p->batch_chunks = min_size(budget / partial_bytes, p->n_chunks);
    if (p->batch_chunks == 0)
        p->batch_chunks = 1;  /* and reserve says so when even that is too large */
    return GALANN_OK;
}

static int reserve_work_space(opencl_state *s, const layout *p, const opencl_dataset *ds, int need_score,
                              int need_outputs)
{
    size_t n_params = p->stride - SCORE_SLOTS, slice_rows = min_size(ds->m, p->slice_chunks * p->chunk);
    int status = reserve(s, &s->theta, n_params * s->real_bytes, CL_MEM_READ_ONLY, "weights");
    if (status == GALANN_OK)
        status = reserve(s, &s->act, slice_rows * p->units * s->real_bytes, CL_MEM_READ_WRITE, "activations");
    if (status == GALANN_OK)
        status = reserve(s, &s->delta, slice_rows * p->units * s->real_bytes, CL_MEM_READ_WRITE, "deltas");
    if (status == GALANN_OK && need_score)
        status = reserve(s, &s->partials, p->batch_chunks * p->stride * s->acc_bytes, CL_MEM_READ_WRITE,
                         "partial sums");
    if (status == GALANN_OK && need_score)
        status = reserve(s, &s->result, 2 * p->stride * s->acc_bytes, CL_MEM_READ_WRITE, "results");
    if (status == GALANN_OK && need_score)
        status = reserve_host(&s->staging, &s->staging_capacity, 2 * p->stride * s->acc_bytes, 1, "bytes of results");
    if (status == GALANN_OK && s->single)
        status = reserve_host((void **)&s->theta_f, &s->theta_f_capacity, n_params, sizeof(float), "weights");
    if (status == GALANN_OK && s->single && need_outputs)
        status = reserve_host((void **)&s->outputs_f, &s->outputs_f_capacity, ds->m * ds->k, sizeof(float),
                              "outputs");
    return status;
}

/* A_l = g([1, A_{l-1}] Theta_l^T), l = 1..L, for the slice's samples; z_L
 * is kept in the delta buffer for the stable cost. Layer 1 reads X through
 * the kernels of the dataset's storage. forward_layer unless it would
 * leave the device's compute units short of work-groups (few samples on a
 * GPU): then forward_tiled, which gives the same bits. */
static int enqueue_forward(opencl_state *s, event_log *log, const galann_net_view *net, const layout *p,
                           const opencl_dataset *ds, const slice *sl)
{
    for (size_t l = 1; l <= p->L; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        size_t global[2] = { round_up(sl->rows, s->line), (rows + UNITS_PER_ITEM - 1) / UNITS_PER_ITEM };
        size_t local[2] = { s->line, 1 };
        int tiled = global[0] / s->line * global[1] < MIN_GROUPS_PER_UNIT * (size_t)s->compute_units;
        if (tiled) {
            global[0] = round_up(rows, s->tile);
            global[1] = round_up(sl->rows, s->tile);
            local[0] = local[1] = s->tile;
        }
        int which = tiled ? K_FORWARD_TILED : K_FORWARD;
        cl_kernel kernel = l > 1 ? s->kernels[which]
                                 : input_kernel(s, ds->storage, tiled ? X_FORWARD_TILED : X_FORWARD);
        kernel_args a = { kernel, 0, CL_SUCCESS };
        arg_mem(&a, l == 1 ? sl->part->x : s->act.mem);
        arg_mem(&a, l == 1 && ds->values ? ds->values : s->theta.mem);  /* any buffer where unused */
        arg_ulong(&a, l == 1 ? sl->part_row * cols : sl->unit_off[l - 1]);
        arg_uint(&a, cols);
        arg_mem(&a, s->theta.mem);
        arg_ulong(&a, p->param_off[l]);
        arg_uint(&a, rows);
        arg_uint(&a, sl->rows);
        arg_mem(&a, s->act.mem);
        arg_ulong(&a, sl->unit_off[l]);
        arg_mem(&a, s->delta.mem);
        arg_ulong(&a, sl->unit_off[l]);
        arg_int(&a, l == p->L);
        int status = run_kernel(s, log, kernel, which, &a, 2, global, local);
        if (status != GALANN_OK)
            return status;
    }
    return GALANN_OK;
}

/* Per-chunk cost and correct count; delta_L = a_L - y when the gradient
 * follows. */
static int enqueue_score(opencl_state *s, event_log *log, const layout *p, const opencl_dataset *ds, const slice *sl,
                         int want_delta)
{
    kernel_args a = { s->kernels[K_SCORE], 0, CL_SUCCESS };
    arg_mem(&a, s->delta.mem);
    arg_ulong(&a, sl->unit_off[p->L]);
    arg_mem(&a, s->act.mem);
    arg_ulong(&a, sl->unit_off[p->L]);
    arg_mem(&a, sl->part->y);
    arg_ulong(&a, sl->part_row);
    arg_uint(&a, sl->rows);
    arg_uint(&a, ds->k);
    arg_uint(&a, p->chunk);
    arg_mem(&a, s->partials.mem);
    arg_ulong(&a, p->stride);
    arg_ulong(&a, sl->batch_chunk * p->stride + SLOT_COST);
    arg_int(&a, want_delta);
    size_t group = s->line, global = (sl->rows + p->chunk - 1) / p->chunk * group;
    return run_kernel(s, log, s->kernels[K_SCORE], K_SCORE, &a, 1, &global, &group);
}

/* For l = L..1: the chunks' partial gradients of layer l, then
 * delta_{l-1} = (delta_l Theta_l[:, 1:]) .* a_{l-1} (1 - a_{l-1}). */
static int enqueue_backward(opencl_state *s, event_log *log, const galann_net_view *net, const layout *p,
                            const opencl_dataset *ds, const slice *sl)
{
    size_t chunks = (sl->rows + p->chunk - 1) / p->chunk;
    for (size_t l = p->L; l >= 1; l--) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        cl_kernel kernel = l > 1 ? s->kernels[K_GRADIENT] : input_kernel(s, ds->storage, X_GRADIENT);
        kernel_args a = { kernel, 0, CL_SUCCESS };
        arg_mem(&a, s->delta.mem);
        arg_ulong(&a, sl->unit_off[l]);
        arg_uint(&a, rows);
        arg_mem(&a, l == 1 ? sl->part->x : s->act.mem);
        arg_mem(&a, l == 1 && ds->values ? ds->values : s->theta.mem);
        arg_ulong(&a, l == 1 ? sl->part_row * cols : sl->unit_off[l - 1]);
        arg_uint(&a, cols);
        arg_uint(&a, sl->rows);
        arg_uint(&a, p->chunk);
        arg_mem(&a, s->partials.mem);
        arg_ulong(&a, p->stride);
        arg_ulong(&a, sl->batch_chunk * p->stride + SCORE_SLOTS + p->param_off[l]);
        size_t global[3] = { round_up(cols + 1, s->line), (rows + UNITS_PER_ITEM - 1) / UNITS_PER_ITEM, chunks };
        size_t local[3] = { s->line, 1, 1 };
        int status = run_kernel(s, log, kernel, K_GRADIENT, &a, 3, global, local);
        if (status != GALANN_OK || l == 1)
            return status;

        kernel_args b = { s->kernels[K_BACKWARD], 0, CL_SUCCESS };
        arg_mem(&b, s->delta.mem);
        arg_ulong(&b, sl->unit_off[l]);
        arg_uint(&b, rows);
        arg_mem(&b, s->theta.mem);
        arg_ulong(&b, p->param_off[l]);
        arg_uint(&b, cols);
        arg_uint(&b, sl->rows);
        arg_mem(&b, s->act.mem);
        arg_ulong(&b, sl->unit_off[l - 1]);
        arg_mem(&b, s->delta.mem);
        arg_ulong(&b, sl->unit_off[l - 1]);
        size_t global_b[2] = { round_up(cols, s->tile), round_up(sl->rows, s->tile) };
        size_t local_b[2] = { s->tile, s->tile };
        status = run_kernel(s, log, s->kernels[K_BACKWARD], K_BACKWARD, &b, 2, global_b, local_b);
        if (status != GALANN_OK)
            return status;
    }
    return GALANN_OK;
}

/* result[p] + result[count + p] = the sum over the batch's chunks of
 * partials[c][p], p < count, carried on from the batches before. */
static int enqueue_reduce(opencl_state *s, event_log *log, const layout *p, size_t chunks, size_t count, int first)
{
    kernel_args a = { s->kernels[K_REDUCE], 0, CL_SUCCESS };
    arg_mem(&a, s->partials.mem);
    arg_ulong(&a, p->stride);
    arg_uint(&a, chunks);
    arg_uint(&a, count);
    arg_int(&a, first);
    arg_mem(&a, s->result.mem);
    size_t local = REDUCE_GROUP, global = round_up(count, REDUCE_GROUP);
    return run_kernel(s, log, s->kernels[K_REDUCE], K_REDUCE, &a, 1, &global, &local);
}

/* The slice of chunks [c0, c1) of part. */
static void slice_make(const galann_net_view *net, const layout *p, const opencl_dataset *ds, const data_part *part,
                       size_t c0, size_t c1, size_t batch_first, slice *sl)
{
    sl->part = part;
    sl->first = c0 * p->chunk;
    sl->rows = min_size(c1 * p->chunk, ds->m) - sl->first;
    sl->part_row = sl->first - part->first;
    sl->batch_chunk = c0 - batch_first;
    size_t off = 0;
    for (size_t l = 1; l <= p->L; l++) {
        sl->unit_off[l] = off;
        off += sl->rows * net->sizes[l];
    }
}

/* Everything one evaluation runs, slice after slice, each batch of
 * partial sums reduced once its last slice is done. */
static int enqueue_slices(opencl_state *s, event_log *log, const galann_eval_request *req, const layout *p,
                          const opencl_dataset *ds, size_t count)
{
    const galann_net_view *net = &req->net;
    int need_grad = req->gradient != NULL;
    int need_score = need_grad || req->cost || req->n_correct;
    size_t batch_first = 0;  /* the first chunk of the current batch */
    for (size_t i = 0; i < ds->n_parts; i++) {
        const data_part *part = &ds->parts[i];
        size_t part_end = (part->first + part->rows + p->chunk - 1) / p->chunk;
        for (size_t c0 = part->first / p->chunk; c0 < part_end;) {
            size_t c1 = min_size(min_size(part_end, c0 + p->slice_chunks), batch_first + p->batch_chunks);
            slice sl;
            slice_make(net, p, ds, part, c0, c1, batch_first, &sl);
            int status = enqueue_forward(s, log, net, p, ds, &sl);
            if (status == GALANN_OK && need_score)
                status = enqueue_score(s, log, p, ds, &sl, need_grad);
            if (status == GALANN_OK && need_grad)
                status = enqueue_backward(s, log, net, p, ds, &sl);
            if (c1 == batch_first + p->batch_chunks || c1 == p->n_chunks) {
                if (status == GALANN_OK && need_score)
                    status = enqueue_reduce(s, log, p, c1 - batch_first, count, batch_first == 0);
                batch_first = c1;
            }
            if (status != GALANN_OK)
                return status;
            if (req->outputs) {
                /* before the next slice's forward pass overwrites them (an in-order queue) */
                size_t k = ds->k, bytes = sl.rows * k * s->real_bytes;
                void *to = s->single ? (void *)(s->outputs_f + sl.first * k) : (void *)(req->outputs + sl.first * k);
                cl_int err = clEnqueueReadBuffer(s->queue, s->act.mem, CL_FALSE, sl.unit_off[p->L] * s->real_bytes,
                                                 bytes, to, 0, NULL, event_slot(s, log, T_DOWNLOAD));
                if (err != CL_SUCCESS)
                    return cl_failure(err, "clEnqueueReadBuffer(outputs)");
            }
            c0 = c1;
        }
    }
    return GALANN_OK;
}

/* Sum i of the results read back: the sum plus its carry, in double. */
static double result_value(const opencl_state *s, size_t count, size_t i)
{
    if (s->acc_float) {
        const float *f = s->staging;
        return (double)f[i] + (double)f[count + i];
    }
    const double *d = s->staging;
    return d[i] + d[count + i];
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

    if (!ds) {
        /* Without the core's cache: a dataset for this call only. */
        status = opencl_prepare_dataset(s, data, &temporary);
        if (status != GALANN_OK)
            goto done;
        ds = temporary;
    }
    if (ds->m != data->m || ds->n != data->n || ds->k != data->k || net->n_layers < 2 ||
        net->sizes[0] != ds->n || net->sizes[net->n_layers - 1] != ds->k) {
        status = galann_error_set(GALANN_ERR_DIMENSION, "opencl: the dataset on the device is %zu x %zu with %zu "
                                  "labels, the call has %zu x %zu with %zu", ds->m, ds->n, ds->k, data->m, data->n,
                                  data->k);
        goto done;
    }
    status = plan(s, net, ds, &p);
    if (status != GALANN_OK)
        goto done;
    int need_grad = req->gradient != NULL;
    int need_score = need_grad || req->cost || req->n_correct;
    status = reserve_work_space(s, &p, ds, need_score, req->outputs != NULL);
    if (status != GALANN_OK)
        goto done;

    enqueued = 1;
    const void *theta = net->theta;
    if (s->single) {
        for (size_t i = 0; i < net->n_params; i++)
            s->theta_f[i] = (float)net->theta[i];
        theta = s->theta_f;
    }
    err = clEnqueueWriteBuffer(s->queue, s->theta.mem, CL_FALSE, 0, net->n_params * s->real_bytes, theta, 0, NULL,
                               event_slot(s, &log, T_UPLOAD));
    if (err != CL_SUCCESS) {
        status = cl_failure(err, "clEnqueueWriteBuffer(weights)");
        goto done;
    }
    size_t count = SCORE_SLOTS + (need_grad ? net->n_params : 0);
    status = enqueue_slices(s, &log, req, &p, ds, count);
    if (status != GALANN_OK)
        goto done;
    if (need_score) {
        err = clEnqueueReadBuffer(s->queue, s->result.mem, CL_FALSE, 0, 2 * count * s->acc_bytes, s->staging, 0, NULL,
                                  event_slot(s, &log, T_DOWNLOAD));
        if (err != CL_SUCCESS) {
            status = cl_failure(err, "clEnqueueReadBuffer(results)");
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
        *req->cost = result_value(s, count, SLOT_COST) / m;
    if (req->n_correct)
        *req->n_correct = (size_t)result_value(s, count, SLOT_CORRECT);
    if (need_grad) {
        for (size_t i = 0; i < net->n_params; i++)
            req->gradient[i] = result_value(s, count, SCORE_SLOTS + i) / m;
    }
    if (req->outputs && s->single) {
        for (size_t i = 0; i < ds->m * ds->k; i++)
            req->outputs[i] = (double)s->outputs_f[i];
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
    free(s->theta_f);
    free(s->outputs_f);
    free(s->cache_dir);
    if (s->queue)
        clReleaseCommandQueue(s->queue);
    if (s->context)
        clReleaseContext(s->context);
    free(s);
}

/* GALANN_OPENCL_MAX_BUFFER_BYTES (a testing knob): the largest buffer to
 * make, when below the device's limit; *bytes is left alone when unset. */
static int max_buffer_from_environment(cl_ulong *bytes)
{
    const char *env = getenv("GALANN_OPENCL_MAX_BUFFER_BYTES");
    if (!env || !*env)
        return GALANN_OK;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(env, &end, 10);
    if (*end != '\0' || errno != 0 || v == 0 || env[0] == '-')
        return galann_error_set(GALANN_ERR_INVALID, "opencl: GALANN_OPENCL_MAX_BUFFER_BYTES=\"%.40s\" is not a "
                                "positive number of bytes", env);
    if (v < *bytes)
        *bytes = (cl_ulong)v;
    return GALANN_OK;
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
    /* double needs fp64; single and "any" take any device */
    int want_double = cfg->precision != GALANN_PRECISION_SINGLE && cfg->precision != GALANN_PRECISION_ANY;
    status = ocl_device_select(&list, cfg->device, want_double, &index);
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
    status = max_buffer_from_environment(&s->max_alloc);
    if (status != GALANN_OK)
        goto fail;
    s->profiling = cfg->profile;
    s->single = cfg->precision == GALANN_PRECISION_SINGLE || (cfg->precision == GALANN_PRECISION_ANY && !d->fp64);
    s->acc_float = s->single && !d->fp64;
    s->real_bytes = s->single ? sizeof(float) : sizeof(double);
    s->acc_bytes = s->acc_float ? sizeof(float) : sizeof(double);
    s->base_storage = s->single ? GALANN_STORAGE_F32 : GALANN_STORAGE_F64;
    if (cfg->cache_dir && !(s->cache_dir = strdup(cfg->cache_dir))) {
        status = galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory for a context");
        goto fail;
    }

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
    status = build_kernels(s);
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
    status = ocl_device_select(&list, NULL, 1, &index);
    ocl_device_list_free(&list);
    return status;
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
    const char *precision = !s->single ? "" : s->acc_float ? ", single precision (float sums)"
                                                           : ", single precision (double sums)";
    int n = snprintf(buf, size, "opencl: %s (%s, driver %s)%s", s->device_name, s->platform_name, s->driver_version,
                     precision);
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

/* What was asked for, and the storage of X (whose kernels may still be
 * compiled for the device on their first run): 0..47. */
static unsigned request_kind(const galann_eval_request *req)
{
    unsigned storage = req->data.storage >= 0 && req->data.storage < N_STORAGES ? (unsigned)req->data.storage : 0u;
    return (req->cost ? 1u : 0u) | (req->gradient ? 2u : 0u) | (req->outputs ? 4u : 0u) |
           (req->n_correct ? 8u : 0u) | storage << 4;
}

static int guarded_evaluate(void *state, const galann_eval_request *req)
{
    opencl_state *s = state;
    uint64_t kind = (uint64_t)1 << request_kind(req);
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

static int opencl_precision(void *state)
{
    const opencl_state *s = state;
    return s->single ? GALANN_PRECISION_SINGLE : GALANN_PRECISION_DOUBLE;
}

const galann_backend_ops galann_opencl_backend = {
    .name = "opencl",
    .probe = guarded_probe,
    .has_device = ocl_has_device,
    .create = guarded_create,
    .destroy = guarded_destroy,
    .evaluate = guarded_evaluate,
    .set_threads = NULL,
    .describe = opencl_describe,
    .device_count = ocl_device_count,
    .device_get = ocl_device_get,
    .list_devices = guarded_list_devices,
    .prepare_dataset = guarded_prepare_dataset,
    .release_dataset = guarded_release_dataset,
    .profile = opencl_profile,
    .precision = opencl_precision,
};
