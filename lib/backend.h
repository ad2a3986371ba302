/*
 * backend.h -- the one interface between the core and a compute backend.
 *
 * A backend lives in backends/<name>/, includes only this header and
 * galann.h, and fills one struct galann_backend_ops. The core adds the
 * regularisation term, checks arguments and sizes, and turns outputs into
 * predictions; a backend computes only the data term of the cost, its
 * gradient and the output activations, for a network of any depth.
 *
 * Adding a backend: a folder, an ops struct, one line in the table of
 * lib/registry.c (docs/architecture.md). Optional hooks may be NULL: the
 * core calls every hook through one wrapper (registry.h), which supplies
 * the default, so nothing else tests them.
 */
#ifndef GALANN_BACKEND_H
#define GALANN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "galann.h"
#include "error.h"
#include "exact_sum.h"
#include "hash.h"

/* A network as the backend sees it: layer sizes s_0..s_L (n_layers = L+1)
 * and the flat parameter vector (Theta_1 row-major, then Theta_2, ...). */
typedef struct galann_net_view {
    size_t n_layers;
    const size_t *sizes;
    size_t n_params;
    const double *theta;
} galann_net_view;

/* A dataset as the backend sees it. attachment is what the backend's
 * prepare_dataset made of this dataset on this context (NULL without one). */
typedef struct galann_data_view {
    void *attachment;
    size_t m;                 /* samples */
    size_t n;                 /* features */
    size_t k;                 /* labels */
    int storage;              /* GALANN_STORAGE_F64, _F32 or _U8 */
    const void *features;     /* m x n row-major, of the storage type */
    const double *u8_values;  /* u8: the value of each byte (p / divisor) */
    double divisor;           /* u8: the divisor (u8_values[p] is exactly
                                 (double)p / divisor); 1 otherwise */
    const int32_t *y;         /* m labels in [0, k) */
} galann_data_view;

/* The f64 features themselves (no copy), or NULL when stored otherwise. */
const double *galann_data_view_f64(const galann_data_view *v);
/* Rows [first, first + count) as doubles (count x n) into out: exactly the
 * numbers the f64 dataset of the same data holds. */
void galann_data_view_rows(const galann_data_view *v, size_t first, size_t count, double *out);
/* The same rows as floats (rounded to nearest from those doubles). */
void galann_data_view_rows_f32(const galann_data_view *v, size_t first, size_t count, float *out);

/* Samples per chunk of the data sums (galann_sum_chunk_samples): chunks
 * start at the dataset's first row, every GALANN_SUM_CHUNK samples. */
#define GALANN_SUM_CHUNK 512

/* One evaluation. Every output pointer may be NULL, meaning "not needed".
 *
 * A backend whose ops set exact_sums receives, instead of cost and
 * gradient, an accumulator of n_params + 1 sums (cleared by the core) and
 * adds to it the data sums of every chunk of GALANN_SUM_CHUNK samples:
 * sum_i delta_l,i [1; a_{l-1,i}]^T at [0, n_params) and the cost terms at
 * n_params, not divided by m. Each chunk's partial must be computed the
 * same way whatever thread computes it; the core divides, adds the lambda
 * term, and combines processes. */
typedef struct galann_eval_request {
    galann_net_view net;
    galann_data_view data;
    double *cost;       /* (1/m) sum_i sum_c [-y log a - (1-y) log(1-a)], no lambda term */
    double *gradient;   /* n_params: (1/m) sum_i delta_l,i [1; a_{l-1,i}]^T, no lambda term */
    galann_exact_sum *sums; /* exact_sums backends: see above; cost_wanted says
                               whether the cost is needed, gradient_wanted the gradient */
    int cost_wanted, gradient_wanted;
    double *rounded;    /* exact_sums backends, when not NULL: n_params + 1 doubles,
                           each of the combined sums rounded to nearest (not
                           divided by m), written after the sums are complete */
    double *outputs;    /* m x k output activations */
    size_t *n_correct;  /* samples whose argmax output (first on ties) equals the label */
} galann_eval_request;

typedef struct galann_backend_config {
    int threads;              /* >= 1 */
    int precision;            /* GALANN_PRECISION_DOUBLE, _SINGLE or _ANY */
    const char *device;       /* backend-specific device selector, may be NULL */
    const char *cache_dir;    /* may be NULL */
    int profile;              /* time transfers and kernels (device backends) */
} galann_backend_config;

typedef struct galann_backend_ops {
    const char *name;  /* the registry's name for it (lib/registry.c) */
    /* 1: evaluate fills req->sums (the reproducible form) instead of cost
     * and gradient. */
    int exact_sums;
    /* GALANN_OK if a context could be created here; otherwise a status with
     * the reason set through galann_error_set. NULL: always usable. */
    int (*probe)(void);
    /* For "best available": 1 when the backend offers a usable device of
     * type (a galann_device_type) here, else 0 (never an error). Must
     * answer cheaply: no runtime loaded unless the answer may be yes.
     * NULL: yes for GALANN_DEVICE_CPU when probe succeeds, else no. */
    int (*has_device)(int type);
    int (*create)(const galann_backend_config *cfg, void **state);
    void (*destroy)(void *state);
    int (*evaluate)(void *state, const galann_eval_request *req);
    /* Optional: change the thread count; NULL = the backend is serial. */
    int (*set_threads)(void *state, int threads);
    /* Optional: describe the context's device in one line; NULL: the name. */
    int (*describe)(void *state, char *buf, size_t size);
    /* Optional: the devices this backend can use, without a context:
     * device_count sets *count (>= 1 on success), device_get fills *out
     * (a zeroed galann_device of the library's size) for index <
     * count. NULL: one device, the host CPU (galann_host_cpu_device). */
    int (*device_count)(size_t *count);
    int (*device_get)(size_t index, galann_device *out);
    /* Optional: the devices as text, one per line (galann_backend_devices).
     * NULL: built from device_count and device_get. */
    int (*list_devices)(char *buf, size_t size);
    /* Optional: derive something from a dataset once per (dataset, context),
     * a device copy for instance. The core calls it on the first evaluation
     * of a dataset on a context, hands the result back in every later
     * request's data.attachment, and calls release_dataset when the dataset
     * or the context is freed, whichever comes first. */
    int (*prepare_dataset)(void *state, const galann_data_view *data, void **attachment);
    void (*release_dataset)(void *state, void *attachment);
    /* Optional: add the device time split (upload, kernel, download and
     * dataset fields) to *out; the core fills evaluations and seconds. */
    void (*profile)(void *state, galann_profile *out);
    /* Optional: the precision the state computes in (DOUBLE or SINGLE).
     * NULL: the backend computes in double only, and the core refuses a
     * request for single before create. */
    int (*precision)(void *state);
} galann_backend_ops;

/* ---- services the core offers backends (hidden, not part of the ABI) ---- */

/* galann_hash64 (hash.h): a 64-bit hash for cache keys. */

/* The host CPU as one device, for the backends that compute on it
 * (reference, blas): its "model name" from /proc/cpuinfo when readable,
 * else "host CPU"; type CPU, fp64, the physical memory. Their
 * device_count and device_get hooks. */
int galann_host_cpu_device_count(size_t *count);
int galann_host_cpu_device(size_t index, galann_device *out);

#endif /* GALANN_BACKEND_H */
