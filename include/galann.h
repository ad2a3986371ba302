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

/* GALANN_API marks the exported functions: exported while libgalann itself
 * is built (the build defines GALANN_BUILDING), imported by everyone else
 * (on Windows; elsewhere the visibility attribute is the library's only).
 * A program linking the static library on Windows defines GALANN_STATIC. */
#if defined(_WIN32)
#  if defined(GALANN_BUILDING)
#    define GALANN_API __declspec(dllexport)
#  elif defined(GALANN_STATIC)
#    define GALANN_API
#  else
#    define GALANN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && defined(GALANN_BUILDING)
#  define GALANN_API __attribute__((visibility("default")))
#else
#  define GALANN_API
#endif

/* GALANN_DEPRECATED(msg): a function that still works but will go in the
 * next major version; the compiler warns with msg where it is used. A
 * deprecated function keeps its symbol (and behaviour) until then. */
#if defined(__GNUC__) || defined(__clang__)
#  define GALANN_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#  define GALANN_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#  define GALANN_DEPRECATED(msg)
#endif

/* GALANN_EXPERIMENTAL marks a function outside the frozen ABI: it may change
 * or go in a minor release (its symbol has the version GALANN_EXPERIMENTAL,
 * lib/libgalann.map). Everything else keeps its ABI for all of 1.x. */
#define GALANN_EXPERIMENTAL GALANN_API

/* ---------------------------------------------------------------- version */

/* The version of this header, the one a program was compiled against. */
#define GALANN_VERSION_MAJOR 1
#define GALANN_VERSION_MINOR 0
#define GALANN_VERSION_PATCH 0
#define GALANN_VERSION_STRING "1.0.0"
/* One integer that grows with every release: major*10000 + minor*100 +
 * patch (100 for 0.1.0). */
#define GALANN_VERSION_NUMBER (GALANN_VERSION_MAJOR * 10000 + GALANN_VERSION_MINOR * 100 + GALANN_VERSION_PATCH)

/* The same for the library actually loaded at run time, which differs from
 * the header's when the shared library was upgraded (compare
 * galann_version_number() / 10000 with GALANN_VERSION_MAJOR). The string
 * is static. Neither can fail; both are safe from any thread. */
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
                                    CSV, .npy or model path is not a regular file (a
                                    FIFO, a device, a directory), or the file
                                    changed while it was read */
    GALANN_ERR_PARSE = 4,        /* "parse error": malformed CSV (the message
                                    begins with name:line:) or a defective
                                    .npy file (name: ...) */
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
 * 1025 fields, found 1001"), or "" if that call succeeded. The functions
 * that cannot fail leave it as it is (docs/api.md §1.2). Never NULL; it
 * points to a thread-local buffer of 1024 bytes whose text may change at
 * this thread's next libgalann call: copy it to keep it. */
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
 *              backends are tested against. 1 thread; one device, the host CPU.
 *   blas       the matrix form on blocks of samples, with its own thread
 *              pool (the calling thread plus n - 1 workers, n in 1..1024):
 *              the fast CPU path. Layers of at most 16 outputs run in the
 *              backend's own vector loops on a CPU with AVX-512, other
 *              layers (and every layer elsewhere) through CBLAS, which the
 *              first blas context loads (dlopen), not links. One device,
 *              the host CPU.
 *   opencl     kernels on any OpenCL device: with double precision
 *              (cl_khr_fp64) for GALANN_PRECISION_DOUBLE, on any device for
 *              SINGLE. A dataset is copied to the device on its first use, in
 *              its storage type (u8 stays one byte per value), in several
 *              buffers when it exceeds one allocation. Serial on the host
 *              side; one device per OpenCL device.
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
 * Every _init macro in this file passes the size of the caller's struct to
 * its _init_size function, which writes the defaults no further than that
 * (docs/api.md §1.5: an older, shorter struct is never overrun). Bindings
 * without macros call _init_size with their struct's size. The functions
 * that read options accept a smaller struct_size and refuse 0 or one
 * larger than the library's struct with GALANN_ERR_INVALID. */
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
    int precision;       /* a galann_precision, 0..3. Default 0 =
                            GALANN_PRECISION from the environment ("double",
                            "single" or "any"), else double */
} galann_context_options;

/* The arithmetic a context computes in. Double is the reference: every
 * fixture and the thread-count guarantee are stated for it. Single does the
 * products in float32 and the sums that matter (each chunk's partial sums,
 * the cost, the gradient's accumulation over blocks) in float64: cost within
 * about 1e-5 relative of double, gradient within about 1e-4 of its largest
 * component. Single is still the same bits for any thread count. */
typedef enum galann_precision {
    GALANN_PRECISION_DEFAULT = 0, /* GALANN_PRECISION, else double */
    GALANN_PRECISION_DOUBLE = 1,
    GALANN_PRECISION_SINGLE = 2,  /* blas and opencl (on devices without fp64
                                     the sums are compensated float sums);
                                     reference computes in double only and
                                     refuses it (GALANN_ERR_UNAVAILABLE) */
    GALANN_PRECISION_ANY = 3      /* double where the device has it, else single
                                     (an opencl device without fp64); never
                                     chosen silently: only when asked for */
} galann_precision;

GALANN_API void galann_context_options_init_size(galann_context_options *opts, size_t size);
#define galann_context_options_init(opts) galann_context_options_init_size((opts), sizeof *(opts))

/* Create a context on backend: "reference", "blas" or "opencl". backend
 * NULL means GALANN_BACKEND from the environment when it is set and not
 * empty, else the best available: the first backend in galann_backend_name's
 * order with a usable GPU, else the first with a usable CPU; that is,
 * opencl when a GPU with fp64 is usable (never on a CPU OpenCL device),
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
 * threads outside 0..1024; precision not a galann_precision; a malformed
 * GALANN_PRECISION while precision is 0: 'GALANN_PRECISION="x" is not
 * double, single or any'; a backend name, from the argument or
 * GALANN_BACKEND, that no libgalann knows: 'unknown backend "x" (known:
 * opencl, blas, reference)'; a malformed GALANN_THREADS while
 * threads is 0 and the backend is blas: 'GALANN_THREADS="abc" is not a
 * thread count in 1..1024'), GALANN_ERR_UNAVAILABLE (a known backend not
 * built into this library: 'backend "opencl" is not built into this
 * libgalann'; single precision on a backend that computes in double only:
 * 'backend "reference" computes in double precision only (single: blas)',
 * naming the backends of this build that can; CBLAS cannot be loaded; opencl: no platform, no
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

/* The precision the context computes in: GALANN_PRECISION_DOUBLE or
 * GALANN_PRECISION_SINGLE (what ANY resolved to); 0 for NULL. Cannot fail;
 * leaves the thread's message alone. */
GALANN_API int galann_context_precision(const galann_context *ctx);

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
 * (the context is in use). */
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

/* Reports (galann_profile, galann_device, galann_cg_report,
 * galann_fit_report) are written by the library: set struct_size with the
 * _init macro (it zeroes the struct) or to sizeof the struct. The library
 * writes only the bytes both its struct and the caller's hold, and sets
 * struct_size to that number (docs/api.md §1.5). A struct_size of 0 (a report zeroed with
 * memset or = {0}) or less than sizeof(size_t) is refused with
 * GALANN_ERR_INVALID before anything is computed or written. */
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
 * preference: opencl, blas, reference, as far as each is built (the order
 * of the registry's table, which "best available" follows).
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
 * their one device, the host CPU, by the name galann_backend_device gives
 * (the first line below); opencl lists every device of every platform,
 * fp64 or not, with its platform (the second):
 *
 *   0: AMD EPYC 7B13 64-Core Processor (CPU, fp64)
 *   0: Portable Computing Language / pthread-skylake-avx512-AMD EPYC (CPU, fp64)
 *
 * The number is the index the device selector (galann_context_options.
 * device) accepts, and galann_backend_device's; the type is GPU, CPU,
 * accelerator or other. Safe from any thread.
 * Statuses: GALANN_ERR_INVALID (a NULL argument, size 0, an unknown name),
 * GALANN_ERR_UNAVAILABLE (not built in; opencl: no platform or no device
 * found, and buf is then ""), GALANN_ERR_NOMEM. */
GALANN_API int galann_backend_devices(const char *backend, char *buf, size_t size);

/* What kind of device a galann_device is. */
typedef enum galann_device_type {
    GALANN_DEVICE_CPU = 1,
    GALANN_DEVICE_GPU = 2,
    GALANN_DEVICE_ACCELERATOR = 3,
    GALANN_DEVICE_OTHER = 4
} galann_device_type;

/* One device a backend can compute on, as galann_backend_device writes it:
 * a report (the rule above: set struct_size with galann_device_init; the
 * library writes only what both structs hold; fields are only ever added
 * at the end). */
typedef struct galann_device {
    size_t struct_size;     /* galann_device_init sets it; on return, the
                               bytes written */
    char name[128];         /* NUL-terminated, cut to fit. reference, blas:
                               the "model name" of /proc/cpuinfo, else
                               "host CPU"; opencl: the device's name
                               (galann_backend_devices adds the platform) */
    int type;               /* a galann_device_type */
    int fp64;               /* 1: double precision (reference, blas: always;
                               opencl: a context can use only such devices),
                               else 0 */
    uint64_t memory_bytes;  /* reference, blas: the physical memory; opencl:
                               the device's global memory; 0 when unknown */
} galann_device;

GALANN_API void galann_device_init_size(galann_device *device, size_t size);
#define galann_device_init(d) galann_device_init_size((d), sizeof *(d))

/* The number of devices backend can use, into *count (0 on failure): 1
 * for reference and blas (the host CPU), every device of every OpenCL
 * platform for opencl (fp64 or not, numbered as galann_backend_devices
 * numbers them). opencl loads its runtime to count them; the CPU backends
 * load nothing (blas does not load CBLAS). Safe from any thread.
 * Statuses: GALANN_ERR_INVALID (backend or count NULL; an unknown name),
 * GALANN_ERR_UNAVAILABLE (not built in; opencl: no platform or no
 * device), GALANN_ERR_NOMEM. */
GALANN_API int galann_backend_device_count(const char *backend, size_t *count);

/* Describe device index (0..count-1 of galann_backend_device_count) of
 * backend into *out, as far as out->struct_size reaches
 * (galann_device_init first). Nothing is written on failure, struct_size
 * included. Safe from any thread.
 *
 *   galann_device dev;
 *   galann_device_init(&dev);
 *   if (galann_backend_device("blas", 0, &dev) == GALANN_OK)
 *       printf("%s, %.1f GiB\n", dev.name, dev.memory_bytes / 1073741824.0);
 *
 * Statuses: GALANN_ERR_INVALID (backend or out NULL; an unknown name;
 * out->struct_size 0 or less than sizeof(size_t); index not below the
 * device count: 'galann_backend_device: backend "reference" has 1 device
 * (0..0), not 3'), GALANN_ERR_UNAVAILABLE (not built in; opencl: no
 * platform or no device), GALANN_ERR_NOMEM. */
GALANN_API int galann_backend_device(const char *backend, size_t index, galann_device *out);

/* ---------------------------------------------------------------- dataset */

/* Samples: n_samples rows of n_features features each (row-major, one
 * sample after another), each row with an int32_t class label in
 * [0, n_labels); every feature is finite. A dataset never changes after
 * creation, so any number of contexts in any number of threads may read
 * it at once, with bit-identical results. A backend may derive data from
 * it once per context (an OpenCL device copy, made on first use), which is
 * released when either the dataset or the context is freed; that cache is
 * locked internally. A dataset may be freed only when no call is using it,
 * and not at the same moment as a context that used it (docs/api.md §1.6). */
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

/* The CSV format the readers below accept:
 *
 *   - One sample per line: label,f1,f2,...,fn. No header line (unless
 *     galann_csv_options.header says so), no quoting, no comments, no
 *     missing values.
 *   - The first line fixes the number of fields: every line must have
 *     exactly that many, and at least two (a label and one feature).
 *   - Lines end with LF or CRLF. The last line may have a terminator or
 *     not, and may also end with a lone CR as the very last byte of the
 *     text ("0,1\r"). A CR anywhere else that is not followed by LF is part
 *     of its field, which then is not a number. Blank lines are errors
 *     anywhere, a second newline at the end of the file included.
 *   - A field is a plain decimal number: an optional sign, digits, an
 *     optional '.' and an optional exponent (255, 0.5, .5, +1.5e2, 1E-3).
 *     Not numbers: white space (inside or around a field), inf, nan,
 *     hexadecimal, fields of 64 characters or more. A value that overflows
 *     a double is an error; underflow to zero or a subnormal is accepted.
 *     The same holds after the division by the divisor: a feature that
 *     becomes infinite once divided is an error (it takes a divisor below
 *     1 in magnitude), one that underflows is accepted. The decimal point
 *     is '.', and conversion goes through strtod: keep LC_NUMERIC at "C",
 *     the default unless the program calls setlocale.
 *   - The label is a whole number 0..65535 (2, 2.0 and 2e0 are all class
 *     2); it is not divided. n_labels is one more than the largest label
 *     present, so a file that lacks the highest class gets fewer labels,
 *     and then does not match a model built for all classes
 *     (GALANN_ERR_DIMENSION later).
 *   - Every feature is divided by the divisor: 255 for the file readers,
 *     the caller's choice for the others.
 *   - The dataset is allocated once, at the size the number of lines and
 *     the first line's field count imply. Every field takes at least two
 *     bytes (a character and a separator), so a text too short to hold that
 *     many rows is malformed: it is not allocated for, but parsed row by
 *     row into one scratch row, and the error of its first faulty line is
 *     returned.
 *
 * Every defect stops the parse with GALANN_ERR_PARSE and a message
 * "name:line: ...": lines and fields are counted from 1 (the label is field
 * 1), name is the path, or the name argument of the memory readers. Quoted
 * field text is cut to 40 characters. The defects and their messages:
 *
 *   empty input           train.csv:1: the file is empty
 *   one field on line 1   train.csv:1: expected a label and at least one feature, found 1 field
 *   too few fields        train.csv:4: expected 1025 fields, found 1001
 *   too many fields       train.csv:2: expected 3 fields, found 4
 *   blank line            train.csv:2: empty line
 *   empty field (0,1,,2, or a trailing comma)
 *                         train.csv:1: field 3 is empty
 *   not a number          train.csv:1: field 3 is not a number ("x")
 *                         train.csv:1: field 1 is not a number ("label")
 *   overflow              train.csv:1: field 2 is out of range ("1e999")
 *   overflow once divided train.csv:1: field 2 is out of range once divided by 1e-300
 *   64 characters or more train.csv:1: field 5 is too long for a number ("...")
 *   bad label             train.csv:1: label "-1" is not a class number in 0..65535
 *   a header, no rows     train.csv:2: no rows after the header
 *   not a byte, with galann_csv_options.storage GALANN_STORAGE_U8
 *                         train.csv:3: field 2 (0.5) is not a whole number 0..255, as u8 storage needs
 */

/* Read a CSV file (the format above) with every feature scaled x = p / 255,
 * as the original program did for 8-bit pixels; for another scale, read
 * the bytes yourself and call galann_dataset_parse_csv. The file is read in
 * 4 MiB chunks, in two passes: the first counts the bytes, the lines and
 * the first line's fields; the second parses the complete lines of each
 * chunk into a dataset allocated once at its final size. Peak memory is
 * the dataset plus one chunk (only a line longer than a chunk makes the
 * buffer grow, until it holds that line). For a file that does not change
 * while it is read, the result, statuses and messages are exactly those of
 * galann_dataset_parse_csv on its bytes with divisor 255 (one exception,
 * for texts of 3 GB or more, is in docs/api.md §5).
 *
 * path must name a regular file: the file is opened non-blocking and
 * checked with fstat before anything is read, so a FIFO, a directory or a
 * device gives GALANN_ERR_IO at once ("/tmp: not a regular file") and a
 * FIFO without a writer does not block; to read a pipe or standard input,
 * read the bytes yourself and call galann_dataset_parse_csv. If the second
 * pass finds more or fewer lines than the first counted, the result is
 * GALANN_ERR_IO ("train.csv: the file grew while it was read", "train.csv:
 * the file changed while it was read"), unless a parse error in the
 * changed bytes comes first. A change that keeps the line count is not
 * detected as such: the new bytes are parsed, which may give a parse error
 * or different values. Do not rewrite a file while it is being loaded.
 *
 * Ownership: the caller frees *out with galann_dataset_free.
 * Statuses: GALANN_ERR_INVALID (path or out NULL), GALANN_ERR_IO (cannot
 * open: "train.csv: cannot open: No such file or directory"; not a regular
 * file; "train.csv: read failed: ..."; the line count changed between the
 * passes), GALANN_ERR_PARSE (the defects above), GALANN_ERR_NOMEM (the
 * dataset, "train.csv: out of memory for 60000 x 1024 features"; the chunk
 * buffer; the scratch row of a file too short for its rows; fdopen failing
 * after the open, "train.csv: cannot open: ..."). */
GALANN_API int galann_dataset_load_csv(const char *path, galann_dataset **out);

/* Parse length bytes of CSV text (the format above) from memory; text
 * need not be NUL-terminated. name is used in messages (NULL =
 * "<memory>"). Every feature is divided by divisor, which must be finite
 * and nonzero: 255 for pixel data, as galann_dataset_load_csv does; 1 to
 * keep the values as written; galann_model_input_divisor(model) to scale
 * raw data the way a model was trained.
 * Ownership: the caller frees *out with galann_dataset_free; text is only
 * read.
 * Statuses: GALANN_ERR_INVALID (out NULL; text NULL while length > 0;
 * divisor 0, NaN or infinite), GALANN_ERR_PARSE (length 0 gives
 * "name:1: the file is empty"; the defects above), GALANN_ERR_NOMEM (also
 * a lines x features count that would overflow: "name: <lines> x
 * <features> features overflow memory"). */
GALANN_API int galann_dataset_parse_csv(const char *text, size_t length, const char *name,
                                        double divisor, galann_dataset **out);

/* How a CSV file is read, for the _with readers below
 * (galann_csv_options_init first; the rules of galann_context_options). */
typedef struct galann_csv_options {
    size_t struct_size;          /* set by galann_csv_options_init */
    double divisor;              /* every feature is divided by it; default
                                    255; finite and nonzero */
    int header;                  /* 0 (default): no header; 1: the first line
                                    is a header, skipped; -1: detect (skipped
                                    when a field of it is not a number, as in
                                    label,p1,...). Messages still count the
                                    header as line 1 */
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
 * the defaults: exactly the plain readers). Line numbers in messages count
 * the header, so "file.csv:3:" is the file's third line. The file reader
 * and the memory reader give the same dataset and the same messages at
 * every chunk size (tests/test-csv-options.c). Messages of the file reader
 * begin as galann_dataset_load_csv's, those of the memory reader as
 * galann_dataset_parse_csv's.
 * Ownership: the caller frees *out with galann_dataset_free.
 * Statuses: as the plain readers, plus GALANN_ERR_INVALID for bad options
 * (opts->struct_size 0 or too large; divisor 0, NaN or infinite; header
 * not -1, 0 or 1; labelled not 0 or 1; an unknown storage). */
GALANN_API int galann_dataset_load_csv_with(const char *path, const galann_csv_options *opts,
                                            galann_dataset **out);
GALANN_API int galann_dataset_parse_csv_with(const char *text, size_t length, const char *name,
                                             const galann_csv_options *opts, galann_dataset **out);

/* Build a dataset from arrays, which are copied: features row-major,
 * n_samples x n_features; labels, n_samples entries in [0, n_labels).
 * n_labels may be larger than the largest label present. No scaling is
 * applied. n_samples 0 (the arrays may then be NULL) makes an empty share,
 * for a process of a data-parallel context that holds no rows
 * (galann_context_set_allreduce); evaluating it on any other context is
 * GALANN_ERR_INVALID ("...: the dataset is empty").
 * Ownership: the caller frees *out with galann_dataset_free; the arrays
 * stay the caller's.
 * Statuses: GALANN_ERR_INVALID (out NULL; features or labels NULL with
 * n_samples > 0; n_features or n_labels 0; n_labels > INT32_MAX; a label
 * out of range: "galann_dataset_new: label 5 of sample 0 is not in [0,
 * 3)"), GALANN_ERR_NONFINITE (a feature is NaN or infinite: the message
 * names the feature and the sample), GALANN_ERR_NOMEM (also a size that
 * overflows). */
GALANN_API int galann_dataset_new(const double *features, const int32_t *labels, size_t n_samples,
                                  size_t n_features, size_t n_labels, galann_dataset **out);
/* Free the dataset and everything backends derived from it on any
 * context. NULL is ignored. Free it only when no call is using it, and not
 * at the same moment as a context that used it (docs/api.md §1.6): either
 * may be freed first, and the other stays fully usable. Pointers from
 * galann_dataset_features and galann_dataset_labels become invalid. A
 * dataset that maps a .npy file unmaps it. */
GALANN_API void galann_dataset_free(galann_dataset *d);

/* galann_dataset_new for other storage types (arrays copied, as stored):
 * float features (finite), or 8-bit pixels whose values are p / divisor
 * (divisor finite and nonzero, 255 / divisor finite; 255 for pixels
 * scaled to [0, 1]).
 * Ownership: the caller frees *out with galann_dataset_free.
 * Statuses: as galann_dataset_new (the messages name galann_dataset_new_f32
 * or _u8); _u8 also GALANN_ERR_INVALID for an unusable divisor, and never
 * GALANN_ERR_NONFINITE. */
GALANN_API int galann_dataset_new_f32(const float *features, const int32_t *labels, size_t n_samples,
                                      size_t n_features, size_t n_labels, galann_dataset **out);
GALANN_API int galann_dataset_new_u8(const uint8_t *pixels, const int32_t *labels, size_t n_samples,
                                     size_t n_features, size_t n_labels, double divisor, galann_dataset **out);

/* A copy of d (same storage) that knows n_labels classes, when d's labels
 * use fewer (a test set without the last class; a pixels-only file, whose
 * one label 0 must match a model's outputs).
 * Ownership: the caller frees *out with galann_dataset_free.
 * Statuses: GALANN_ERR_INVALID (d or out NULL, and *out is left as it was
 * when d is NULL; n_labels 0 or above INT32_MAX; a label not below
 * n_labels), GALANN_ERR_NOMEM. */
GALANN_API int galann_dataset_with_labels(const galann_dataset *d, size_t n_labels, galann_dataset **out);

/* A copy of rows [first_row, first_row + n_rows) of d, in d's storage and
 * with d's labels (n_rows 0 makes an empty share).
 * Ownership: the caller frees *out with galann_dataset_free.
 * Statuses: GALANN_ERR_INVALID (d or out NULL), GALANN_ERR_DIMENSION (rows
 * outside d), GALANN_ERR_NOMEM. */
GALANN_API int galann_dataset_slice(const galann_dataset *d, size_t first_row, size_t n_rows, galann_dataset **out);

/* The built-in synthetic galaxy set: n_samples procedurally drawn 32x32
 * images, so 1024 features and always 3 labels; the classes come in turn
 * (sample i has label i % 3):
 *
 *   0, ellipticals: a smooth Sersic-like profile with random centre,
 *      orientation, axis ratio, radius and index;
 *   1, spirals: a bulge plus an exponential disk modulated by 2 or 3
 *      logarithmic arms;
 *   2, irregulars: 3 to 8 Gaussian clumps scattered asymmetrically.
 *
 * Each image is scaled to a random peak over a random sky level, Gaussian
 * noise is added, and the pixels are rounded and clamped to whole numbers
 * 0..255, then divided by 255 like data from galann_dataset_load_csv. All
 * randomness comes from one MT19937 stream seeded with seed: the same seed
 * gives the same set on every machine (use different seeds for training
 * and test sets). galann_dataset_save_csv(d, path, 255) writes integer
 * pixels that load back bit for bit.
 * Ownership: the caller frees *out with galann_dataset_free.
 * Statuses: GALANN_ERR_INVALID (out NULL; n_samples 0, or so large that the
 * images' size overflows), GALANN_ERR_NOMEM. */
GALANN_API int galann_dataset_synthesize(size_t n_samples, uint32_t seed, galann_dataset **out);

/* Write d as CSV, one label,f1,...,fn line per sample, LF line ends, no
 * header. Each feature is multiplied by multiplier, which must be finite
 * (255 undoes the file readers' scaling). A product within 1e-9 (relative)
 * of an integer is snapped to it (docs/api.md §5); whole numbers below 1e15
 * in magnitude are printed as integers, anything else with %.17g, which
 * round-trips exactly. The file is written atomically, as galann_model_save
 * writes (a temporary beside path, fsynced and renamed: a failure leaves an
 * existing file untouched), and gets mode 0666 less the umask.
 * Statuses: GALANN_ERR_INVALID (d or path NULL; multiplier not finite),
 * GALANN_ERR_NOMEM (also a text size that would overflow), GALANN_ERR_IO
 * (the temporary cannot be created or written, the fsync or the rename
 * fails; the message names the path). */
GALANN_API int galann_dataset_save_csv(const galann_dataset *d, const char *path, double multiplier);

/* numpy's .npy files (format versions 1.0, 2.0 and 3.0): data that is
 * already an array, read with no text to parse and, where it can be used
 * as stored, straight from the file.
 *
 * The features file holds a 2-D array of shape (rows, columns) in C order
 * (fortran_order False), little-endian, of one of these dtypes:
 *
 *   '|u1'  uint8 pixels: a GALANN_STORAGE_U8 dataset whose byte p means
 *          p / divisor (255 unless galann_npy_options says otherwise: the
 *          CSV readers' pixel convention)
 *   '<f4'  float32: GALANN_STORAGE_F32, the values as stored
 *   '<f8'  float64: GALANN_STORAGE_F64, the values as stored
 *
 * Float features are never divided: save them scaled as the network
 * should see them. Every value must be finite. The labels file holds a
 * 1-D array of shape (rows,) of an integer dtype, '|i1', '<i2', '<i4',
 * '<i8', '|u1', '<u2', '<u4' or '<u8', every label 0..65535; n_labels is
 * one more than the largest label, as for CSV. Without a labels file
 * (labels_path NULL), column 0 of the features array holds the labels, as
 * a CSV line's first field does, and columns 1.. are the features: the
 * features' dtype must then hold the labels as whole numbers, which
 * '|u1' always does (0..255) and '<f4'/'<f8' do for 0.0, 1.0, 2.0, ...
 * (2.5 is refused), and such a file is read into memory (the label column
 * is taken out). Bytes after the array are ignored, as numpy.load ignores
 * them.
 *
 * Mapping: with a labels file (or galann_npy_options.labelled 0), on a
 * little-endian machine, a features array aligned for its type in the
 * file (numpy.save always aligns it) is mapped read-only (mmap), not
 * copied: galann_dataset_stored_features points into the mapping, pages
 * are read from the file as the computations first touch them (a u8 file
 * is not even read at load time; float files are read once, to check that
 * every value is finite), and galann_dataset_free unmaps it. Splits,
 * slices and galann_dataset_with_labels of such a dataset are ordinary
 * copies. While a dataset maps a file, do not truncate or rewrite the file
 * in place: touching a page of a truncated file kills the process with
 * SIGBUS, and bytes changed in place change the dataset's features
 * (numpy.save to the same path truncates the file first). Replacing the
 * file by a rename, as galann_dataset_save_npy does, is safe: the mapping
 * keeps the old file. galann_npy_options.map 0 reads into memory instead.
 *
 * Files are opened as the CSV reader opens them: regular files only,
 * non-blocking and checked with fstat first (a FIFO, a device or a
 * directory gives GALANN_ERR_IO at once, "x.npy: not a regular file").
 * Every defect of a file gives GALANN_ERR_PARSE, as a malformed CSV file
 * does, with a message that names the file (indices are numpy's, from 0):
 *
 *   empty file            x.npy: the file is empty (not a .npy file)
 *   no magic              x.npy: not a .npy file (it does not start with \x93NUMPY)
 *   a cut preamble        x.npy: truncated: 9 bytes, too short for a version 1.0 preamble
 *   another version       x.npy: .npy format version 4.0 is not supported (1.0, 2.0 and 3.0 are)
 *   header past the end   x.npy: the header's length, 118 bytes, runs past the end of the file (100 bytes)
 *   a huge header         x.npy: the header of 2000000 bytes is too long (at most 1 MiB)
 *   malformed header      x.npy: malformed .npy header: expected ':' at byte 9 of the header
 *                         (also a shape (5) that is not a tuple; a missing,
 *                         repeated or unknown key: "the header lacks
 *                         'shape'", "the header gives 'descr' twice",
 *                         "the header has the key 'x': ...")
 *   Fortran order         x.npy: the array is in Fortran order (fortran_order True): save a C-order array (numpy.ascontiguousarray)
 *   object array          x.npy: object arrays (dtype '|O') are not supported: save numbers
 *   structured dtype      x.npy: a structured dtype (a list of fields) is not supported: save a plain array of numbers
 *   big-endian            x.npy: dtype '>f8' is big-endian: save the features little-endian (numpy: a.astype('<f8'))
 *   another dtype         x.npy: dtype '<i4' is not supported for features: use '|u1' (uint8 pixels), '<f4' or '<f8'
 *                         y.npy: dtype '<f8' is not supported for labels: use an integer type: '|i1', '<i2', ...
 *   not 2-D               x.npy: features must be a 2-D array (rows, columns); the shape is (5,)
 *   not 1-D               y.npy: labels must be a 1-D array (rows,); the shape is (5, 1) (numpy: save y.ravel())
 *   no rows, no columns   x.npy: the shape (0, 1024) has no rows
 *                         x.npy: the shape (5, 0) has no columns
 *   a label column only   x.npy: the shape (5, 1) holds the labels in column 0 and leaves no features (...)
 *   truncated data        x.npy: truncated: the shape (3, 4) of '<f8' needs 96 bytes after the 128-byte header, the file has 80
 *   an impossible shape   x.npy: the shape (4294967296, 4294967296) is too large for any file
 *   not finite            x.npy: the value at [2, 3] is not finite (nan)
 *   label out of range    y.npy: the label at [3] is -1, not a class number in 0..65535
 *                         x.npy: the label at [2, 0] is 2.5, not a class number in 0..65535 (the labels are column 0: ...)
 *   counts differ         y.npy: 4 labels for the 5 rows of x.npy
 *
 * Sizes come from the file and are checked against its length before
 * anything is allocated: nothing larger than the file's bytes imply (at
 * most 4 bytes per label) is ever allocated, and a header is read only up
 * to 1 MiB. */

/* How a .npy file is read, for galann_dataset_load_npy_with
 * (galann_npy_options_init first; the rules of galann_context_options). */
typedef struct galann_npy_options {
    size_t struct_size;          /* set by galann_npy_options_init */
    double divisor;              /* '|u1' features: byte p means p / divisor;
                                    default 255; finite and nonzero. Float
                                    features are used as stored: it does not
                                    apply to them */
    int labelled;                /* 1 (default): the labels come from the
                                    labels file, or without one from column 0
                                    of the features; 0: no labels (the labels
                                    path must be NULL): every label 0,
                                    n_labels 1, every column a feature (pixels
                                    only, for galann_predict) */
    int map;                     /* 1 (default): map the features file when it
                                    can be used as stored (above); 0: always
                                    read it into memory */
} galann_npy_options;

GALANN_API void galann_npy_options_init_size(galann_npy_options *opts, size_t size);
#define galann_npy_options_init(opts) galann_npy_options_init_size((opts), sizeof *(opts))

/* Load a dataset from a .npy features file and, unless labels_path is
 * NULL, a .npy labels file (the formats above). galann_dataset_load_npy is
 * galann_dataset_load_npy_with with opts NULL: u8 pixels divided by 255,
 * labels from labels_path or column 0, mapped when possible.
 * Ownership: the caller frees *out with galann_dataset_free, which also
 * unmaps a mapped file; the paths and opts are read during the call only.
 * Threading: safe from any thread; the dataset is immutable like any
 * other (do not change a mapped file: above).
 * Statuses: GALANN_ERR_INVALID (out or features_path NULL;
 * opts->struct_size 0 or too large; divisor 0, NaN or infinite; labelled
 * or map not 0 or 1; a labels path with labelled 0), GALANN_ERR_IO
 * (cannot open: "x.npy: cannot open: No such file or directory"; not a
 * regular file; "x.npy: read failed: ..."; the file shrank while it was
 * read; mmap failing for another reason than memory), GALANN_ERR_PARSE
 * (the defects above), GALANN_ERR_NOMEM (the dataset; the mapping,
 * "x.npy: cannot map 276480128 bytes: Cannot allocate memory"). */
GALANN_API int galann_dataset_load_npy(const char *features_path, const char *labels_path, galann_dataset **out);
GALANN_API int galann_dataset_load_npy_with(const char *features_path, const char *labels_path,
                                            const galann_npy_options *opts, galann_dataset **out);

/* Write d as .npy files that galann_dataset_load_npy reads back with the
 * same numbers: the features as a (n_samples, n_features) array of the
 * dataset's storage type, '|u1' for u8 with divisor 255, '<f4' for f32,
 * '<f8' for f64 and for u8 with any other divisor (the values p / divisor
 * as doubles: the numbers survive, the storage becomes f64), and the
 * labels as a (n_samples,) '<i4' array. labels_path NULL writes no labels
 * file but the labels as column 0 of the features instead (shape
 * (n_samples, n_features + 1), in the features' dtype; '|u1' then needs
 * every label <= 255). n_labels is not stored: it is read back as one more
 * than the largest label. Format version 1.0 (2.0 only for a header longer
 * than 65535 bytes), the header padded to 64 bytes as numpy.save pads it,
 * so numpy.load returns the same array and dtype. Both files (the one file
 * without labels_path) are written as galann_model_save writes one (a
 * temporary beside the path, fsynced, renamed over it), but both
 * temporaries are written and fsynced before either is renamed, features
 * then labels: a failure writing either file leaves both existing files
 * untouched. The only window is between the two renames: a failure of the
 * labels rename, or a crash between the two, leaves the new features
 * beside the old labels. Each file is built in memory first (its size in
 * bytes, once more). Mode 0666 less the umask.
 * Statuses: GALANN_ERR_INVALID (d or features_path NULL; a dataset with
 * no rows; a label above 255 for a '|u1' label column), GALANN_ERR_NOMEM,
 * GALANN_ERR_IO (as galann_dataset_save_csv; the message names the
 * path). */
GALANN_API int galann_dataset_save_npy(const galann_dataset *d, const char *features_path, const char *labels_path);

/* Split d in two, stratified and seeded, for a validation set that is not
 * the test set: of each class's c rows, round(fraction * c) go to
 * *held_out (at least 1 when c >= 2, never all c), chosen by a partial
 * Fisher-Yates shuffle driven by MT19937 seeded with seed; the others go
 * to *rest. Both keep the rows' order and all of d's labels (n_labels). The
 * same d, fraction and seed give the same split on every machine (the
 * CLI's --validation-fraction is this function with --seed).
 * Ownership: the caller frees *rest and *held_out with galann_dataset_free
 * (both NULL on failure).
 * Statuses: GALANN_ERR_INVALID (a NULL argument; fraction outside (0, 1);
 * a part would be empty; more than 2^32 - 1 rows), GALANN_ERR_NOMEM. */
GALANN_API int galann_dataset_split(const galann_dataset *d, double fraction, uint32_t seed,
                                    galann_dataset **rest, galann_dataset **held_out);

/* The sizes; 0 for NULL. Cannot fail; safe to call concurrently. */
GALANN_API size_t galann_dataset_n_samples(const galann_dataset *d);
GALANN_API size_t galann_dataset_n_features(const galann_dataset *d);
GALANN_API size_t galann_dataset_n_labels(const galann_dataset *d);
/* Borrowed views of the dataset's arrays, valid until it is freed: the
 * features, n_samples x n_features row-major, as scaled when the dataset
 * was made, and the n_samples labels; NULL for NULL. Read only; they leave
 * the thread's message alone and are safe to call concurrently. For a u8
 * or f32 dataset, galann_dataset_features makes a double copy on its first
 * call (8 bytes per value, kept until the dataset is freed; NULL if memory
 * runs out): prefer galann_dataset_copy_features for large data. */
GALANN_API const double *galann_dataset_features(const galann_dataset *d);
GALANN_API const int32_t *galann_dataset_labels(const galann_dataset *d);

/* The storage type (a galann_storage; -1 for NULL), the u8 divisor (1 for
 * other types, 0.0 for NULL), and the features as stored (uint8_t, float
 * or double, n_samples x n_features row-major; borrowed, valid until the
 * dataset is freed; NULL for NULL). Cannot fail; safe to call
 * concurrently. */
GALANN_API int galann_dataset_storage(const galann_dataset *d);
GALANN_API double galann_dataset_divisor(const galann_dataset *d);
GALANN_API const void *galann_dataset_stored_features(const galann_dataset *d);
/* Rows [first_row, first_row + n_rows) as doubles into out (n_rows x
 * n_features, the caller's buffer): exactly the numbers the f64 dataset of
 * the same data holds.
 * Statuses: GALANN_ERR_INVALID (d NULL; out NULL with n_rows > 0),
 * GALANN_ERR_DIMENSION (rows outside the dataset). */
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

/* These functions evaluate a model on a dataset through a context, with
 * the mathematics of docs/api.md §3 (the original program's). Each checks
 * its arguments first:
 *
 *   - the context, model, dataset and output pointers are not NULL
 *     (GALANN_ERR_INVALID);
 *   - lambda is finite and >= 0 (GALANN_ERR_INVALID: "galann_cost: lambda
 *     must be finite and >= 0, got -1");
 *   - the first layer size equals n_features and the last n_labels
 *     (GALANN_ERR_DIMENSION: "galann_cost: the model takes 100 inputs, the
 *     dataset has 1024 features");
 *   - buffer lengths are right (GALANN_ERR_DIMENSION);
 *   - the dataset has samples, unless the context is data-parallel
 *     (GALANN_ERR_INVALID: "...: the dataset is empty (an empty share needs
 *     a data-parallel context)"); on a data-parallel context, at least one
 *     process has samples ("...: the dataset is empty on every process").
 *
 * Then the backend is called once (galann_check_gradient: once per cost or
 * gradient it needs). The results are checked last: a cost or gradient
 * component that is NaN or infinite, or a network output that is NaN,
 * gives GALANN_ERR_NONFINITE; that takes enormous weights or inputs.
 *
 * The backends add their own limits: more than 64 layers on blas or opencl
 * is GALANN_ERR_INVALID; more than 2^31 - 1 features or parameters on blas
 * (beyond CBLAS's int), or more than 2^30 samples, parameters or units in a
 * layer on opencl (beyond the kernels' indices), is GALANN_ERR_DIMENSION;
 * on opencl a dataset larger than one allocation is split over several
 * buffers, but one chunk (of the data, the activations or the partial
 * sums) that does not fit one buffer is GALANN_ERR_NOMEM; an OpenCL failure is GALANN_ERR_BACKEND. On a
 * data-parallel context (galann_context_set_allreduce) a failing allreduce
 * callback, or a failure on another process, is GALANN_ERR_BACKEND.
 *
 * On failure the output buffers are undefined.
 * Threading: the context is used, so one thread at a time per context (a
 * concurrent call gets GALANN_ERR_BUSY); the model and the dataset are
 * only read.
 * Ownership: nothing is allocated for the caller. */

/* Write the cost J(theta) to *cost and/or its gradient to grad (n =
 * galann_model_n_params(m) values, in parameter-vector order). The
 * combined call costs about as much as the gradient alone.
 * Statuses: GALANN_ERR_INVALID (a NULL pointer; a bad lambda; an empty
 * dataset; too deep for the backend), GALANN_ERR_DIMENSION (the sizes
 * disagree; n != n_params; beyond the backend), GALANN_ERR_NONFINITE (the
 * cost or a gradient component is not finite: "galann_cost: the cost is
 * not finite (weights too large?)", "galann_gradient: gradient component
 * 12 is not finite"), GALANN_ERR_NOMEM, GALANN_ERR_BACKEND,
 * GALANN_ERR_BUSY. */
GALANN_API int galann_cost(galann_context *c, const galann_model *m, const galann_dataset *d,
                           double lambda, double *cost);
GALANN_API int galann_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                               double lambda, double *grad, size_t n);
GALANN_API int galann_cost_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                                    double lambda, double *cost, double *grad, size_t n);

/* Write the predicted class of every sample to labels, n = n_samples: the
 * index of the largest output, the first on ties. The dataset's own labels
 * are ignored. The outputs, n_samples x n_labels doubles, are allocated for
 * the duration of the call. A NaN output has no largest index, so it is an
 * error and not a class; it takes enormous weights or inputs (an infinite
 * product meeting one of the opposite sign), and whether it happens can
 * depend on the backend, since backends round and fuse operations
 * differently. On a data-parallel context predictions stay per process (of
 * its own rows) and never call the allreduce callback; an empty share
 * gives nothing and GALANN_OK.
 * Statuses: GALANN_ERR_INVALID (a NULL pointer; an empty dataset on a
 * context that is not data-parallel; too deep for the backend),
 * GALANN_ERR_DIMENSION (the sizes disagree; n != n_samples; beyond the
 * backend), GALANN_ERR_NONFINITE (an output is NaN: "galann_predict:
 * output 0 of sample 0 is NaN (weights too large?)"; labels is then
 * undefined), GALANN_ERR_NOMEM, GALANN_ERR_BACKEND, GALANN_ERR_BUSY. */
GALANN_API int galann_predict(galann_context *c, const galann_model *m, const galann_dataset *d,
                              int32_t *labels, size_t n);
/* Write the output activations a_L, n_samples x n_labels row-major, n =
 * n_samples * n_labels: independent sigmoids in [0, 1], not normalised (a
 * row does not sum to 1: divide by its sum for a distribution). Nothing is
 * allocated: the outputs go straight into proba. Per process on a
 * data-parallel context, as galann_predict.
 * Statuses: GALANN_ERR_INVALID (as galann_predict), GALANN_ERR_DIMENSION
 * (the sizes disagree; n != n_samples * n_labels; beyond the backend),
 * GALANN_ERR_NONFINITE ("galann_predict_proba: output 2 of sample 7 is NaN
 * (weights too large?)"), GALANN_ERR_NOMEM (also when n_samples * n_labels
 * doubles do not fit a size_t: "galann_predict_proba: <n_samples> x
 * <n_labels> outputs overflow memory"), GALANN_ERR_BACKEND,
 * GALANN_ERR_BUSY. */
GALANN_API int galann_predict_proba(galann_context *c, const galann_model *m, const galann_dataset *d,
                                    double *proba, size_t n);
/* Write the fraction, 0 to 1, of samples whose predicted class equals their
 * label. It calls galann_predict, so it needs n_samples labels on top of
 * galann_predict's outputs during the call, and fails wherever
 * galann_predict fails: a NaN output is GALANN_ERR_NONFINITE, never counted
 * as a class. On a data-parallel context the counts are summed over every
 * process: the accuracy of the union. Its own checks (accuracy or the
 * dataset NULL) give messages that start with "galann_accuracy:"; any other
 * failure keeps its status, and its message gets the prefix
 * "galann_accuracy: " ("galann_accuracy: galann_predict: the model takes 3
 * inputs, the dataset has 2 features").
 * Statuses: GALANN_ERR_INVALID (a NULL pointer; an empty dataset, or empty
 * on every process when data-parallel; too deep for the backend),
 * GALANN_ERR_DIMENSION, GALANN_ERR_NONFINITE, GALANN_ERR_NOMEM,
 * GALANN_ERR_BACKEND, GALANN_ERR_BUSY. */
GALANN_API int galann_accuracy(galann_context *c, const galann_model *m, const galann_dataset *d,
                               double *accuracy);

/* Compare the analytic gradient with central finite differences,
 * fd_i = (J(theta + h e_i) - J(theta - h e_i)) / 2h. h is the step, 0 =
 * 1e-5. max_params parameters are checked (0, or more than n_params, =
 * all), spread evenly and always including the first and the last.
 * *max_rel_error receives the largest |g_i - fd_i| / max(1, |g_i|, |fd_i|).
 * Each checked parameter costs two cost evaluations; the model is not
 * modified. A correct gradient typically gives 1e-9 or less at h = 1e-5.
 * Statuses: GALANN_ERR_INVALID (a NULL pointer; h negative, NaN or
 * infinite; a bad lambda; an empty dataset; too deep for the backend),
 * GALANN_ERR_DIMENSION, GALANN_ERR_NONFINITE, GALANN_ERR_NOMEM,
 * GALANN_ERR_BACKEND, GALANN_ERR_BUSY. */
GALANN_API int galann_check_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                                     double lambda, double h, size_t max_params, double *max_rel_error);

/* -------------------------------------------------------------- optimizer */

/* galann_minimize_cg is a general nonlinear conjugate-gradient minimizer
 * that reproduces scipy.optimize.fmin_cg step for step: the same trial
 * points, the same number of function evaluations, the same stopping
 * decisions. Polak-Ribiere+ directions, a More-Thuente strong-Wolfe line
 * search with a fallback search, sufficient-descent acceptance: the
 * algorithm is in docs/api.md §3.3. It knows nothing about networks
 * (galann_fit is built on it) and minimises any smooth objective the
 * caller supplies. It has no shared state: independent minimisations may
 * run in parallel threads, and may even nest. */

/* Why the minimizer stopped, what galann_minimize_cg then returns, and what
 * x holds. The first three are normal endings (GALANN_OK): read the
 * report's stop_reason to tell them apart. */
typedef enum galann_stop_reason {
    GALANN_STOP_CONVERGED = 0,   /* ||g||_inf <= gtol. GALANN_OK; x is the
                                    converged point */
    GALANN_STOP_MAX_ITERATIONS = 1, /* GALANN_OK; x is the last iterate */
    GALANN_STOP_PRECISION_LOSS = 2, /* the line search found no step from the
                                    last iterate: scipy's "desired error not
                                    necessarily achieved" warning; the point is
                                    usually still good. GALANN_OK; x is the
                                    last iterate */
    GALANN_STOP_NONFINITE = 3,   /* the objective returned NaN or infinity (with
                                    a 0 return), or returned
                                    GALANN_ERR_NONFINITE itself.
                                    GALANN_ERR_NONFINITE; x is the last
                                    accepted iterate, or the start */
    GALANN_STOP_CANCELLED = 4,   /* the progress callback returned nonzero.
                                    GALANN_ERR_CANCELLED; x is the iterate the
                                    callback was just shown */
    GALANN_STOP_ERROR = 5,       /* the objective returned an error status:
                                    that nonzero value, unchanged (any value
                                    but GALANN_ERR_NONFINITE); also the
                                    GALANN_ERR_INVALID or GALANN_ERR_NOMEM of
                                    rejected arguments. x is the last accepted
                                    iterate, or the start */
    GALANN_STOP_NO_IMPROVEMENT = 6 /* galann_fit with patience only: the
                                    validation cost did not improve for
                                    `patience` iterations. GALANN_OK; the model
                                    holds the iterate with the lowest
                                    validation cost */
} galann_stop_reason;

/* The text of a stop reason: "converged: gradient norm below gtol",
 * "maximum number of iterations reached", "desired error not necessarily
 * achieved due to precision loss", "the objective returned NaN or
 * infinity", "cancelled by the progress callback", "the objective returned
 * an error", "stopped early: the validation cost stopped improving";
 * "unknown stop reason" for other values. Never NULL; static. Cannot fail;
 * safe from any thread. */
GALANN_API const char *galann_stop_reason_string(int reason);

/* The objective. Given x (length n), write *f and all n entries of
 * g = grad f(x), and return 0. The gradient must be consistent with f: the
 * line search relies on it.
 *
 *   - x points into the minimizer's work space, not into the caller's
 *     array: valid only during the call; do not keep it.
 *   - A nonzero return, preferably a galann_status, aborts: the minimizer
 *     stops with GALANN_STOP_ERROR (GALANN_STOP_NONFINITE when the value is
 *     GALANN_ERR_NONFINITE) and returns exactly that value. A message the
 *     objective left through a failing libgalann call is kept; otherwise
 *     the message becomes "galann_minimize_cg: the objective returned
 *     status 3 (input/output error) at evaluation 1".
 *   - A NaN or infinite *f or g[i] with a 0 return stops with
 *     GALANN_STOP_NONFINITE and GALANN_ERR_NONFINITE ("galann_minimize_cg:
 *     the objective returned a non-finite value at evaluation 4").
 *   - The first call is at the starting point. It is called once per
 *     distinct trial point (the last evaluated point is cached), on the
 *     caller's thread, one call at a time. It may call other libgalann
 *     functions, but must not free or resize the caller's x. */
typedef int (*galann_objective_fn)(void *user, const double *x, size_t n, double *f, double *g);

/* The progress callback, called after every accepted step, and only then
 * (not for the starting point, nor when the loop ends without a step),
 * with iteration = 1, 2, ..., the new iterate x (the caller's own array,
 * already updated), its value f and gradient g, and the number of
 * objective calls so far. x and g are read-only and valid only during the
 * call. Return 0 to go on; any nonzero value cancels: the minimizer
 * returns GALANN_ERR_CANCELLED ("galann_minimize_cg: cancelled by the
 * progress callback at iteration 3") with x holding the point just shown,
 * and report.iterations counts that step. It runs on the caller's thread
 * and may call other libgalann functions, but must not free or resize x. */
typedef int (*galann_cg_progress_fn)(void *user, size_t iteration, const double *x, size_t n,
                                     double f, const double *g, size_t evaluations);

/* Options for galann_minimize_cg (galann_cg_options_init first; the rules
 * of galann_context_options). */
typedef struct galann_cg_options {
    size_t struct_size;          /* set by galann_cg_options_init */
    size_t max_iterations;       /* most accepted steps; default 0 = 200 * n,
                                    fmin_cg's default */
    double gtol;                 /* stop when ||g||_inf <= gtol; default 1e-5.
                                    Must be >= 0 (NaN refused); 0 never
                                    converges by this test */
    double c1;                   /* sufficient-decrease constant of the Wolfe
                                    conditions, default 1e-4 */
    double c2;                   /* curvature constant, default 0.4; needs
                                    0 < c1 < c2 < 1 */
    galann_cg_progress_fn progress; /* per-iteration callback, or NULL (default) */
    void *progress_user;         /* passed to progress as user; default NULL */
} galann_cg_options;

GALANN_API void galann_cg_options_init_size(galann_cg_options *opts, size_t size);
#define galann_cg_options_init(opts) galann_cg_options_init_size((opts), sizeof *(opts))

/* What galann_minimize_cg did (a report: the rules of galann_profile). */
typedef struct galann_cg_report {
    size_t struct_size;          /* galann_cg_report_init sets it; on return,
                                    the bytes written */
    int stop_reason;             /* a galann_stop_reason */
    size_t iterations;           /* accepted steps */
    size_t evaluations;          /* calls of the objective */
    double f;                    /* objective at the returned x; NaN if not
                                    even the first evaluation succeeded */
    double gradient_norm;        /* ||g||_inf at the returned x; NaN likewise */
} galann_cg_report;

GALANN_API void galann_cg_report_init_size(galann_cg_report *report, size_t size);
#define galann_cg_report_init(r) galann_cg_report_init_size((r), sizeof *(r))

/* Minimise fn from x (length n), overwriting x with the result. user is
 * passed to fn unchanged; opts NULL means the defaults; report may be NULL.
 *
 * x changes only when a step is accepted: in every outcome it holds the
 * last accepted iterate, or the start if there was none. That is also the
 * iterate with the lowest value whenever every accepted step met the
 * sufficient-decrease condition, which only the unchecked fallback step
 * (docs/api.md §3.3) can miss; trial points the line search rejected are
 * not kept, even when their value was lower. A report is written in every
 * case once its struct_size is valid, also when the arguments are
 * rejected (stop_reason GALANN_STOP_ERROR, counts 0, f NaN). The minimizer
 * allocates 7 work vectors of n doubles for the duration of the call.
 * Threading: fn and the progress callback run on the calling thread.
 * Statuses: GALANN_OK (converged, iteration limit or precision loss: the
 * report says which), GALANN_ERR_NONFINITE, GALANN_ERR_CANCELLED, the
 * objective's own return value (galann_stop_reason), GALANN_ERR_INVALID
 * (fn or x NULL; n 0; opts->struct_size 0 or too large; report->struct_size
 * 0 or less than sizeof(size_t): nothing is written; gtol not >= 0; c1, c2
 * not 0 < c1 < c2 < 1), GALANN_ERR_NOMEM (the work vectors, or n so large
 * that their size overflows). */
GALANN_API int galann_minimize_cg(galann_objective_fn fn, void *user, double *x, size_t n,
                                  const galann_cg_options *opts, galann_cg_report *report);

/* -------------------------------------------------------------- training */

/* galann_fit trains a model with galann_minimize_cg on the regularised
 * cost J(theta; train, lambda), reproducing the original program's
 * fmin_cg(..., maxiter=600) run and its per-iteration callback. Optionally
 * it keeps the iterate with the lowest validation cost, stops early when
 * that cost stops improving, and reports a test set that chooses
 * nothing. */

/* What the progress callback is shown after each accepted step. */
typedef struct galann_fit_progress {
    size_t iteration;            /* 1, 2, ... within this galann_fit call */
    double train_cost;           /* J(theta_k; train, lambda), the lambda term
                                    included */
    double train_accuracy;       /* fraction of training samples predicted
                                    right at theta_k */
    double validation_cost;      /* J(theta_k; validation, lambda), with the same
                                    lambda term as the original's J_test; NaN
                                    without a validation set */
    double validation_accuracy;  /* NaN without a validation set */
    double gradient_norm;        /* ||grad J(theta_k)||_inf on the training set */
    size_t evaluations;          /* training cost+gradient evaluations so far */
    double test_cost;            /* on options.test, as the validation figures;
                                    NaN without a test set */
    double test_accuracy;        /* NaN without a test set */
} galann_fit_progress;

/* Called after every accepted CG step, and only then, on the calling
 * thread, between evaluations: it may use the fit's own context. p is
 * valid only during the call. Throughout galann_fit the model still holds
 * its starting weights: the result is written to it only when galann_fit
 * returns. The callback must not free or modify the model, the datasets or
 * the context passed to galann_fit. Return 0 to go on; nonzero stops the
 * fit: right after this iterate, with no further evaluations but the
 * report's, the model receives the best iterate (keep-best) or this one,
 * the report gets stop_reason GALANN_STOP_CANCELLED with iterations
 * counting this step, and galann_fit returns GALANN_ERR_CANCELLED
 * ("galann_fit: cancelled by the progress callback after 3 iterations").
 * This is the way to impose a time limit, a custom stopping rule, or a
 * reaction to a user interrupt; a cancelled model is a valid result, to
 * save, evaluate or resume from. */
typedef int (*galann_fit_progress_fn)(void *user, const galann_fit_progress *p);

/* Options for galann_fit (galann_fit_options_init first; the rules of
 * galann_context_options). opts NULL means these defaults: lambda 1, 600
 * iterations, gtol 1e-5, no validation, no test. The minimizer's c1 and c2
 * are fixed at 1e-4 and 0.4. */
typedef struct galann_fit_options {
    size_t struct_size;          /* set by galann_fit_options_init */
    double lambda;               /* regularisation; default 1.0; finite, >= 0 */
    size_t max_iterations;       /* most CG iterations; default 600; >= 1 (unlike
                                    galann_cg_options, 0 is an error here) */
    double gtol;                 /* stop when ||grad J||_inf <= gtol; default
                                    1e-5; >= 0 (NaN refused) */
    const galann_dataset *validation; /* optional, default NULL: a set with the
                                    model's features and labels. With one, its
                                    cost and accuracy are computed after every
                                    iteration, callback or not (one more pass
                                    over it per iteration) */
    int keep_best;               /* -1 (default): on when validation is set,
                                    off otherwise; 1: the model ends at the
                                    iterate with the lowest validation cost
                                    (needs validation); 0: at the last
                                    iterate. Other values are refused */
    galann_fit_progress_fn progress; /* per-iteration callback; default NULL */
    void *progress_user;         /* passed to progress as user; default NULL */
    size_t patience;             /* 0 (default): off. N: early stopping: the fit
                                    ends (GALANN_OK, stop reason
                                    GALANN_STOP_NO_IMPROVEMENT) after the first
                                    iteration that is N iterations past the
                                    lowest validation cost so far, the model at
                                    that lowest iterate. Needs validation and
                                    keep_best -1 or 1 */
    const galann_dataset *test;  /* optional, default NULL: evaluated after
                                    every iteration (test_cost, test_accuracy
                                    in the progress) and at the final weights
                                    (in the report), and never used to choose
                                    anything. A set of the wrong shape gives
                                    GALANN_ERR_DIMENSION after the first step,
                                    the model untouched */
} galann_fit_options;

GALANN_API void galann_fit_options_init_size(galann_fit_options *opts, size_t size);
#define galann_fit_options_init(opts) galann_fit_options_init_size((opts), sizeof *(opts))

/* What galann_fit did (a report: the rules of galann_profile). Written
 * when the fit ends with GALANN_OK, GALANN_ERR_CANCELLED or
 * GALANN_ERR_NONFINITE and its final evaluation succeeds; left untouched
 * otherwise. */
typedef struct galann_fit_report {
    size_t struct_size;          /* galann_fit_report_init sets it; on return,
                                    the bytes written */
    int stop_reason;             /* a galann_stop_reason: why the minimizer
                                    stopped */
    size_t iterations;           /* CG iterations done in this call */
    size_t evaluations;          /* training cost+gradient evaluations in this
                                    call */
    double train_cost;           /* at the model's final weights (the kept
                                    iterate), the lambda term included */
    double train_accuracy;       /* likewise */
    double validation_cost;      /* at the final weights; NaN without a
                                    validation set */
    double validation_accuracy;  /* likewise */
    size_t best_iteration;       /* with keep-best, the iterate kept (0 = the
                                    starting weights); without, equal to
                                    iterations */
    double test_cost;            /* at the final weights, on options.test; NaN
                                    without one */
    double test_accuracy;        /* likewise */
} galann_fit_report;

GALANN_API void galann_fit_report_init_size(galann_fit_report *report, size_t size);
#define galann_fit_report_init(r) galann_fit_report_init_size((r), sizeof *(r))

/* Train m in place, starting from its current weights. opts NULL means the
 * defaults; report may be NULL. The model's sizes must match train (first
 * layer n_features, last n_labels), and those of validation and test.
 *
 *   1. The options are checked. With keep-best on, the validation cost at
 *      the starting weights is evaluated: it is the first candidate for the
 *      best iterate (iteration 0), as the original's initial J_test was.
 *   2. galann_minimize_cg runs on theta -> (J(theta; train, lambda), grad J)
 *      with max_iterations, gtol, c1 = 1e-4 and c2 = 0.4. After each step
 *      the training accuracy (usually counted during the evaluation that
 *      produced the point, at no extra cost) and the validation and test
 *      figures are computed; a validation cost strictly lower than the best
 *      so far makes the step the new best (the earliest wins a tie); then
 *      progress is called, then patience is checked.
 *   3. On a normal end (GALANN_OK), a cancel or a non-finite stop, the model
 *      receives the kept iterate (keep-best) or the last accepted one, and
 *      the report is filled by evaluating the final weights.
 *
 * Outcomes (status; model; report):
 *
 *   converged, iteration limit, precision loss or patience: GALANN_OK; best
 *     or last iterate; written, stop_reason says which.
 *   progress returned nonzero: GALANN_ERR_CANCELLED; best iterate, or the
 *     one just reported; written, GALANN_STOP_CANCELLED.
 *   training cost or gradient NaN or infinite at a trial point:
 *     GALANN_ERR_NONFINITE; best or last accepted iterate; written,
 *     GALANN_STOP_NONFINITE. The objective's message is kept
 *     ("galann_fit: the cost is not finite (weights too large?)",
 *     "galann_fit: gradient component 12 is not finite").
 *   the same at the starting weights, or (keep-best) the validation cost
 *     there: GALANN_ERR_NONFINITE; unchanged; untouched.
 *   validation cost NaN or infinite at an accepted iterate:
 *     GALANN_ERR_NONFINITE; best iterate, or that iterate; written with
 *     keep-best (GALANN_STOP_NONFINITE); with keep_best 0 the report's own
 *     validation pass fails the same way and it stays untouched.
 *   another evaluation failing inside a step (training accuracy,
 *     validation or test figures): that evaluation's own status and
 *     message ("galann_fit (validation): the model takes 1024 inputs, the
 *     dataset has 2 features" when keep_best is 0 and the validation set
 *     does not match), not a cancellation; unchanged; untouched.
 *   the report's final evaluation failing: its status; the model already
 *     holds its result; untouched.
 *   bad arguments, mismatched sizes, out of memory, a backend failure, a
 *     busy context: that status; unchanged; untouched.
 *
 * So the model always holds a usable, finite set of weights: the trained
 * result or its starting weights.
 *
 * Resuming: calling galann_fit again continues from the weights the model
 * holds, as from a new starting point, in a fresh CG run: the iteration
 * count starts at 1 again, the first direction is steepest descent and the
 * first step-length guess starts over. Two fits of 300 iterations therefore
 * do not follow the trajectory of one fit of 600 (to reproduce the original
 * run, train once with max_iterations 600). With keep-best, a second call
 * starts from the first call's best iterate, not its last. Saving and
 * loading a model resumes the same way: only the weights, the input divisor
 * and the class names are stored, no optimizer state.
 *
 * Threading: the context is used throughout (one thread at a time); no one
 * else may touch the model during the call; the datasets are only read
 * and may be shared. The callbacks run on the calling thread.
 * Statuses: GALANN_ERR_INVALID (c, m or train NULL; opts->struct_size 0 or
 * too large; lambda negative or not finite; gtol negative or NaN;
 * max_iterations 0; keep_best not -1, 0 or 1: "galann_fit: keep_best must
 * be -1 (auto), 0 or 1, got 2"; keep_best 1 without validation:
 * "galann_fit: keep_best needs a validation dataset"; patience without
 * validation, or with keep_best 0; report->struct_size 0 or less than
 * sizeof(size_t); an empty training set; too deep for the backend),
 * GALANN_ERR_DIMENSION (the model does not match train, validation or
 * test; beyond the backend), GALANN_ERR_NONFINITE, GALANN_ERR_CANCELLED,
 * GALANN_ERR_NOMEM, GALANN_ERR_BACKEND, GALANN_ERR_BUSY (an evaluation met
 * the context in use). */
GALANN_API int galann_fit(galann_context *c, galann_model *m, const galann_dataset *train,
                          const galann_fit_options *opts, galann_fit_report *report);

/* ------------------------------------------------ reproducible, distributed */

/* Every backend sums the data term over fixed chunks of this many samples
 * (512), counted from a dataset's first row. A backend with exact sums
 * (today blas) computes each chunk's partial sums in the same order
 * whichever thread runs it, then adds them without rounding into
 * fixed-point accumulators that span the whole double range; each sum is
 * rounded once, to nearest with ties to even, and divided by m. So blas
 * gives the same bits for any thread count (tests/test-reproducible.c
 * checks 1, 2, 3, 4 and 7 threads: cost, gradient, outputs and a
 * 40-iteration trajectory); the bits can still differ between machines or
 * BLAS builds, which may round differently inside a chunk. A process that
 * holds a share of a larger dataset gets the same bits as one process
 * holding it all when its share starts at a multiple of this number
 * (galann_mpi_load_csv arranges that). Cannot fail. */
GALANN_API size_t galann_sum_chunk_samples(void);

/* Operations an allreduce callback must perform, element-wise over int64. */
typedef enum galann_reduce_op {
    GALANN_REDUCE_SUM = 0,       /* the sum over all processes */
    GALANN_REDUCE_MAX = 1        /* the maximum over all processes */
} galann_reduce_op;

/* Replace values[0..count) on every cooperating process by their
 * element-wise sum or maximum over all of them (an MPI_Allreduce on
 * MPI_INT64_T, say). Return 0 on success, nonzero on failure. The library
 * calls it the same number of times, with the same counts, on every
 * process: per cost or gradient evaluation, one MAX over
 * 2 (n_params + 1) + 1 words, then one SUM over about 3 words per parameter
 * plus 3; per accuracy, one SUM of 3 counts. It runs on the calling
 * thread, during the evaluation: it should not use the same context (a
 * call on it meanwhile gets GALANN_ERR_BUSY). */
typedef int (*galann_allreduce_fn)(void *user, int64_t *values, size_t count, galann_reduce_op op);

/* Make the context data-parallel: from then on every galann_cost,
 * galann_gradient, galann_cost_gradient, galann_accuracy,
 * galann_check_gradient and galann_fit on it computes the figure of the
 * union of the datasets the cooperating processes pass, each holding its
 * share (possibly empty: galann_dataset_new with 0 samples), the partial
 * sums combined exactly through fn. With blas, and shares that start at
 * multiples of galann_sum_chunk_samples() rows, every process gets the same
 * bits as one process holding every row, for any number of processes. With
 * reference and opencl the processes' means, times their sample counts,
 * join the same exact reduction: deterministic for a given split, but not
 * equal to one process. Predictions (galann_predict, galann_predict_proba)
 * stay per process and call nothing. fn NULL detaches.
 *
 * A failure on any process (a backend error, or fn failing: "the allreduce
 * callback failed", GALANN_ERR_BACKEND) makes the evaluation fail on every
 * process: the failing one with its own status, the others with
 * GALANN_ERR_BACKEND ("another process failed in the same evaluation"), so
 * that no process waits forever for another. The tutorial is in
 * docs/api.md §2.3; libgalann-mpi (galann_mpi.h) implements fn with MPI.
 * Ownership: user must stay valid while the context uses it.
 * Threading: not guarded against concurrent use: never call it while the
 * context is in use.
 * Statuses: GALANN_ERR_INVALID (ctx NULL). */
GALANN_EXPERIMENTAL int galann_context_set_allreduce(galann_context *ctx, galann_allreduce_fn fn, void *user);

/* How processes split one CSV file without any of them parsing it all: each
 * counts the rows of its byte range, the counts are gathered, and each
 * loads the rows from the first chunk boundary in its range to the first in
 * the next one's (galann_mpi_load_csv does exactly that). */

/* Count the rows (lines) of a CSV file whose first byte lies in
 * [begin, end); an end past the file counts to its end. Nothing is parsed.
 * Statuses: GALANN_ERR_INVALID (path or rows NULL), GALANN_ERR_IO (cannot
 * open or read; not a regular file), GALANN_ERR_NOMEM. */
GALANN_EXPERIMENTAL int galann_csv_count_rows(const char *path, uint64_t begin, uint64_t end, uint64_t *rows);

/* Load rows [first, first + count) of a CSV file in the format of
 * galann_dataset_load_csv (rows are its lines, numbered from 0; messages
 * give the file's 1-based line numbers), reading from byte offset, where
 * the first line start at or after offset is row offset_row (0, 0 always
 * works, reading from the top). count >= 1 (an empty share is
 * galann_dataset_new with 0 samples) and first >= offset_row. Features are
 * divided by 255 as galann_dataset_load_csv does; n_labels is one more than
 * the largest label among the rows read (galann_dataset_with_labels gives a
 * share the whole file's count).
 * Ownership: the caller frees *out with galann_dataset_free.
 * Statuses: GALANN_ERR_INVALID (out or path NULL; count 0 or first <
 * offset_row: "galann_dataset_load_csv_rows: rows [3, +0) do not follow
 * row 5"), GALANN_ERR_IO (as galann_dataset_load_csv), GALANN_ERR_PARSE
 * (the defects of the CSV format; the file has fewer rows: "train.csv:
 * the file has fewer rows than asked for"), GALANN_ERR_NOMEM. */
GALANN_EXPERIMENTAL int galann_dataset_load_csv_rows(const char *path, uint64_t offset, uint64_t offset_row,
                                            uint64_t first, uint64_t count, galann_dataset **out);

#ifdef __cplusplus
}
#endif

#endif /* GALANN_H */
