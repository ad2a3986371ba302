/*
 * galann.h -- the public interface of libgalann.
 *
 * libgalann trains and runs small fully connected sigmoid networks (the
 * galaxy-morphology classifier: 32x32 images -> Elliptical / Spiral /
 * Irregular) with the exact mathematics of the original Python program,
 * on interchangeable compute backends.
 *
 * Read this file top to bottom as the manual: version, statuses, then one
 * section per handle. Conventions that hold for every function:
 *
 *   - Every function that can fail returns an int status: GALANN_OK (0) on
 *     success, a galann_status code otherwise. galann_strerror() gives the
 *     fixed text of a status, galann_last_error() the detailed message of
 *     the calling thread's most recent call ("train.csv:4: expected 1025
 *     fields, found 1001"; "" after a success).
 *   - The library never prints, exits or aborts. On failure no output
 *     handle is created and *out is set to NULL.
 *   - Handles are opaque. A handle may be used by one thread at a time;
 *     different handles may be used concurrently from different threads.
 *     Datasets are immutable and may be read by several contexts in several
 *     threads at once.
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

typedef enum galann_status {
    GALANN_OK = 0,
    GALANN_ERR_INVALID = 1,      /* invalid argument (NULL, zero size, bad option) */
    GALANN_ERR_NOMEM = 2,        /* out of memory, or a size that overflows */
    GALANN_ERR_IO = 3,           /* a file could not be opened, read or written */
    GALANN_ERR_PARSE = 4,        /* malformed CSV data (message names file and line) */
    GALANN_ERR_DIMENSION = 5,    /* sizes of model, dataset or buffer disagree */
    GALANN_ERR_UNAVAILABLE = 6,  /* backend not built in, or no usable device */
    GALANN_ERR_NONFINITE = 7,    /* NaN or infinity in inputs or results */
    GALANN_ERR_FORMAT = 8,       /* model file or buffer is not a valid model */
    GALANN_ERR_BACKEND = 9,      /* a backend failed at run time (kernel build, device error) */
    GALANN_ERR_CANCELLED = 10,   /* a callback asked to stop */
    GALANN_ERR_BUSY = 11         /* the context is in use by another call (one call at a time) */
} galann_status;

/* Fixed English text for a status; never NULL, also for unknown codes. */
GALANN_API const char *galann_strerror(int status);

/* The detailed message of this thread's most recent libgalann call that can
 * fail ("" if it succeeded: every such call clears it first).
 * The pointer stays valid until this thread's next libgalann call. */
GALANN_API const char *galann_last_error(void);

/* ---------------------------------------------------------------- context */

/* A compute context: one backend instance with its settings, thread pool
 * and device state. Use one context from one thread at a time: a call
 * made while another call uses the context returns GALANN_ERR_BUSY. */
typedef struct galann_context galann_context;

/* Options for galann_context_new_ex. Fill with galann_context_options_init
 * first so that fields added later keep their defaults.
 *
 * About every *_options_init below: the macro passes the size of the
 * caller's struct, so a program built against an older, shorter struct is
 * never written past its end by a newer library. Bindings that cannot use
 * the macro call the _size function with their struct's size. */
typedef struct galann_context_options {
    size_t struct_size;  /* set by galann_context_options_init */
    int threads;         /* worker threads for parallel backends; 0 = GALANN_THREADS
                            from the environment, else the number of CPUs */
    const char *device;  /* opencl: device index or substring of "platform device"
                            name; NULL = GALANN_OPENCL_DEVICE, else prefer a GPU */
    const char *cache_dir; /* opencl: where compiled kernels are cached; NULL =
                            GALANN_CACHE_DIR, else $XDG_CACHE_HOME/galann or
                            ~/.cache/galann; "" disables the cache */
    int profile;         /* 1: time device transfers and kernels separately
                            (galann_context_profile); 0 = GALANN_PROFILE from
                            the environment, else off. Costs a little time. */
} galann_context_options;

GALANN_API void galann_context_options_init_size(galann_context_options *opts, size_t size);
#define galann_context_options_init(opts) galann_context_options_init_size((opts), sizeof *(opts))

/* Create a context on a backend: "reference" (plain C, serial, the oracle),
 * "blas" (CBLAS, multithreaded), "opencl" (any OpenCL device).
 * backend NULL means GALANN_BACKEND from the environment if set, else the
 * best available: opencl when a GPU is usable, else blas, else reference.
 * Statuses: GALANN_ERR_INVALID (unknown name, bad options or a malformed
 * GALANN_THREADS for a threaded backend), GALANN_ERR_UNAVAILABLE (not
 * built in, or no usable device: the message says why), GALANN_ERR_BACKEND
 * (the device failed to set up, e.g. a kernel build: the log is in the
 * message), GALANN_ERR_NOMEM. The caller frees the context with
 * galann_context_free. */
GALANN_API int galann_context_new(const char *backend, galann_context **out);
GALANN_API int galann_context_new_ex(const char *backend, const galann_context_options *opts,
                                     galann_context **out);
GALANN_API void galann_context_free(galann_context *ctx);

/* Name of the backend behind the context ("blas"); never NULL. */
GALANN_API const char *galann_context_backend(const galann_context *ctx);

/* Set or read the number of worker threads (backends without threads
 * accept 1 only... and report 1). n >= 1. */
GALANN_API int galann_context_set_threads(galann_context *ctx, int n);
GALANN_API int galann_context_threads(const galann_context *ctx);

/* Human-readable description of the context's device ("blas: CBLAS,
 * 2 threads"), written NUL-terminated into buf (truncated to size). */
GALANN_API int galann_context_describe(const galann_context *ctx, char *buf, size_t size);

/* Where a context's time went, since it was created. */
typedef struct galann_profile {
    size_t struct_size;        /* galann_profile_init sets it */
    uint64_t evaluations;      /* backend evaluations (cost, gradient, predictions) */
    double seconds;            /* wall time inside them, every backend */
    /* Device backends only (0 otherwise). The times need profiling on
     * (galann_context_options.profile); the upload count does not. */
    double upload_seconds;     /* weights to the device */
    double kernel_seconds;     /* device computation */
    double download_seconds;   /* cost, gradient and outputs back */
    uint64_t dataset_uploads;  /* datasets copied to the device (once each) */
    double dataset_upload_seconds;
    /* Backends with exact sums (blas), with profiling on: the part of
     * `seconds` spent adding chunk partials exactly, merging the threads'
     * accumulators and rounding (the thread that ran worker 0's chunks,
     * plus the core's clearing and combining). */
    double combine_seconds;
} galann_profile;

/* Reports (galann_profile, galann_cg_report, galann_fit_report) are
 * written by the library: set their size with the _init macro (it zeroes
 * the struct and sets struct_size); the library writes only as far as
 * struct_size reaches, and sets it to the bytes it wrote. struct_size 0
 * (or less than its own size) is GALANN_ERR_INVALID. */
GALANN_API void galann_profile_init_size(galann_profile *profile, size_t size);
#define galann_profile_init(p) galann_profile_init_size((p), sizeof *(p))

/* Fill *out (up to out->struct_size bytes; galann_profile_init first). */
GALANN_API int galann_context_profile(const galann_context *ctx, galann_profile *out);

/* Backends compiled into this library, by index 0..count-1. */
GALANN_API size_t galann_backend_count(void);
GALANN_API const char *galann_backend_name(size_t index);

/* Whether a backend can create a context here. Returns GALANN_OK, or
 * GALANN_ERR_UNAVAILABLE/GALANN_ERR_INVALID with the reason in
 * galann_last_error(). */
GALANN_API int galann_backend_available(const char *backend);

/* Devices a backend can use, one per line ("0: Portable Computing Language
 * / cpu-x86-64 (CPU, fp64)"), written NUL-terminated into buf. */
GALANN_API int galann_backend_devices(const char *backend, char *buf, size_t size);

/* ---------------------------------------------------------------- dataset */

/* Samples (features, row-major, double) with integer class labels. A
 * dataset never changes after creation; backends may keep device copies of
 * it, which are released when the dataset or the context is freed. A
 * dataset may be freed only when no call is using it. */
typedef struct galann_dataset galann_dataset;

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
/* Borrowed views of the dataset's arrays, valid until it is freed. */
GALANN_API const double *galann_dataset_features(const galann_dataset *d);
GALANN_API const int32_t *galann_dataset_labels(const galann_dataset *d);

/* ------------------------------------------------------------------ model */

/* A network: layer sizes {inputs, hidden..., labels} and its weights, all
 * in one parameter vector: Theta_1 row-major (s_1 x (s_0 + 1), column 0 is
 * the bias), then Theta_2, and so on. */
typedef struct galann_model galann_model;

/* Create a model with all weights zero. n_layers >= 2, every size >= 1.
 * The caller frees it with galann_model_free. */
GALANN_API int galann_model_new(const size_t *layer_sizes, size_t n_layers, galann_model **out);
GALANN_API int galann_model_copy(const galann_model *m, galann_model **out);
GALANN_API void galann_model_free(galann_model *m);

GALANN_API size_t galann_model_n_params(const galann_model *m);
GALANN_API size_t galann_model_n_layers(const galann_model *m);
/* Size of layer i (0 = inputs), 0 when out of range. */
GALANN_API size_t galann_model_layer_size(const galann_model *m, size_t i);

/* Copy the parameter vector in or out; n must equal galann_model_n_params.
 * set_params rejects NaN/infinity with GALANN_ERR_NONFINITE. */
GALANN_API int galann_model_set_params(galann_model *m, const double *theta, size_t n);
GALANN_API int galann_model_get_params(const galann_model *m, double *theta, size_t n);

/* Initialise like the original: numpy's legacy np.random.seed(seed), then
 * every weight rand() * 0.4 - 0.2 in parameter-vector order. Bit-identical
 * to numpy. */
GALANN_API int galann_model_init_random(galann_model *m, uint32_t seed);

/* How raw inputs are scaled before they reach the network: x = p /
 * divisor. Kept with the model (and in its file) so that predictions on
 * raw data scale it as training did. Default 255 (8-bit pixels, as
 * galann_dataset_load_csv divides). */
GALANN_API double galann_model_input_divisor(const galann_model *m);
GALANN_API int galann_model_set_input_divisor(galann_model *m, double divisor);

/* Names of the output classes, one per output unit (names[i] is class i),
 * copied; count 0 removes them. Each name is 1..255 bytes without a comma
 * or a control byte. Saved in the model file, kept by galann_model_copy.
 * Statuses: GALANN_ERR_INVALID (NULL, a bad name), GALANN_ERR_DIMENSION
 * (count is not the number of outputs), GALANN_ERR_NOMEM. */
GALANN_API int galann_model_set_class_names(galann_model *m, const char *const *names, size_t count);
/* Class index's name, borrowed until the names change or the model is
 * freed; NULL when the model has no names (or index is out of range). */
GALANN_API const char *galann_model_class_name(const galann_model *m, size_t index);

/* Save to / load from the binary model format (docs/model-format.md).
 * Models the format cannot hold (over 1024 layers, a layer over 2^31 - 1
 * units) are refused with GALANN_ERR_INVALID when saving.
 * Saving is atomic: the file is written beside the target and renamed, so a
 * failure leaves any existing file untouched. Loading validates magic,
 * version, sizes and checksum: GALANN_ERR_FORMAT on any defect. */
GALANN_API int galann_model_save(const galann_model *m, const char *path);
GALANN_API int galann_model_load(const char *path, galann_model **out);
/* Serialise into a buffer the library allocates (free with galann_free),
 * and parse from memory. */
GALANN_API int galann_model_save_buffer(const galann_model *m, void **buf, size_t *size);
GALANN_API int galann_model_load_buffer(const void *buf, size_t size, galann_model **out);
/* Frees memory the library handed to the caller. */
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
