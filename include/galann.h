/*
 * galann.h -- the public interface of libgalann, and its reference manual.
 *
 * libgalann trains and runs small fully connected sigmoid networks (the
 * galaxy-morphology classifier: 32x32 images -> Elliptical / Spiral /
 * Irregular) with the exact mathematics of the original Python program,
 * on interchangeable compute backends.
 *
 * This file is the authoritative reference: every function says here what
 * its parameters mean, who owns what, what may run in which thread and
 * which statuses it returns; every public struct field is described where
 * it is declared. Read it top to bottom: version, statuses, contexts and
 * backends, datasets, models, computing, the optimizer, training,
 * reproducible and data-parallel evaluation. docs/api.md holds what a
 * header cannot: the conventions in full (§1), a tutorial (§2), the
 * mathematics of the cost and gradient and of the minimizer (§3), the
 * environment variables (§4) and notes for maintainers (§5).
 *
 * The conventions, in short (docs/api.md §1):
 *
 *   - Every function that can fail returns an int status: GALANN_OK (0) on
 *     success, a galann_status code otherwise. galann_strerror() gives the
 *     fixed text of a status, galann_last_error() the detailed message of
 *     the calling thread's most recent call ("train.csv:4: expected 1025
 *     fields, found 1001"; "" after a success).
 *   - "Statuses:" after a function lists what it returns besides
 *     GALANN_OK, with the causes in parentheses.
 *   - The library never prints, exits or aborts. On failure no output
 *     handle is created and *out is set to NULL (when out is not NULL);
 *     output arrays the caller passed may be partly written and are then
 *     undefined.
 *   - Handles are opaque. A handle may be used by one thread at a time;
 *     different handles may be used concurrently from different threads.
 *     Datasets are immutable and may be read by several contexts in several
 *     threads at once. Functions that take no handle are safe from any
 *     thread.
 *   - Whatever the caller passes in (arrays, strings, paths, options) is
 *     read during the call only: the library copies what it keeps.
 *   - The _free functions accept NULL.
 */
#ifndef GALANN_H
#define GALANN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define GALANN_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define GALANN_API __attribute__((visibility("default")))
#else
#  define GALANN_API
#endif

/* ---------------------------------------------------------------- version */

#define GALANN_VERSION_MAJOR 0
#define GALANN_VERSION_MINOR 1
#define GALANN_VERSION_PATCH 0
#define GALANN_VERSION_STRING "0.1.0"
/* One integer that grows with every release: major*10000 + minor*100 + patch. */
#define GALANN_VERSION_NUMBER (GALANN_VERSION_MAJOR * 10000 + GALANN_VERSION_MINOR * 100 + GALANN_VERSION_PATCH)

/* The version of the library actually loaded (may differ from the header). */
GALANN_API const char *galann_version(void);
GALANN_API int galann_version_number(void);

/* --------------------------------------------------------------- statuses */

/* What a call returned. Functions return int rather than the enum, so that
 * the values stay stable across compilers: compare the result with these
 * names; only GALANN_OK means success. Each comment starts with the text
 * galann_strerror() gives. galann_minimize_cg is the one function that can
 * return other values: it passes on what the caller's objective returns. */
typedef enum galann_status {
    GALANN_OK = 0,               /* "success" */
    GALANN_ERR_INVALID = 1,      /* "invalid argument": a NULL pointer, a zero
                                    size, an option out of range, an unknown
                                    backend name, a malformed GALANN_THREADS */
    GALANN_ERR_NOMEM = 2,        /* "out of memory": an allocation failed, a size
                                    computation would overflow, or a thread
                                    could not be started */
    GALANN_ERR_IO = 3,           /* "input/output error": a file could not be
                                    opened, read, written, synced or renamed; a
                                    CSV or model path is not a regular file (a
                                    FIFO, a device, a directory), or the file
                                    changed while it was read */
    GALANN_ERR_PARSE = 4,        /* "parse error": malformed CSV; the message
                                    begins with name:line: */
    GALANN_ERR_DIMENSION = 5,    /* "dimension mismatch": the sizes of model,
                                    dataset and buffer disagree, or exceed what
                                    a backend can index */
    GALANN_ERR_UNAVAILABLE = 6,  /* "backend unavailable": the backend is not
                                    built in, its library (CBLAS) cannot be
                                    loaded, or it has no usable device */
    GALANN_ERR_NONFINITE = 7,    /* "non-finite number": NaN or infinity in
                                    inputs or results (a cost, a gradient, a
                                    NaN network output) */
    GALANN_ERR_FORMAT = 8,       /* "invalid model format": a model file or
                                    buffer is not a valid model */
    GALANN_ERR_BACKEND = 9,      /* "backend failure": a backend failed at run
                                    time (an OpenCL kernel build, a device
                                    error); on a data-parallel context also a
                                    failing allreduce callback, or a failure on
                                    another process */
    GALANN_ERR_CANCELLED = 10,   /* "cancelled": a progress callback asked to
                                    stop */
    GALANN_ERR_BUSY = 11         /* "context busy": the context is in use by
                                    another call: another thread's, or one made
                                    from a callback inside a call on the same
                                    context (docs/api.md §1.6) */
} galann_status;

/* The fixed English text of a status (above); "unknown status" for any
 * other value. Never NULL; the string is static. Cannot fail, leaves the
 * thread's message as it is, safe from any thread. */
GALANN_API const char *galann_strerror(int status);

/* The detailed message of this thread's most recent call of a libgalann
 * function that can fail: what failed and where ("train.csv:4: expected
 * 1025 fields, found 1001"), or "" if that call succeeded (every such
 * function clears it first). The functions that cannot fail (accessors,
 * _free, _init_size, galann_strerror, galann_stop_reason_string, the
 * version functions) leave it as it is, so it can still be read after
 * freeing the handles. One thread never sees another's message.
 *
 * Never NULL. It points to a thread-local buffer of 1024 bytes whose text
 * may change at this thread's next libgalann call: copy it to keep it. A
 * longer message keeps its start and its end (docs/api.md §1.2). */
GALANN_API const char *galann_last_error(void);

/* ---------------------------------------------------------------- context */

/* A compute context: one instance of a compute backend with its settings
 * (the thread pool of blas; the device, queue and compiled kernels of
 * opencl). Every computing, training and prediction call takes one. Use
 * one context from one thread at a time: a call made while another call
 * uses the context returns GALANN_ERR_BUSY (docs/api.md §1.6).
 *
 * The backends; which ones a library holds depends on its build options
 * (reference always):
 *
 *   reference  plain C, serial, one sample at a time: the oracle the other
 *              backends are tested against. 1 thread; device "0: host CPU".
 *   blas       the matrix form through CBLAS on blocks of samples, with its
 *              own thread pool (the calling thread plus n - 1 workers, n in
 *              1..1024): the fast CPU path. CBLAS is loaded (dlopen) by the
 *              first blas context, not linked. Device "0: host CPU".
 *   opencl     kernels on any OpenCL device with double precision
 *              (cl_khr_fp64); a dataset is copied to the device on its first
 *              use. Serial on the host side; one device per OpenCL device.
 *
 * All compute the same mathematics (docs/api.md §3) and agree to about
 * 1e-12 relative; for a given backend, device and thread count the results
 * are deterministic to the bit. blas and opencl support at most 64 layers
 * and refuse deeper networks with GALANN_ERR_INVALID when they evaluate
 * them. */
typedef struct galann_context galann_context;

/* Options for galann_context_new_ex. Fill with galann_context_options_init,
 * then change the fields you need, so that fields added later keep their
 * defaults. The strings are read during galann_context_new_ex only.
 *
 * About every _init macro in this file: it passes the size of the caller's
 * struct to the _init_size function, which writes the defaults into that
 * many bytes at most (and no more than the library's struct) and sets
 * struct_size to the bytes written; so a program built against an older,
 * shorter struct is never written past its end by a newer library, and the
 * library knows which fields the caller has (docs/api.md §1.5). Bindings
 * that cannot use macros call the _init_size function with their struct's
 * size. An _init_size function does nothing when the pointer is NULL or
 * size < sizeof(size_t); it cannot fail, leaves the thread's message alone
 * and is safe from any thread. Functions that read options accept a
 * smaller struct_size (the fields beyond it keep their defaults) and refuse
 * 0 or one larger than the library's struct with GALANN_ERR_INVALID. */
typedef struct galann_context_options {
    size_t struct_size;  /* set by galann_context_options_init */
    int threads;         /* worker threads for blas, 0..1024; default 0 =
                            GALANN_THREADS from the environment, else the
                            number of online CPUs (at most 1024). The serial
                            backends (reference, opencl) always run 1: they
                            ignore it (it must still be in 0..1024) and
                            never read GALANN_THREADS */
    const char *device;  /* opencl: which device (the selector of docs/api.md
                            §4): all digits, an index of
                            galann_backend_devices; else a case-insensitive
                            substring of "platform device". Default NULL =
                            GALANN_OPENCL_DEVICE, else the first GPU with
                            fp64, else the first device with fp64 */
    const char *cache_dir; /* opencl: where compiled kernels are cached
                            (docs/api.md §4); default NULL = GALANN_CACHE_DIR,
                            else $XDG_CACHE_HOME/galann or ~/.cache/galann;
                            "" disables the cache */
    int profile;         /* nonzero: split the device time into transfers and
                            kernels (galann_profile); only opencl uses it, at
                            a little time per evaluation (the device records
                            event times). Default 0 = GALANN_PROFILE from the
                            environment, else off: no value forces it off
                            while GALANN_PROFILE is set */
} galann_context_options;

GALANN_API void galann_context_options_init_size(galann_context_options *opts, size_t size);
#define galann_context_options_init(opts) galann_context_options_init_size((opts), sizeof *(opts))

/* Create a context on backend: "reference", "blas" or "opencl". backend
 * NULL means GALANN_BACKEND from the environment when it is set and not
 * empty, else the best available: opencl when a GPU with fp64 is usable,
 * else blas when CBLAS loads, else reference (docs/api.md §4). opts NULL
 * means all defaults: galann_context_new(b, out) is
 * galann_context_new_ex(b, NULL, out). The environment is read here, and
 * only where the caller left the choice open. *out receives the context,
 * NULL on failure.
 *
 * Ownership: the caller frees the context with galann_context_free.
 * Threading: may run in any thread; do not change the environment from
 * another thread meanwhile.
 * Statuses: GALANN_ERR_INVALID (out NULL; opts->struct_size 0 or too large;
 * threads outside 0..1024; a backend name, from the argument or
 * GALANN_BACKEND, that no libgalann knows; a malformed GALANN_THREADS while
 * threads is 0 and the backend is blas: 'GALANN_THREADS="abc" is not a
 * thread count in 1..1024'), GALANN_ERR_UNAVAILABLE (a known backend not
 * built into this library; CBLAS cannot be loaded; opencl: no platform, no
 * device, no fp64 device, a selector that matches nothing, or a device
 * whose work-groups are smaller than the kernels' 64 items. The message
 * says which; there is no fallback to another backend), GALANN_ERR_BACKEND
 * (opencl: clCreateContext, the command queue or the kernel build failed;
 * the message holds the start of the build log), GALANN_ERR_NOMEM (also a
 * blas worker thread that cannot be started). */
GALANN_API int galann_context_new(const char *backend, galann_context **out);
GALANN_API int galann_context_new_ex(const char *backend, const galann_context_options *opts,
                                     galann_context **out);
/* Free a context and everything its backend derived from datasets (OpenCL
 * device copies); stops the blas worker threads. NULL is ignored. The
 * datasets and models used with it are not affected. Not guarded against
 * concurrent use: never call it while the context is in use, nor while
 * another thread frees a dataset this context has used. */
GALANN_API void galann_context_free(galann_context *ctx);

/* The name of the context's backend ("reference", "blas" or "opencl"),
 * "none" for NULL. Never NULL; static, so valid after the context is
 * freed. Cannot fail. */
GALANN_API const char *galann_context_backend(const galann_context *ctx);

/* Change the number of worker threads to n, 1..1024. blas builds a new
 * pool, then drops the old one; when the new one cannot be built, the old
 * one stays. The serial backends (reference, opencl) accept only n = 1,
 * which does nothing.
 * Statuses: GALANN_ERR_INVALID (ctx NULL; n outside 1..1024; n != 1 on a
 * serial backend: 'backend "reference" is serial: it runs 1 thread, not
 * 2'), GALANN_ERR_NOMEM (blas could not allocate or start the new pool),
 * GALANN_ERR_BUSY (blas: the context is in use). */
GALANN_API int galann_context_set_threads(galann_context *ctx, int n);
/* The current number of threads: 1 on serial backends, 0 for NULL. Cannot
 * fail. */
GALANN_API int galann_context_threads(const galann_context *ctx);

/* A one-line, human-readable description of the context, written into buf,
 * always NUL-terminated and truncated to size bytes without error:
 * "reference", "blas: CBLAS, 2 threads", "opencl: pthread-skylake-avx512-
 * AMD EPYC (Portable Computing Language, driver 3.1+debian)". With
 * profiling on (options.profile or GALANN_PROFILE), an opencl description
 * ends with the profile in milliseconds per successful evaluation, the
 * kernels one by one, and the dataset uploads in total (the numbers only
 * illustrate):
 *
 *   opencl: ... (..., driver ...); profile of 120 evaluations, ms each:
 *   upload 0.012, kernels 0.850 (forward_layer 0.210, forward_tiled 0.000,
 *   score_output 0.020, backward_layer 0.300, gradient_partial 0.300,
 *   reduce_partials 0.020), download 0.015; 2 dataset uploads, 3.100 ms in
 *   all
 *
 * galann_context_profile gives the same totals, in seconds, as numbers.
 * Statuses: GALANN_ERR_INVALID (ctx or buf NULL, size 0), GALANN_ERR_BUSY
 * (blas, opencl: the context is in use). */
GALANN_API int galann_context_describe(const galann_context *ctx, char *buf, size_t size);

/* Where a context's time went: totals since the context was created;
 * nothing resets them. Every backend times every evaluation, profiling on
 * or not (two clock reads each). An evaluation is one backend pass made by
 * galann_cost, galann_gradient, galann_cost_gradient, galann_predict,
 * galann_predict_proba, galann_accuracy, galann_check_gradient (1 + 2 per
 * checked parameter) or galann_fit (every objective call, plus the passes
 * for the training accuracy when it is not already known, for the
 * validation and test sets, and for the report). The device split needs
 * profiling on (galann_context_options.profile or GALANN_PROFILE) and a
 * device backend, today opencl; its times come from OpenCL event
 * profiling, so they are device times, not host wall time. */
typedef struct galann_profile {
    size_t struct_size;        /* galann_profile_init sets it; on return, the
                                  bytes written */
    uint64_t evaluations;      /* backend evaluations on this context, every
                                  backend. A call whose arguments are
                                  rejected makes none; one the backend fails
                                  still counts */
    double seconds;            /* wall time (CLOCK_MONOTONIC) inside them, every
                                  backend, the combination of the sums
                                  included (across processes too); not
                                  opencl's one-off dataset upload, which
                                  happens before the timed part */
    /* Device backends only (0 otherwise). The times need profiling on;
     * the upload count does not. */
    double upload_seconds;     /* opencl: writing the weights to the device */
    double kernel_seconds;     /* opencl: all kernels together
                                  (galann_context_describe lists them) */
    double download_seconds;   /* opencl: reading the cost, the gradient and
                                  the outputs back */
    uint64_t dataset_uploads;  /* opencl: datasets copied to the device, once
                                  per dataset and context; counted even with
                                  profiling off */
    double dataset_upload_seconds; /* opencl: the time of those copies, in total */
    /* Backends with exact sums (blas), with profiling on (0 otherwise): the
     * part of `seconds` spent adding chunk partials exactly, merging the
     * threads' accumulators and rounding (the thread that ran worker 0's
     * chunks, plus the core's clearing and combining, across processes too
     * on a data-parallel context). */
    double combine_seconds;
} galann_profile;

/* Reports (galann_profile, galann_cg_report, galann_fit_report) are
 * written by the library: set their size with the _init macro (it zeroes
 * the struct and sets struct_size), or set struct_size = sizeof the struct
 * yourself. The library writes only the bytes that both the caller's
 * struct and its own hold, and sets struct_size to the number it wrote: an
 * older program's shorter report is never written past its end, a newer
 * one's longer report keeps its extra bytes untouched. A struct_size of 0
 * (a report zeroed with memset or = {0}) or less than sizeof(size_t) is
 * refused with GALANN_ERR_INVALID before anything is computed or written.
 * The _init_size functions behave as the options' (galann_context_options
 * above). */
GALANN_API void galann_profile_init_size(galann_profile *profile, size_t size);
#define galann_profile_init(p) galann_profile_init_size((p), sizeof *(p))

/* Fill *out with the context's profile, as far as out->struct_size
 * reaches (galann_profile_init first).
 * Threading: it reads the context, so call it from the thread that uses
 * the context (from a progress callback, say, or after a fit).
 * Statuses: GALANN_ERR_INVALID (ctx or out NULL; out->struct_size 0 or
 * less than sizeof(size_t)), GALANN_ERR_BUSY (the context is in use). */
GALANN_API int galann_context_profile(const galann_context *ctx, galann_profile *out);

/* The backends compiled into this library, by index 0..count-1, in order of
 * preference: opencl, blas, reference, as far as each is built.
 * galann_backend_name returns a static string, NULL when index >= count. A
 * backend being listed does not mean it can run here: ask
 * galann_backend_available. Neither can fail; both are safe from any
 * thread. */
GALANN_API size_t galann_backend_count(void);
GALANN_API const char *galann_backend_name(size_t index);

/* Whether a context could be created on backend here. Reads neither
 * GALANN_BACKEND nor GALANN_OPENCL_DEVICE. reference is always available;
 * blas when CBLAS can be loaded (a failed load is tried again by the next
 * call); opencl needs a platform with at least one fp64 device. Safe from
 * any thread.
 * Statuses: GALANN_ERR_INVALID (backend NULL, or a name no libgalann
 * knows), GALANN_ERR_UNAVAILABLE (not built in, CBLAS cannot be loaded, or
 * no usable device: galann_last_error() says why), GALANN_ERR_NOMEM
 * (opencl: listing the devices). */
GALANN_API int galann_backend_available(const char *backend);

/* The devices backend can use, one per line, written into buf,
 * NUL-terminated and silently truncated to size. reference and blas list
 * "0: host CPU"; opencl lists every device of every platform, fp64 or not:
 *
 *   0: Portable Computing Language / pthread-skylake-avx512-AMD EPYC (CPU, fp64)
 *
 * The number is the index the device selector (galann_context_options.
 * device) accepts; the type is GPU, CPU, accelerator or other. Safe from
 * any thread.
 * Statuses: GALANN_ERR_INVALID (a NULL argument, size 0, an unknown name),
 * GALANN_ERR_UNAVAILABLE (not built in; opencl: no platform or no device
 * found, and buf is then ""), GALANN_ERR_NOMEM. */
GALANN_API int galann_backend_devices(const char *backend, char *buf, size_t size);

/* ---------------------------------------------------------------- dataset */

/* Samples (features, row-major) with integer class labels. A dataset
 * never changes after creation; backends may keep device copies of it,
 * which are released when the dataset or the context is freed. A dataset
 * may be freed only when no call is using it. */
typedef struct galann_dataset galann_dataset;

/* How a dataset stores its features. Every backend computes from every
 * storage type, converting a block of rows at a time; a u8 dataset and the
 * f64 dataset of the same pixels give the same numbers, bit for bit. */
typedef enum galann_storage {
    GALANN_STORAGE_AUTO = -1, /* CSV readers: u8 when every feature is a whole
                                 number 0..255, else f64 (lossless) */
    GALANN_STORAGE_F64 = 0,   /* 8 bytes per value, as given */
    GALANN_STORAGE_F32 = 1,   /* 4 bytes per value */
    GALANN_STORAGE_U8 = 2     /* 1 byte per value: pixel p means p / divisor */
} galann_storage;

/* Load a CSV file with one sample per line: label,p1,...,pn. Features are
 * scaled x = p / 255. n_labels is one more than the largest label found.
 * Accepts LF or CRLF line ends and an optional final newline. Rejects empty
 * files, ragged rows, non-numeric or non-finite fields and labels that are
 * not small non-negative integers, with status GALANN_ERR_PARSE and a
 * message "file:line: ...". I/O failures give GALANN_ERR_IO.
 * The caller frees the dataset with galann_dataset_free. */
GALANN_API int galann_dataset_load_csv(const char *path, galann_dataset **out);

/* The same from a memory buffer; name is used in messages (NULL =
 * "<memory>"). Every feature is divided by divisor (255 for pixel data,
 * as galann_dataset_load_csv does; 1 to keep values as written). */
GALANN_API int galann_dataset_parse_csv(const char *text, size_t length, const char *name,
                                        double divisor, galann_dataset **out);

/* How a CSV file is read, for the _with readers below. */
typedef struct galann_csv_options {
    size_t struct_size;          /* set by galann_csv_options_init */
    double divisor;              /* every feature is divided by it; default 255 */
    int header;                  /* 0 (default): no header; 1: the first line
                                    is a header, skipped; -1: detect (skipped
                                    when a field of it is not a number) */
    int labelled;                /* 1 (default): label,f1,...,fn; 0: pixels
                                    only, f1,...,fn (every label 0, n_labels 1:
                                    for galann_predict) */
    int storage;                 /* a galann_storage; default GALANN_STORAGE_AUTO.
                                    U8 refuses a value that is not a whole
                                    number 0..255 (GALANN_ERR_PARSE) */
} galann_csv_options;

GALANN_API void galann_csv_options_init_size(galann_csv_options *opts, size_t size);
#define galann_csv_options_init(opts) galann_csv_options_init_size((opts), sizeof *(opts))

/* galann_dataset_load_csv and galann_dataset_parse_csv with options (NULL =
 * the defaults, the same as the plain readers). Line numbers in messages
 * count the header. Statuses as the plain readers, plus GALANN_ERR_INVALID
 * for bad options. */
GALANN_API int galann_dataset_load_csv_with(const char *path, const galann_csv_options *opts,
                                            galann_dataset **out);
GALANN_API int galann_dataset_parse_csv_with(const char *text, size_t length, const char *name,
                                             const galann_csv_options *opts, galann_dataset **out);

/* Build a dataset from arrays (copied): features row-major n_samples x
 * n_features, labels in [0, n_labels). n_samples 0 (arrays may then be
 * NULL) makes an empty share for a data-parallel context
 * (galann_context_set_allreduce); evaluating it on a context without one is
 * GALANN_ERR_INVALID. Statuses: GALANN_ERR_INVALID (NULL, zero features or
 * labels, label out of range), GALANN_ERR_NONFINITE, GALANN_ERR_NOMEM. */
GALANN_API int galann_dataset_new(const double *features, const int32_t *labels, size_t n_samples,
                                  size_t n_features, size_t n_labels, galann_dataset **out);
GALANN_API void galann_dataset_free(galann_dataset *d);

/* galann_dataset_new for other storage types (arrays copied, as stored):
 * float features (finite), or 8-bit pixels whose values are p / divisor
 * (divisor finite and nonzero; 255 for pixels scaled to [0, 1]). Statuses
 * as galann_dataset_new. */
GALANN_API int galann_dataset_new_f32(const float *features, const int32_t *labels, size_t n_samples,
                                      size_t n_features, size_t n_labels, galann_dataset **out);
GALANN_API int galann_dataset_new_u8(const uint8_t *pixels, const int32_t *labels, size_t n_samples,
                                     size_t n_features, size_t n_labels, double divisor, galann_dataset **out);

/* A copy of d (same storage) that knows n_labels classes, when d's labels
 * use fewer (a test set without the last class). GALANN_ERR_INVALID when a
 * label is not below n_labels; GALANN_ERR_NOMEM. */
GALANN_API int galann_dataset_with_labels(const galann_dataset *d, size_t n_labels, galann_dataset **out);

/* The built-in synthetic galaxy set: n_samples procedurally drawn 32x32
 * images (1024 features, 3 labels, classes in turn): ellipticals (smooth
 * elliptical light profiles, random orientation and axis ratio), spirals
 * (bulge plus logarithmic arms) and irregulars (clumpy, asymmetric), with
 * sky noise. Pixels are whole numbers 0..255 divided by 255, like the real
 * data. Deterministic: the same seed gives the same set on every machine. */
GALANN_API int galann_dataset_synthesize(size_t n_samples, uint32_t seed, galann_dataset **out);

/* Write a dataset as CSV (label,p1,...,pn; features multiplied by
 * multiplier and printed with %.17g, or as integers when they are whole
 * numbers), atomically like galann_model_save. */
GALANN_API int galann_dataset_save_csv(const galann_dataset *d, const char *path, double multiplier);

/* Split d in two, stratified and seeded: of each class's c rows,
 * round(fraction * c) go to *held_out (at least 1 when c >= 2, never all
 * c), chosen by MT19937 seeded with seed; the others go to *rest. Both keep
 * the rows' order and all of d's labels (n_labels). The same d, fraction
 * and seed give the same split on every machine. Statuses:
 * GALANN_ERR_INVALID (NULL, fraction outside (0, 1), a part would be
 * empty), GALANN_ERR_NOMEM. */
GALANN_API int galann_dataset_split(const galann_dataset *d, double fraction, uint32_t seed,
                                    galann_dataset **rest, galann_dataset **held_out);

GALANN_API size_t galann_dataset_n_samples(const galann_dataset *d);
GALANN_API size_t galann_dataset_n_features(const galann_dataset *d);
GALANN_API size_t galann_dataset_n_labels(const galann_dataset *d);
/* Borrowed views of the dataset's arrays, valid until it is freed. For a
 * u8 or f32 dataset, galann_dataset_features makes a double copy on its
 * first call (8 bytes per value, kept until the dataset is freed; NULL if
 * memory runs out): prefer galann_dataset_copy_features for large data. */
GALANN_API const double *galann_dataset_features(const galann_dataset *d);
GALANN_API const int32_t *galann_dataset_labels(const galann_dataset *d);

/* The storage type (a galann_storage; -1 for NULL), the u8 divisor (1 for
 * other types), and the features as stored (uint8_t, float or double,
 * n_samples x n_features row-major; borrowed). */
GALANN_API int galann_dataset_storage(const galann_dataset *d);
GALANN_API double galann_dataset_divisor(const galann_dataset *d);
GALANN_API const void *galann_dataset_stored_features(const galann_dataset *d);
/* Rows [first_row, first_row + n_rows) as doubles into out (n_rows x
 * n_features). GALANN_ERR_INVALID (NULL), GALANN_ERR_DIMENSION (rows
 * outside the dataset). */
GALANN_API int galann_dataset_copy_features(const galann_dataset *d, size_t first_row, size_t n_rows, double *out);

/* ------------------------------------------------------------------ model */

/* A network with its weights. Its layer sizes are s_0 (inputs) ... s_L
 * (outputs, one per label), n_layers = L + 1 >= 2. Layer l = 1..L has the
 * weight matrix Theta_l of s_l x (s_{l-1} + 1); its column 0 multiplies the
 * bias unit. All weights live in one parameter vector:
 *
 *   theta     = [ Theta_1 row-major | Theta_2 row-major | ... | Theta_L ]
 *   Theta_l[r][j] = theta[offset_l + r * (s_{l-1} + 1) + j],
 *                   offset_l = sum_{i<l} s_i (s_{i-1} + 1)
 *   n_params  = sum_{l=1..L} s_l (s_{l-1} + 1)
 *
 * For the galaxy network 1024-8-3 that is 8 * 1025 + 3 * 9 = 8227
 * parameters. A model also holds an input divisor and, optionally, class
 * names. A model is a handle like the others: one thread at a time (give
 * each thread its own galann_model_copy). */
typedef struct galann_model galann_model;

/* Create a model with the n_layers sizes given (copied), all weights zero,
 * input divisor 255 and no class names. It fits a dataset when
 * layer_sizes[0] == n_features and layer_sizes[n_layers - 1] == n_labels.
 * Ownership: the caller frees the model with galann_model_free.
 * Statuses: GALANN_ERR_INVALID (out or layer_sizes NULL, fewer than 2
 * layers, a size of 0: "galann_model_new: layer 1 has size 0"),
 * GALANN_ERR_NOMEM (also a parameter count that overflows). */
GALANN_API int galann_model_new(const size_t *layer_sizes, size_t n_layers, galann_model **out);
/* An independent copy of m: sizes, weights, input divisor and class names.
 * Ownership: the caller frees it with galann_model_free.
 * Statuses: GALANN_ERR_INVALID (m or out NULL), GALANN_ERR_NOMEM. */
GALANN_API int galann_model_copy(const galann_model *m, galann_model **out);
/* Free a model (from _new, _copy, _load or _load_buffer). NULL is ignored. */
GALANN_API void galann_model_free(galann_model *m);

/* The number of parameters and of layers; 0 for NULL. Cannot fail. */
GALANN_API size_t galann_model_n_params(const galann_model *m);
GALANN_API size_t galann_model_n_layers(const galann_model *m);
/* Size of layer i (0 = inputs); 0 for NULL or i out of range. Cannot fail. */
GALANN_API size_t galann_model_layer_size(const galann_model *m, size_t i);

/* Copy the whole parameter vector in or out; n must equal
 * galann_model_n_params(m). set_params checks every value before it copies
 * anything, so on failure the model is unchanged.
 * Statuses: GALANN_ERR_INVALID (m or theta NULL), GALANN_ERR_DIMENSION (n
 * is wrong: "galann_model_get_params: buffer holds 5 values, the model has
 * 4115 parameters"), GALANN_ERR_NONFINITE (set_params only: a value is NaN
 * or infinite, "galann_model_set_params: parameter 0 is not finite"). */
GALANN_API int galann_model_set_params(galann_model *m, const double *theta, size_t n);
GALANN_API int galann_model_get_params(const galann_model *m, double *theta, size_t n);

/* Set every weight as the original Python program did:
 *
 *   np.random.seed(seed)
 *   Theta1 = np.random.rand(s1, s0 + 1) * 0.4 - 0.2   # then Theta2, ... from the same stream
 *
 * that is MT19937 seeded with numpy's legacy integer seeding (init_genrand),
 * and each weight, in parameter-vector order, rand() * 0.4 - 0.2 in double,
 * where rand() is numpy's 53-bit double made of two 32-bit outputs a, b:
 * ((a >> 5) * 2^26 + (b >> 6)) / 2^53. The result is bit-identical to
 * numpy: for seed 917 and a 1024-8-3 network the first weights are
 * -0.12277473672850125, -0.0020008377559056767 and 0.016243085887774594.
 * The weights lie in [-0.2, 0.2); the input divisor is not changed.
 * Statuses: GALANN_ERR_INVALID (m NULL). */
GALANN_API int galann_model_init_random(galann_model *m, uint32_t seed);

/* How raw inputs were scaled for this model, x = p / divisor: stored in the
 * model file and copied by galann_model_copy; new models get 255, as
 * galann_dataset_load_csv divides. It is metadata only: no computing,
 * prediction or training function reads it, since datasets are scaled when
 * they are created. It lets a program score raw data the way the model was
 * trained (galann_dataset_parse_csv(text, length, name,
 * galann_model_input_divisor(model), &d), as `galann predict` does).
 * galann_model_input_divisor returns 0.0 for NULL and cannot fail.
 * galann_model_set_input_divisor accepts any finite nonzero value.
 * Statuses (set): GALANN_ERR_INVALID (m NULL; divisor 0, NaN or infinite:
 * the old value stays). */
GALANN_API double galann_model_input_divisor(const galann_model *m);
GALANN_API int galann_model_set_input_divisor(galann_model *m, double divisor);

/* Names of the output classes, one per output unit (names[i] names class
 * i), copied; count 0 removes them (names may then be NULL). A name is
 * 1..255 bytes with no comma and no control byte, so that it can stand in
 * a CSV header and on a command line. Saved in the model file's optional
 * section (docs/model-format.md), kept by galann_model_copy.
 * Statuses: GALANN_ERR_INVALID (m NULL; names NULL with count > 0; a NULL
 * or bad name: the names are then unchanged), GALANN_ERR_DIMENSION (count
 * is not the number of outputs), GALANN_ERR_NOMEM. */
GALANN_API int galann_model_set_class_names(galann_model *m, const char *const *names, size_t count);
/* Class index's name, borrowed until the names change or the model is
 * freed; NULL when the model has no names, m is NULL or index is out of
 * range. Cannot fail. */
GALANN_API const char *galann_model_class_name(const galann_model *m, size_t index);

/* The binary model format, version 1, is described byte for byte in
 * docs/model-format.md: the layer sizes, the input divisor, the class names
 * when there are any, the weights and a CRC-32, all little-endian. Without
 * names a file is exactly 44 + 8 * n_layers + 8 * n_params bytes (65884 for
 * 1024-8-3). Weights round-trip bit for bit. The format holds at most 1024
 * layers of at most 2^31 - 1 units each, and class names of at most 2^24
 * bytes in all: galann_model_new accepts larger networks, but the savers
 * refuse them (GALANN_ERR_INVALID, nothing written), so the library never
 * writes a model it would not load. Both savers word that message alike:
 * "galann_model_save: 1025 layers do not fit the model format (at most
 * 1024)", "galann_model_save: layer 1 has 4294967296 units, the model
 * format holds at most 2147483647". */

/* Save m to path, atomically. The whole file is written to a new temporary
 * file path.tmp-<pid, 10 digits>-<16 hex digits> in the same directory (the
 * name of path cut short, at a character boundary, when the whole would not
 * fit the directory's NAME_MAX, so any valid name can be saved), fsynced,
 * renamed over path, and the directory is fsynced, so that a completed save
 * survives a power loss. Readers see the old file or the new one. On
 * failure the temporary is removed and an existing file is left as it was.
 * A save holds an flock on its temporary from creation to rename, and first
 * removes the temporaries of the same path that no one holds (left by saves
 * that were killed); a running save's temporary is never removed. The
 * temporary is created with open(O_CREAT | O_EXCL) and mode 0666, so the
 * file gets 0666 less the umask (0644 with the usual 022), also when it
 * replaces a file: the old file's mode is not kept.
 * Statuses: GALANN_ERR_INVALID (m or path NULL; a model the format cannot
 * hold, above), GALANN_ERR_NOMEM, GALANN_ERR_IO (creating, writing,
 * fsyncing, closing or renaming failed: "/nonexistent-dir/x.model: cannot
 * create a temporary file: No such file or directory"; also when only the
 * directory could not be synced, although the file has been replaced:
 * "m.model: replaced, but its folder could not be synced: ..."). */
GALANN_API int galann_model_save(const galann_model *m, const char *path);
/* Load a model file, validated as galann_model_load_buffer does; the path
 * is put before the message. path must name a regular file: a FIFO, a
 * device (/dev/zero) or a directory gives GALANN_ERR_IO ("/dev/zero: not a
 * regular file") without reading; to load from a pipe, read the bytes
 * yourself and call galann_model_load_buffer. The header and layer sizes
 * are read first; a file longer than they describe is refused before the
 * rest is read ("m.model: model has 1099511627524 unexpected bytes after
 * the checksum (the file has 1099511627776 bytes, its header describes
 * 252)"), and no more than they describe is ever read.
 * Ownership: the caller frees *out with galann_model_free.
 * Statuses: GALANN_ERR_INVALID (path or out NULL), GALANN_ERR_IO (cannot
 * open or read, not a regular file), GALANN_ERR_NOMEM (also a file too
 * large for memory), GALANN_ERR_FORMAT (any defect, as
 * galann_model_load_buffer: "m.model: not a libgalann model (bad magic
 * bytes)"). */
GALANN_API int galann_model_load(const char *path, galann_model **out);
/* Serialise m into a buffer the library allocates: *buf and *size receive
 * it (NULL and 0 on failure).
 * Ownership: free the buffer with galann_free, not free (the library may
 * use another allocator).
 * Statuses: GALANN_ERR_INVALID (m, buf or size NULL; a model the format
 * cannot hold, above), GALANN_ERR_NOMEM. */
GALANN_API int galann_model_save_buffer(const galann_model *m, void **buf, size_t *size);
/* Parse a model from size bytes at buf. Sizes are never trusted before
 * they are checked against the bytes actually present, so a corrupt or
 * hostile buffer cannot cause out-of-bounds reads or huge allocations.
 * Ownership: the caller frees *out with galann_model_free; buf is only read.
 * Statuses: GALANN_ERR_INVALID (out NULL; buf NULL while size > 0),
 * GALANN_ERR_NOMEM, GALANN_ERR_FORMAT (any defect, with a message that
 * names it: truncation, "model is truncated: the header needs 24 more
 * bytes, 10 remain"; bad magic; an unsupported version or flags; fewer
 * than 2 or more than 1024 layers; a layer size outside 1..2^31 - 1; a
 * parameter count that does not match the sizes; an input divisor that is
 * zero or not finite; a malformed class-name section; trailing bytes; a
 * checksum mismatch, "model checksum mismatch (stored 448c0569, computed
 * 72dc469a): the file is corrupt"; a non-finite weight). */
GALANN_API int galann_model_load_buffer(const void *buf, size_t size, galann_model **out);
/* Free memory the library handed to the caller: today only
 * galann_model_save_buffer's buffer. NULL is ignored. */
GALANN_API void galann_free(void *p);

/* -------------------------------------------------------------- computing */

/* The regularised cross-entropy cost J(theta) of the model on the dataset
 * and its gradient (length n = galann_model_n_params), exactly as
 * docs/api.md defines them (the original program's mathematics). The model's sizes must match the
 * dataset: first layer = n_features, last = n_labels (else
 * GALANN_ERR_DIMENSION). lambda >= 0. */
GALANN_API int galann_cost(galann_context *c, const galann_model *m, const galann_dataset *d,
                           double lambda, double *cost);
GALANN_API int galann_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                               double lambda, double *grad, size_t n);
GALANN_API int galann_cost_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                                    double lambda, double *cost, double *grad, size_t n);

/* Predicted class of every sample (index of the largest output, the first
 * on ties); n = n_samples. */
GALANN_API int galann_predict(galann_context *c, const galann_model *m, const galann_dataset *d,
                              int32_t *labels, size_t n);
/* Output activations (sigmoid, not normalised), n_samples x n_labels
 * row-major; n = n_samples * n_labels. */
GALANN_API int galann_predict_proba(galann_context *c, const galann_model *m, const galann_dataset *d,
                                    double *proba, size_t n);
/* Fraction of samples whose prediction equals the label. */
GALANN_API int galann_accuracy(galann_context *c, const galann_model *m, const galann_dataset *d,
                               double *accuracy);

/* Compare the gradient with central finite differences (step h, 0 = 1e-5)
 * on up to max_params parameters (0 = all), evenly spread. Writes the
 * largest relative difference |g - fd| / max(1, |g|, |fd|). */
GALANN_API int galann_check_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                                     double lambda, double h, size_t max_params, double *max_rel_error);

/* -------------------------------------------------------------- optimizer */

/* Nonlinear conjugate gradient, reproducing scipy.optimize.fmin_cg:
 * Polak-Ribiere+ directions, More-Thuente strong-Wolfe line search with a
 * fallback search, sufficient-descent acceptance. Usable for any objective. */

/* Why the minimizer stopped. */
typedef enum galann_stop_reason {
    GALANN_STOP_CONVERGED = 0,   /* ||g||_inf <= gtol */
    GALANN_STOP_MAX_ITERATIONS = 1,
    GALANN_STOP_PRECISION_LOSS = 2, /* the line search failed */
    GALANN_STOP_NONFINITE = 3,   /* the objective returned NaN or infinity */
    GALANN_STOP_CANCELLED = 4,   /* the progress callback returned nonzero */
    GALANN_STOP_ERROR = 5,       /* the objective returned an error status */
    GALANN_STOP_NO_IMPROVEMENT = 6 /* galann_fit: the validation cost did not
                                    improve for `patience` iterations */
} galann_stop_reason;

GALANN_API const char *galann_stop_reason_string(int reason);

/* The objective: write f(x) and its gradient g (length n). Return 0, or a
 * nonzero galann status to abort the minimization with that status. */
typedef int (*galann_objective_fn)(void *user, const double *x, size_t n, double *f, double *g);

/* Called after every accepted step with the new point; a nonzero return
 * cancels (the minimizer returns GALANN_ERR_CANCELLED, x holds that point). */
typedef int (*galann_cg_progress_fn)(void *user, size_t iteration, const double *x, size_t n,
                                     double f, const double *g, size_t evaluations);

typedef struct galann_cg_options {
    size_t struct_size;          /* set by galann_cg_options_init */
    size_t max_iterations;       /* default 0 = 200 * n, as fmin_cg */
    double gtol;                 /* stop when ||g||_inf <= gtol; default 1e-5 */
    double c1;                   /* sufficient decrease, default 1e-4 */
    double c2;                   /* curvature, default 0.4 */
    galann_cg_progress_fn progress; /* may be NULL */
    void *progress_user;
} galann_cg_options;

GALANN_API void galann_cg_options_init_size(galann_cg_options *opts, size_t size);
#define galann_cg_options_init(opts) galann_cg_options_init_size((opts), sizeof *(opts))

typedef struct galann_cg_report {
    size_t struct_size;          /* galann_cg_report_init sets it */
    int stop_reason;             /* a galann_stop_reason */
    size_t iterations;
    size_t evaluations;          /* calls of the objective */
    double f;                    /* objective at the returned x */
    double gradient_norm;        /* ||g||_inf at the returned x */
} galann_cg_report;

GALANN_API void galann_cg_report_init_size(galann_cg_report *report, size_t size);
#define galann_cg_report_init(r) galann_cg_report_init_size((r), sizeof *(r))

/* Minimise fn from x (length n, overwritten with the result). Returns
 * GALANN_OK when it converged, reached the iteration limit or lost
 * precision (the report says which); GALANN_ERR_NONFINITE,
 * GALANN_ERR_CANCELLED, or the objective's own status otherwise. In every
 * case x holds the last accepted iterate (the start if none was), which
 * is also the lowest value found whenever every step met the sufficient
 * decrease condition. report may be NULL. */
GALANN_API int galann_minimize_cg(galann_objective_fn fn, void *user, double *x, size_t n,
                                  const galann_cg_options *opts, galann_cg_report *report);

/* -------------------------------------------------------------- training */

typedef struct galann_fit_progress {
    size_t iteration;            /* 1, 2, ... */
    double train_cost;
    double train_accuracy;
    double validation_cost;      /* NaN without a validation set */
    double validation_accuracy;  /* NaN without a validation set */
    double gradient_norm;        /* ||grad||_inf */
    size_t evaluations;          /* cost+gradient evaluations so far */
    double test_cost;            /* NaN without a test set (options.test) */
    double test_accuracy;        /* NaN without a test set */
} galann_fit_progress;

/* Return nonzero to stop training; galann_fit then returns
 * GALANN_ERR_CANCELLED with the model holding the result so far. */
typedef int (*galann_fit_progress_fn)(void *user, const galann_fit_progress *p);

typedef struct galann_fit_options {
    size_t struct_size;          /* set by galann_fit_options_init */
    double lambda;               /* default 1.0 */
    size_t max_iterations;       /* default 600 */
    double gtol;                 /* default 1e-5 */
    const galann_dataset *validation; /* optional, default NULL */
    int keep_best;               /* -1 (default): on when validation is set;
                                    1: the model ends at the iterate with the
                                    lowest validation cost; 0: the last */
    galann_fit_progress_fn progress; /* optional */
    void *progress_user;
    size_t patience;             /* 0 (default): off; N: stop when the validation
                                    cost has not improved for N iterations
                                    (needs a validation set; the best iterate
                                    is kept) */
    const galann_dataset *test;  /* optional, default NULL: evaluated after
                                    every iteration and at the end, and
                                    reported only; it never chooses anything */
} galann_fit_options;

GALANN_API void galann_fit_options_init_size(galann_fit_options *opts, size_t size);
#define galann_fit_options_init(opts) galann_fit_options_init_size((opts), sizeof *(opts))

typedef struct galann_fit_report {
    size_t struct_size;          /* galann_fit_report_init sets it */
    int stop_reason;             /* a galann_stop_reason */
    size_t iterations;
    size_t evaluations;
    double train_cost;           /* at the model's final weights */
    double train_accuracy;
    double validation_cost;      /* NaN without a validation set */
    double validation_accuracy;
    size_t best_iteration;       /* iterate kept (0 = the start), when keep_best */
    double test_cost;            /* at the final weights; NaN without options.test */
    double test_accuracy;
} galann_fit_report;

GALANN_API void galann_fit_report_init_size(galann_fit_report *report, size_t size);
#define galann_fit_report_init(r) galann_fit_report_init_size((r), sizeof *(r))

/* Train the model from its current weights with the conjugate-gradient
 * minimizer on J(theta; train, lambda). opts NULL = defaults, report may be
 * NULL. Statuses: as galann_cost_gradient, plus GALANN_ERR_CANCELLED and
 * GALANN_ERR_NONFINITE; the model always holds a usable result. Early
 * stopping (options.patience) is a normal end: GALANN_OK with stop_reason
 * GALANN_STOP_NO_IMPROVEMENT. */
GALANN_API int galann_fit(galann_context *c, galann_model *m, const galann_dataset *train,
                          const galann_fit_options *opts, galann_fit_report *report);

/* ------------------------------------------------ reproducible, distributed */

/* Every backend sums the data term over fixed chunks of this many samples,
 * counted from a dataset's first row; the blas backend computes each
 * chunk's partial sums the same way on any thread and combines them
 * exactly (rounding once), so its cost and gradient are the same bits for
 * any thread count. A process that holds a share of a larger dataset gets
 * the same bits as one process holding it all when its share starts at a
 * multiple of this number (galann_mpi_load_csv arranges that). */
GALANN_API size_t galann_sum_chunk_samples(void);

/* Operations an allreduce callback must perform, element-wise over int64. */
typedef enum galann_reduce_op {
    GALANN_REDUCE_SUM = 0,
    GALANN_REDUCE_MAX = 1
} galann_reduce_op;

/* Replace values[0..count) on every cooperating process by their
 * element-wise sum or maximum over all of them (an MPI_Allreduce, say).
 * Return 0 on success, nonzero on failure. The library calls it the same
 * number of times, with the same counts, on every process. */
typedef int (*galann_allreduce_fn)(void *user, int64_t *values, size_t count, galann_reduce_op op);

/* Make the context data-parallel: from then on every cost, gradient,
 * accuracy and fit on it is that of the union of the datasets the
 * cooperating processes pass (each holds its share, possibly empty), the
 * partial sums combined exactly through fn. With the blas backend the
 * result is the same bits as one process holding the whole dataset. fn NULL
 * detaches. Predictions stay per process (of its own rows). Statuses:
 * GALANN_ERR_INVALID (ctx NULL); a failing fn or a failure on any process
 * makes the evaluation fail on every process with GALANN_ERR_BACKEND
 * ("another process failed") on the processes that did not fail. user must
 * outlive the context or the next call. */
GALANN_API int galann_context_set_allreduce(galann_context *ctx, galann_allreduce_fn fn, void *user);

/* Rows of a CSV file whose first byte lies in [begin, end) (end past the
 * file counts to its end): how a process counts its byte range of a file
 * before the shares are aligned to whole chunks. GALANN_ERR_IO. */
GALANN_API int galann_csv_count_rows(const char *path, uint64_t begin, uint64_t end, uint64_t *rows);

/* Load rows [first, first + count) of a CSV file (rows are its lines,
 * numbered from 0; messages give the file's line numbers), reading from
 * byte offset, where row offset_row starts at or after (the first line
 * start at or after offset is row offset_row; 0, 0 always works); count
 * >= 1 (an empty share is galann_dataset_new with 0 samples). Features are divided
 * by 255 as galann_dataset_load_csv does; n_labels is one more than the
 * largest label among the rows read. Statuses as galann_dataset_load_csv,
 * plus GALANN_ERR_PARSE when the file has fewer rows. */
GALANN_API int galann_dataset_load_csv_rows(const char *path, uint64_t offset, uint64_t offset_row,
                                            uint64_t first, uint64_t count, galann_dataset **out);

#ifdef __cplusplus
}
#endif

#endif /* GALANN_H */
