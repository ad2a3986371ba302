/*
 * test-api.c -- every public function used wrongly: NULL handles and
 * output pointers, sizes that disagree, non-finite numbers, bad options,
 * unknown backends. Each is refused with its status and a message, and no
 * handle comes out of a failed call. Also the small things: status texts,
 * the per-thread error message, the version, the environment overrides,
 * the backend list and the accessors.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

/* A non-NULL value no allocation returns: failures must overwrite it. */
#define NOT_SET ((void *)(uintptr_t)0x1)

static const size_t net_653[] = { 6, 5, 3 };
#define NET_653_PARAMS (5 * 7 + 3 * 6)
#define SAMPLES 10

/* ------------------------------------------------------------ helpers */

#define expect_message(...) expect_message_at(__FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)

static void expect_message_at(const char *file, int line, ...)
{
    const char *message = galann_last_error();
    va_list pieces;
    va_start(pieces, line);
    for (const char *piece = va_arg(pieces, const char *); piece; piece = va_arg(pieces, const char *)) {
        if (!strstr(message, piece)) {
            print_error("message \"%s\" does not contain \"%s\"\n", message, piece);
            va_end(pieces);
            _fail(file, line);
        }
    }
    va_end(pieces);
}

static galann_model *model_653(void)
{
    galann_model *m = NULL;
    expect_status(galann_model_new(net_653, 3, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, 7), GALANN_OK);
    return m;
}

static galann_context *reference_context(void)
{
    galann_context *c = NULL;
    expect_status(galann_context_new("reference", &c), GALANN_OK);
    return c;
}

static int blas_usable(void)
{
    return galann_backend_available("blas") == GALANN_OK;
}

static int backend_is_listed(const char *name)
{
    for (size_t i = 0; i < galann_backend_count(); i++) {
        if (strcmp(galann_backend_name(i), name) == 0)
            return 1;
    }
    return 0;
}

/* Environment variables the tests change, restored afterwards. */
typedef struct saved_env {
    const char *name;
    char *value;
} saved_env;

static saved_env save_env(const char *name)
{
    const char *v = getenv(name);
    saved_env s = { name, v ? strdup(v) : NULL };
    return s;
}

static void restore_env(saved_env *s)
{
    if (s->value)
        setenv(s->name, s->value, 1);
    else
        unsetenv(s->name);
    free(s->value);
    s->value = NULL;
}

/* ------------------------------------------------------------ version */

static void version_macros_equal_the_loaded_library(void **state)
{
    (void)state;
    assert_string_equal(galann_version(), GALANN_VERSION_STRING);
    assert_int_equal(galann_version_number(), GALANN_VERSION_NUMBER);
    assert_int_equal(GALANN_VERSION_NUMBER,
                     GALANN_VERSION_MAJOR * 10000 + GALANN_VERSION_MINOR * 100 + GALANN_VERSION_PATCH);
    char text[64];
    snprintf(text, sizeof text, "%d.%d.%d", GALANN_VERSION_MAJOR, GALANN_VERSION_MINOR, GALANN_VERSION_PATCH);
    assert_string_equal(galann_version(), text);
}

/* ------------------------------------------------------------- errors */

static void strerror_gives_fixed_text_for_every_status(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *text;
    } table[] = {
        { GALANN_OK, "success" },
        { GALANN_ERR_INVALID, "invalid argument" },
        { GALANN_ERR_NOMEM, "out of memory" },
        { GALANN_ERR_IO, "input/output error" },
        { GALANN_ERR_PARSE, "parse error" },
        { GALANN_ERR_DIMENSION, "dimension mismatch" },
        { GALANN_ERR_UNAVAILABLE, "backend unavailable" },
        { GALANN_ERR_NONFINITE, "non-finite number" },
        { GALANN_ERR_FORMAT, "invalid model format" },
        { GALANN_ERR_BACKEND, "backend failure" },
        { GALANN_ERR_CANCELLED, "cancelled" },
        { GALANN_ERR_BUSY, "context busy" },
    };
    size_t n = sizeof table / sizeof table[0];
    for (size_t i = 0; i < n; i++) {
        const char *text = galann_strerror(table[i].status);
        assert_non_null(text);
        assert_string_equal(text, table[i].text);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(text, galann_strerror(table[j].status));
    }
    static const int unknown[] = { -1, 12, 13, 1000, INT32_MIN, INT32_MAX };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *text = galann_strerror(unknown[i]);
        assert_non_null(text);
        assert_string_equal(text, "unknown status");
    }
}

typedef struct error_thread {
    pthread_barrier_t *barrier;
    int which;
    char initial[256];   /* the thread's message before its first call */
    char own[1024];      /* its message right after its failure */
    char after[1024];    /* its message after the other thread failed */
    int status;
} error_thread;

static void *error_thread_main(void *p)
{
    error_thread *t = p;
    snprintf(t->initial, sizeof t->initial, "%s", galann_last_error());
    if (t->which == 0) {
        galann_model *m = NULL;
        t->status = galann_model_new(net_653, 1, &m);
    } else {
        galann_dataset *d = NULL;
        t->status = galann_dataset_new(NULL, NULL, 1, 1, 1, &d);
    }
    snprintf(t->own, sizeof t->own, "%s", galann_last_error());
    /* both have failed before either looks again */
    pthread_barrier_wait(t->barrier);
    pthread_barrier_wait(t->barrier);
    snprintf(t->after, sizeof t->after, "%s", galann_last_error());
    return NULL;
}

static void last_error_is_kept_per_thread(void **state)
{
    (void)state;
    /* this thread's message, which the other threads must not change */
    galann_context *c = NOT_SET;
    expect_status(galann_context_new("no-such-backend", &c), GALANN_ERR_INVALID);
    char mine[1024];
    snprintf(mine, sizeof mine, "%s", galann_last_error());
    assert_non_null(strstr(mine, "no-such-backend"));

    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    error_thread t[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].barrier = &barrier;
        t[i].which = i;
        assert_int_equal(pthread_create(&threads[i], NULL, error_thread_main, &t[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&barrier);

    /* a new thread starts with no message */
    assert_string_equal(t[0].initial, "");
    assert_string_equal(t[1].initial, "");
    assert_int_equal(t[0].status, GALANN_ERR_INVALID);
    assert_int_equal(t[1].status, GALANN_ERR_INVALID);
    assert_non_null(strstr(t[0].own, "at least 2 layers"));
    assert_non_null(strstr(t[1].own, "NULL"));
    assert_string_not_equal(t[0].own, t[1].own);
    /* each kept its own message while the other failed */
    assert_string_equal(t[0].after, t[0].own);
    assert_string_equal(t[1].after, t[1].own);
    assert_string_equal(galann_last_error(), mine);
}

/* ------------------------------------------------------------ backends */

static void backend_list_holds_reference_and_ends_with_null(void **state)
{
    (void)state;
    size_t count = galann_backend_count();
    assert_true(count >= 1);
    int found = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name = galann_backend_name(i);
        assert_non_null(name);
        assert_true(strlen(name) > 0);
        found += strcmp(name, "reference") == 0;
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(name, galann_backend_name(j));
        int status = galann_backend_available(name);
        assert_true(status == GALANN_OK || status == GALANN_ERR_UNAVAILABLE);
    }
    assert_int_equal(found, 1);
    assert_null(galann_backend_name(count));
    assert_null(galann_backend_name(SIZE_MAX));
    expect_status(galann_backend_available("reference"), GALANN_OK);
    assert_true(usable_backend_count() >= 1);
}

static void unknown_backend_names_are_invalid(void **state)
{
    (void)state;
    expect_status(galann_backend_available(NULL), GALANN_ERR_INVALID);
    expect_status(galann_backend_available("no-such-backend"), GALANN_ERR_INVALID);
    expect_message("no-such-backend");
    expect_status(galann_backend_available(""), GALANN_ERR_INVALID);
    expect_status(galann_backend_available("Reference"), GALANN_ERR_INVALID);

    galann_context *c = NOT_SET;
    expect_status(galann_context_new("no-such-backend", &c), GALANN_ERR_INVALID);
    assert_null(c);
    expect_message("no-such-backend");
    c = NOT_SET;
    galann_context_options opts;
    galann_context_options_init(&opts);
    expect_status(galann_context_new_ex("no-such-backend", &opts, &c), GALANN_ERR_INVALID);
    assert_null(c);
}

static const char *const known_backends[] = { "blas", "opencl" };
#define N_KNOWN_BACKENDS (sizeof known_backends / sizeof known_backends[0])

static size_t known_backends_not_built_in(void)
{
    size_t missing = 0;
    for (size_t i = 0; i < N_KNOWN_BACKENDS; i++)
        missing += !backend_is_listed(known_backends[i]);
    return missing;
}

/* Registered only when this build lacks one of them (see main). */
static void known_backend_not_built_in_is_unavailable(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t i = 0; i < N_KNOWN_BACKENDS; i++) {
        if (backend_is_listed(known_backends[i]))
            continue;
        expect_status(galann_backend_available(known_backends[i]), GALANN_ERR_UNAVAILABLE);
        expect_message(known_backends[i]);
        galann_context *c = NOT_SET;
        expect_status(galann_context_new(known_backends[i], &c), GALANN_ERR_UNAVAILABLE);
        assert_null(c);
        checked++;
    }
    assert_true(checked > 0);
}

static void context_new_rejects_null_out(void **state)
{
    (void)state;
    expect_status(galann_context_new("reference", NULL), GALANN_ERR_INVALID);
    expect_status(galann_context_new_ex("reference", NULL, NULL), GALANN_ERR_INVALID);
}

static void context_options_with_bad_struct_size_are_rejected(void **state)
{
    (void)state;
    galann_context_options opts;
    galann_context_options_init(&opts);
    assert_int_equal(opts.struct_size, sizeof opts);
    assert_int_equal(opts.threads, 0);
    assert_null(opts.device);
    assert_null(opts.cache_dir);

    static const size_t bad_sizes[] = { 0, sizeof(galann_context_options) + 1, sizeof(galann_context_options) * 2,
                                        SIZE_MAX };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        opts.struct_size = bad_sizes[i];
        galann_context *c = NOT_SET;
        expect_status(galann_context_new_ex("reference", &opts, &c), GALANN_ERR_INVALID);
        assert_null(c);
        expect_message("struct_size");
    }

    galann_context_options_init(&opts);
    static const int bad_threads[] = { -1, -100, INT32_MIN, 1000000 };
    for (size_t i = 0; i < sizeof bad_threads / sizeof bad_threads[0]; i++) {
        opts.threads = bad_threads[i];
        galann_context *c = NOT_SET;
        expect_status(galann_context_new_ex("reference", &opts, &c), GALANN_ERR_INVALID);
        assert_null(c);
    }
    galann_context_options_init(NULL); /* must not crash */
}

/* An older caller's smaller struct is accepted; the missing fields keep
 * their defaults. */
static void context_options_from_an_older_caller_are_accepted(void **state)
{
    (void)state;
    const char *backend = blas_usable() ? "blas" : "reference";
    galann_context_options opts;
    galann_context_options_init(&opts);
    opts.struct_size = offsetof(galann_context_options, device);
    opts.threads = 1;
    galann_context *c = NULL;
    expect_status(galann_context_new_ex(backend, &opts, &c), GALANN_OK);
    assert_string_equal(galann_context_backend(c), backend);
    assert_int_equal(galann_context_threads(c), 1);
    galann_context_free(c);

    if (blas_usable()) {
        opts.threads = 3;
        expect_status(galann_context_new_ex("blas", &opts, &c), GALANN_OK);
        assert_int_equal(galann_context_threads(c), 3);
        galann_context_free(c);
    }
}

static void context_accessors_report_backend_and_threads(void **state)
{
    (void)state;
    galann_context *c = reference_context();
    assert_string_equal(galann_context_backend(c), "reference");
    assert_int_equal(galann_context_threads(c), 1);
    assert_non_null(galann_context_backend(NULL));
    assert_int_equal(galann_context_threads(NULL), 0);

    /* a serial backend reports 1 thread whatever was asked */
    galann_context_options opts;
    galann_context_options_init(&opts);
    opts.threads = 4;
    galann_context *c4 = NULL;
    expect_status(galann_context_new_ex("reference", &opts, &c4), GALANN_OK);
    assert_int_equal(galann_context_threads(c4), 1);
    galann_context_free(c4);
    galann_context_free(c);
}

static void set_threads_below_one_is_invalid(void **state)
{
    (void)state;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = NULL;
        expect_status(galann_context_new(usable_backend(b), &c), GALANN_OK);
        int before = galann_context_threads(c);
        expect_status(galann_context_set_threads(c, 0), GALANN_ERR_INVALID);
        expect_status(galann_context_set_threads(c, -1), GALANN_ERR_INVALID);
        expect_status(galann_context_set_threads(c, INT32_MIN), GALANN_ERR_INVALID);
        assert_int_equal(galann_context_threads(c), before);
        galann_context_free(c);
    }
    expect_status(galann_context_set_threads(NULL, 1), GALANN_ERR_INVALID);
}

static void set_threads_above_one_on_reference_is_invalid(void **state)
{
    (void)state;
    galann_context *c = reference_context();
    expect_status(galann_context_set_threads(c, 2), GALANN_ERR_INVALID);
    expect_message("reference");
    assert_int_equal(galann_context_threads(c), 1);
    expect_status(galann_context_set_threads(c, 1), GALANN_OK);
    assert_int_equal(galann_context_threads(c), 1);
    galann_context_free(c);
}

static void blas_set_threads_changes_the_count(void **state)
{
    (void)state;
    if (!blas_usable()) {
        skip_test("the blas backend is not usable here");
    }
    galann_context *c = NULL;
    expect_status(galann_context_new("blas", &c), GALANN_OK);
    expect_status(galann_context_set_threads(c, 3), GALANN_OK);
    assert_int_equal(galann_context_threads(c), 3);
    char text[256];
    expect_status(galann_context_describe(c, text, sizeof text), GALANN_OK);
    assert_non_null(strstr(text, "3 threads"));
    expect_status(galann_context_set_threads(c, 1), GALANN_OK);
    assert_int_equal(galann_context_threads(c), 1);
    expect_status(galann_context_set_threads(c, 0), GALANN_ERR_INVALID);
    assert_int_equal(galann_context_threads(c), 1);
    galann_context_free(c);
}

static void describe_rejects_null_and_truncates_to_the_buffer(void **state)
{
    (void)state;
    galann_context *c = reference_context();
    char text[256];
    expect_status(galann_context_describe(NULL, text, sizeof text), GALANN_ERR_INVALID);
    expect_status(galann_context_describe(c, NULL, 10), GALANN_ERR_INVALID);
    expect_status(galann_context_describe(c, text, 0), GALANN_ERR_INVALID);

    expect_status(galann_context_describe(c, text, sizeof text), GALANN_OK);
    assert_non_null(strstr(text, "reference"));
    char small[4];
    memset(small, 'X', sizeof small);
    expect_status(galann_context_describe(c, small, sizeof small), GALANN_OK);
    assert_int_equal(strlen(small), 3);
    assert_memory_equal(small, text, 3);
    galann_context_free(c);
}

static void backend_devices_rejects_null_and_lists_the_host(void **state)
{
    (void)state;
    char text[512];
    expect_status(galann_backend_devices(NULL, text, sizeof text), GALANN_ERR_INVALID);
    expect_status(galann_backend_devices("reference", NULL, sizeof text), GALANN_ERR_INVALID);
    expect_status(galann_backend_devices("reference", text, 0), GALANN_ERR_INVALID);
    expect_status(galann_backend_devices("no-such-backend", text, sizeof text), GALANN_ERR_INVALID);
    expect_status(galann_backend_devices("reference", text, sizeof text), GALANN_OK);
    assert_true(strncmp(text, "0:", 2) == 0);
}

static void galann_backend_env_picks_the_backend_when_name_is_null(void **state)
{
    (void)state;
    saved_env saved = save_env("GALANN_BACKEND");
    for (size_t b = 0; b < usable_backend_count(); b++) {
        const char *name = usable_backend(b);
        setenv("GALANN_BACKEND", name, 1);
        galann_context *c = NULL;
        expect_status(galann_context_new(NULL, &c), GALANN_OK);
        assert_string_equal(galann_context_backend(c), name);
        galann_context_free(c);
        expect_status(galann_context_new_ex(NULL, NULL, &c), GALANN_OK);
        assert_string_equal(galann_context_backend(c), name);
        galann_context_free(c);
    }
    /* an explicit name wins over the environment */
    if (blas_usable()) {
        setenv("GALANN_BACKEND", "blas", 1);
        galann_context *c = NULL;
        expect_status(galann_context_new("reference", &c), GALANN_OK);
        assert_string_equal(galann_context_backend(c), "reference");
        galann_context_free(c);
    }
    /* an unknown name in the environment is an error, not a silent default */
    setenv("GALANN_BACKEND", "no-such-backend", 1);
    galann_context *c = NOT_SET;
    expect_status(galann_context_new(NULL, &c), GALANN_ERR_INVALID);
    assert_null(c);
    expect_message("no-such-backend");
    /* empty means unset: the best available */
    setenv("GALANN_BACKEND", "", 1);
    expect_status(galann_context_new(NULL, &c), GALANN_OK);
    assert_int_equal(galann_backend_available(galann_context_backend(c)), GALANN_OK);
    galann_context_free(c);
    restore_env(&saved);
}

static void galann_threads_env_sets_the_blas_default(void **state)
{
    (void)state;
    if (!blas_usable()) {
        skip_test("the blas backend is not usable here");
    }
    saved_env saved = save_env("GALANN_THREADS");
    setenv("GALANN_THREADS", "3", 1);
    galann_context *c = NULL;
    expect_status(galann_context_new("blas", &c), GALANN_OK);
    assert_int_equal(galann_context_threads(c), 3);
    galann_context_free(c);

    /* an explicit count wins */
    galann_context_options opts;
    galann_context_options_init(&opts);
    opts.threads = 2;
    expect_status(galann_context_new_ex("blas", &opts, &c), GALANN_OK);
    assert_int_equal(galann_context_threads(c), 2);
    galann_context_free(c);

    setenv("GALANN_THREADS", "1", 1);
    expect_status(galann_context_new("blas", &c), GALANN_OK);
    assert_int_equal(galann_context_threads(c), 1);
    galann_context_free(c);

    static const char *bad[] = { "0", "-2", "abc", "3x", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("GALANN_THREADS", bad[i], 1);
        c = NOT_SET;
        expect_status(galann_context_new("blas", &c), GALANN_ERR_INVALID);
        assert_null(c);
        expect_message("GALANN_THREADS");
    }
    restore_env(&saved);
}

/* ------------------------------------------------------------- datasets */

static void dataset_new_rejects_bad_arguments(void **state)
{
    (void)state;
    double x[SAMPLES * 2];
    int32_t y[SAMPLES];
    for (size_t i = 0; i < SAMPLES; i++) {
        x[2 * i] = 0.1 * (double)i;
        x[2 * i + 1] = 1.0;
        y[i] = (int32_t)(i % 3);
    }
    galann_dataset *d = NOT_SET;
    expect_status(galann_dataset_new(NULL, y, SAMPLES, 2, 3, &d), GALANN_ERR_INVALID);
    assert_null(d);
    d = NOT_SET;
    expect_status(galann_dataset_new(x, NULL, SAMPLES, 2, 3, &d), GALANN_ERR_INVALID);
    assert_null(d);
    expect_status(galann_dataset_new(x, y, SAMPLES, 2, 3, NULL), GALANN_ERR_INVALID);
    /* 0 samples is an empty share (for a data-parallel context) */
    d = NULL;
    expect_status(galann_dataset_new(NULL, NULL, 0, 2, 3, &d), GALANN_OK);
    assert_int_equal(galann_dataset_n_samples(d), 0);
    assert_int_equal(galann_dataset_n_features(d), 2);
    galann_dataset_free(d);
    d = NOT_SET;
    expect_status(galann_dataset_new(x, y, SAMPLES, 0, 3, &d), GALANN_ERR_INVALID);
    assert_null(d);
    d = NOT_SET;
    expect_status(galann_dataset_new(x, y, SAMPLES, 2, 0, &d), GALANN_ERR_INVALID);
    assert_null(d);

    /* labels must lie in [0, n_labels) */
    y[4] = 3;
    d = NOT_SET;
    expect_status(galann_dataset_new(x, y, SAMPLES, 2, 3, &d), GALANN_ERR_INVALID);
    assert_null(d);
    expect_message("label 3", "sample 4");
    y[4] = -1;
    d = NOT_SET;
    expect_status(galann_dataset_new(x, y, SAMPLES, 2, 3, &d), GALANN_ERR_INVALID);
    assert_null(d);
    expect_message("-1");
    y[4] = 1;

    /* non-finite features */
    static const double bad[] = { NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < 3; i++) {
        x[7] = bad[i];
        d = NOT_SET;
        expect_status(galann_dataset_new(x, y, SAMPLES, 2, 3, &d), GALANN_ERR_NONFINITE);
        assert_null(d);
        expect_message("sample 3");
    }
    x[7] = 1.0;
    expect_status(galann_dataset_new(x, y, SAMPLES, 2, 3, &d), GALANN_OK);
    galann_dataset_free(d);
}

static void dataset_accessors_return_a_private_copy(void **state)
{
    (void)state;
    double x[6] = { 0.5, -1.0, 2.0, 3.25, 1e-3, 7.0 };
    int32_t y[3] = { 1, 0, 3 };
    galann_dataset *d = NULL;
    expect_status(galann_dataset_new(x, y, 3, 2, 5, &d), GALANN_OK);
    assert_int_equal(galann_dataset_n_samples(d), 3);
    assert_int_equal(galann_dataset_n_features(d), 2);
    assert_int_equal(galann_dataset_n_labels(d), 5);
    const double *dx = galann_dataset_features(d);
    const int32_t *dy = galann_dataset_labels(d);
    assert_ptr_not_equal(dx, x);
    assert_ptr_not_equal(dy, y);
    /* the caller's arrays may change afterwards */
    double x_copy[6];
    memcpy(x_copy, x, sizeof x);
    x[0] = 99.0;
    y[0] = 4;
    assert_memory_equal(dx, x_copy, sizeof x_copy);
    assert_int_equal(dy[0], 1);
    assert_int_equal(dy[2], 3);

    assert_int_equal(galann_dataset_n_samples(NULL), 0);
    assert_int_equal(galann_dataset_n_features(NULL), 0);
    assert_int_equal(galann_dataset_n_labels(NULL), 0);
    assert_null(galann_dataset_features(NULL));
    assert_null(galann_dataset_labels(NULL));
    galann_dataset_free(d);
    galann_dataset_free(NULL);
}

/* --------------------------------------------------------------- models */

static void model_new_needs_two_layers_of_positive_size(void **state)
{
    (void)state;
    galann_model *m = NOT_SET;
    expect_status(galann_model_new(net_653, 1, &m), GALANN_ERR_INVALID);
    assert_null(m);
    m = NOT_SET;
    expect_status(galann_model_new(net_653, 0, &m), GALANN_ERR_INVALID);
    assert_null(m);
    m = NOT_SET;
    expect_status(galann_model_new(NULL, 3, &m), GALANN_ERR_INVALID);
    assert_null(m);
    expect_status(galann_model_new(net_653, 3, NULL), GALANN_ERR_INVALID);

    static const size_t zero_first[] = { 0, 5, 3 }, zero_hidden[] = { 6, 0, 3 }, zero_last[] = { 6, 5, 0 };
    const size_t *zeros[] = { zero_first, zero_hidden, zero_last };
    for (size_t i = 0; i < 3; i++) {
        m = NOT_SET;
        expect_status(galann_model_new(zeros[i], 3, &m), GALANN_ERR_INVALID);
        assert_null(m);
    }
    /* a parameter count that overflows size_t is refused, not wrapped */
    static const size_t huge[] = { SIZE_MAX / 2, 4 };
    m = NOT_SET;
    expect_status(galann_model_new(huge, 2, &m), GALANN_ERR_NOMEM);
    assert_null(m);
}

static void model_accessors_report_layers_and_params(void **state)
{
    (void)state;
    galann_model *m = NULL;
    expect_status(galann_model_new(net_653, 3, &m), GALANN_OK);
    assert_int_equal(galann_model_n_params(m), NET_653_PARAMS);
    assert_int_equal(galann_model_n_layers(m), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(galann_model_layer_size(m, i), net_653[i]);
    assert_int_equal(galann_model_layer_size(m, 3), 0);
    assert_int_equal(galann_model_layer_size(m, SIZE_MAX), 0);
    assert_int_equal(galann_model_layer_size(NULL, 0), 0);
    assert_int_equal(galann_model_n_params(NULL), 0);
    assert_int_equal(galann_model_n_layers(NULL), 0);
    /* a new model's weights are all zero */
    double theta[NET_653_PARAMS];
    memset(theta, 0xff, sizeof theta);
    expect_status(galann_model_get_params(m, theta, NET_653_PARAMS), GALANN_OK);
    for (size_t i = 0; i < NET_653_PARAMS; i++)
        assert_true(theta[i] == 0.0);
    galann_model_free(m);
    galann_model_free(NULL);
}

static void set_params_of_wrong_length_is_a_dimension_error(void **state)
{
    (void)state;
    galann_model *m = model_653();
    double theta[NET_653_PARAMS + 1] = { 0 };
    expect_status(galann_model_set_params(m, theta, NET_653_PARAMS - 1), GALANN_ERR_DIMENSION);
    expect_message("52", "53");
    expect_status(galann_model_set_params(m, theta, NET_653_PARAMS + 1), GALANN_ERR_DIMENSION);
    expect_message("54", "53");
    expect_status(galann_model_set_params(m, theta, 0), GALANN_ERR_DIMENSION);
    expect_status(galann_model_get_params(m, theta, NET_653_PARAMS - 1), GALANN_ERR_DIMENSION);
    expect_status(galann_model_get_params(m, theta, NET_653_PARAMS + 1), GALANN_ERR_DIMENSION);
    expect_status(galann_model_set_params(m, NULL, NET_653_PARAMS), GALANN_ERR_INVALID);
    expect_status(galann_model_get_params(m, NULL, NET_653_PARAMS), GALANN_ERR_INVALID);
    expect_status(galann_model_set_params(NULL, theta, NET_653_PARAMS), GALANN_ERR_INVALID);
    expect_status(galann_model_get_params(NULL, theta, NET_653_PARAMS), GALANN_ERR_INVALID);
    galann_model_free(m);
}

static void set_params_rejects_non_finite_and_keeps_the_old_weights(void **state)
{
    (void)state;
    galann_model *m = model_653();
    double before[NET_653_PARAMS], theta[NET_653_PARAMS], after[NET_653_PARAMS];
    expect_status(galann_model_get_params(m, before, NET_653_PARAMS), GALANN_OK);
    static const double bad[] = { NAN, INFINITY, -INFINITY };
    for (size_t b = 0; b < 3; b++) {
        for (size_t i = 0; i < NET_653_PARAMS; i++)
            theta[i] = 0.01 * (double)i;
        theta[17] = bad[b];
        expect_status(galann_model_set_params(m, theta, NET_653_PARAMS), GALANN_ERR_NONFINITE);
        expect_message("17");
        expect_status(galann_model_get_params(m, after, NET_653_PARAMS), GALANN_OK);
        assert_memory_equal(after, before, sizeof before);
    }
    /* the largest finite values are accepted */
    for (size_t i = 0; i < NET_653_PARAMS; i++)
        theta[i] = (i % 2) ? 1.7976931348623157e308 : -1.7976931348623157e308;
    expect_status(galann_model_set_params(m, theta, NET_653_PARAMS), GALANN_OK);
    expect_status(galann_model_get_params(m, after, NET_653_PARAMS), GALANN_OK);
    assert_memory_equal(after, theta, sizeof theta);
    galann_model_free(m);
}

static void init_random_is_deterministic_and_rejects_null(void **state)
{
    (void)state;
    expect_status(galann_model_init_random(NULL, 1), GALANN_ERR_INVALID);
    galann_model *a = model_653(), *b = model_653();
    double ta[NET_653_PARAMS], tb[NET_653_PARAMS];
    expect_status(galann_model_get_params(a, ta, NET_653_PARAMS), GALANN_OK);
    expect_status(galann_model_get_params(b, tb, NET_653_PARAMS), GALANN_OK);
    assert_memory_equal(ta, tb, sizeof ta);
    for (size_t i = 0; i < NET_653_PARAMS; i++)
        assert_true(ta[i] >= -0.2 && ta[i] < 0.2);
    expect_status(galann_model_init_random(b, 8), GALANN_OK);
    expect_status(galann_model_get_params(b, tb, NET_653_PARAMS), GALANN_OK);
    assert_true(memcmp(ta, tb, sizeof ta) != 0);
    galann_model_free(a);
    galann_model_free(b);
}

static void model_copy_is_equal_and_independent(void **state)
{
    (void)state;
    galann_model *m = model_653(), *copy = NOT_SET;
    expect_status(galann_model_copy(m, &copy), GALANN_OK);
    assert_non_null(copy);
    assert_ptr_not_equal(copy, m);
    assert_int_equal(galann_model_n_layers(copy), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(galann_model_layer_size(copy, i), net_653[i]);
    double tm[NET_653_PARAMS], tc[NET_653_PARAMS];
    expect_status(galann_model_get_params(m, tm, NET_653_PARAMS), GALANN_OK);
    expect_status(galann_model_get_params(copy, tc, NET_653_PARAMS), GALANN_OK);
    assert_memory_equal(tm, tc, sizeof tm);

    /* changing the copy leaves the original alone */
    for (size_t i = 0; i < NET_653_PARAMS; i++)
        tc[i] = 1.0 + (double)i;
    expect_status(galann_model_set_params(copy, tc, NET_653_PARAMS), GALANN_OK);
    double again[NET_653_PARAMS];
    expect_status(galann_model_get_params(m, again, NET_653_PARAMS), GALANN_OK);
    assert_memory_equal(again, tm, sizeof tm);
    galann_model_free(copy);

    copy = NOT_SET;
    expect_status(galann_model_copy(NULL, &copy), GALANN_ERR_INVALID);
    assert_null(copy);
    expect_status(galann_model_copy(m, NULL), GALANN_ERR_INVALID);
    galann_model_free(m);
}

/* ------------------------------------------------------------ computing */

typedef struct fixture {
    galann_context *c;
    galann_model *m;
    galann_dataset *d;
} fixture;

static fixture make_fixture(void)
{
    fixture f = { reference_context(), model_653(), random_dataset(SAMPLES, 6, 3, 5) };
    assert_non_null(f.d);
    return f;
}

static void free_fixture(fixture *f)
{
    galann_model_free(f->m);
    galann_dataset_free(f->d);
    galann_context_free(f->c);
}

static void compute_functions_reject_null_handles_and_outputs(void **state)
{
    (void)state;
    fixture f = make_fixture();
    double cost, grad[NET_653_PARAMS], proba[SAMPLES * 3], accuracy, err;
    int32_t labels[SAMPLES];
    size_t n = NET_653_PARAMS;

    expect_status(galann_cost(NULL, f.m, f.d, 1.0, &cost), GALANN_ERR_INVALID);
    expect_status(galann_cost(f.c, NULL, f.d, 1.0, &cost), GALANN_ERR_INVALID);
    expect_status(galann_cost(f.c, f.m, NULL, 1.0, &cost), GALANN_ERR_INVALID);
    expect_status(galann_cost(f.c, f.m, f.d, 1.0, NULL), GALANN_ERR_INVALID);

    expect_status(galann_gradient(NULL, f.m, f.d, 1.0, grad, n), GALANN_ERR_INVALID);
    expect_status(galann_gradient(f.c, NULL, f.d, 1.0, grad, n), GALANN_ERR_INVALID);
    expect_status(galann_gradient(f.c, f.m, NULL, 1.0, grad, n), GALANN_ERR_INVALID);
    expect_status(galann_gradient(f.c, f.m, f.d, 1.0, NULL, n), GALANN_ERR_INVALID);

    expect_status(galann_cost_gradient(NULL, f.m, f.d, 1.0, &cost, grad, n), GALANN_ERR_INVALID);
    expect_status(galann_cost_gradient(f.c, NULL, f.d, 1.0, &cost, grad, n), GALANN_ERR_INVALID);
    expect_status(galann_cost_gradient(f.c, f.m, NULL, 1.0, &cost, grad, n), GALANN_ERR_INVALID);
    expect_status(galann_cost_gradient(f.c, f.m, f.d, 1.0, NULL, grad, n), GALANN_ERR_INVALID);
    expect_status(galann_cost_gradient(f.c, f.m, f.d, 1.0, &cost, NULL, n), GALANN_ERR_INVALID);

    expect_status(galann_predict(NULL, f.m, f.d, labels, SAMPLES), GALANN_ERR_INVALID);
    expect_status(galann_predict(f.c, NULL, f.d, labels, SAMPLES), GALANN_ERR_INVALID);
    expect_status(galann_predict(f.c, f.m, NULL, labels, SAMPLES), GALANN_ERR_INVALID);
    expect_status(galann_predict(f.c, f.m, f.d, NULL, SAMPLES), GALANN_ERR_INVALID);

    expect_status(galann_predict_proba(NULL, f.m, f.d, proba, SAMPLES * 3), GALANN_ERR_INVALID);
    expect_status(galann_predict_proba(f.c, NULL, f.d, proba, SAMPLES * 3), GALANN_ERR_INVALID);
    expect_status(galann_predict_proba(f.c, f.m, NULL, proba, SAMPLES * 3), GALANN_ERR_INVALID);
    expect_status(galann_predict_proba(f.c, f.m, f.d, NULL, SAMPLES * 3), GALANN_ERR_INVALID);

    expect_status(galann_accuracy(NULL, f.m, f.d, &accuracy), GALANN_ERR_INVALID);
    expect_status(galann_accuracy(f.c, NULL, f.d, &accuracy), GALANN_ERR_INVALID);
    expect_status(galann_accuracy(f.c, f.m, NULL, &accuracy), GALANN_ERR_INVALID);
    expect_status(galann_accuracy(f.c, f.m, f.d, NULL), GALANN_ERR_INVALID);

    expect_status(galann_check_gradient(NULL, f.m, f.d, 1.0, 0.0, 5, &err), GALANN_ERR_INVALID);
    expect_status(galann_check_gradient(f.c, NULL, f.d, 1.0, 0.0, 5, &err), GALANN_ERR_INVALID);
    expect_status(galann_check_gradient(f.c, f.m, NULL, 1.0, 0.0, 5, &err), GALANN_ERR_INVALID);
    expect_status(galann_check_gradient(f.c, f.m, f.d, 1.0, 0.0, 5, NULL), GALANN_ERR_INVALID);

    /* and the same calls with everything right succeed */
    expect_status(galann_cost(f.c, f.m, f.d, 1.0, &cost), GALANN_OK);
    expect_status(galann_cost_gradient(f.c, f.m, f.d, 1.0, &cost, grad, n), GALANN_OK);
    expect_status(galann_predict(f.c, f.m, f.d, labels, SAMPLES), GALANN_OK);
    expect_status(galann_predict_proba(f.c, f.m, f.d, proba, SAMPLES * 3), GALANN_OK);
    expect_status(galann_accuracy(f.c, f.m, f.d, &accuracy), GALANN_OK);
    expect_status(galann_check_gradient(f.c, f.m, f.d, 1.0, 0.0, 5, &err), GALANN_OK);
    free_fixture(&f);
}

static void model_inputs_unlike_dataset_features_is_a_dimension_error(void **state)
{
    (void)state;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = NULL;
        expect_status(galann_context_new(usable_backend(b), &c), GALANN_OK);
        galann_dataset *d = random_dataset(SAMPLES, 7, 3, 5); /* 7 features, model takes 6 */
        galann_model *m = model_653();
        double cost, grad[NET_653_PARAMS], proba[SAMPLES * 3], accuracy, err;
        int32_t labels[SAMPLES];

        expect_status(galann_cost(c, m, d, 1.0, &cost), GALANN_ERR_DIMENSION);
        expect_message("6 inputs", "7 features");
        expect_status(galann_gradient(c, m, d, 1.0, grad, NET_653_PARAMS), GALANN_ERR_DIMENSION);
        expect_message("6 inputs", "7 features");
        expect_status(galann_cost_gradient(c, m, d, 1.0, &cost, grad, NET_653_PARAMS), GALANN_ERR_DIMENSION);
        expect_message("6 inputs", "7 features");
        expect_status(galann_predict(c, m, d, labels, SAMPLES), GALANN_ERR_DIMENSION);
        expect_message("6 inputs", "7 features");
        expect_status(galann_predict_proba(c, m, d, proba, SAMPLES * 3), GALANN_ERR_DIMENSION);
        expect_message("6 inputs", "7 features");
        expect_status(galann_accuracy(c, m, d, &accuracy), GALANN_ERR_DIMENSION);
        expect_message("6 inputs", "7 features");
        expect_status(galann_check_gradient(c, m, d, 1.0, 0.0, 3, &err), GALANN_ERR_DIMENSION);
        expect_message("6 inputs", "7 features");
        galann_dataset_free(d);

        /* outputs unlike the labels: 4 labels, 3 outputs */
        d = random_dataset(SAMPLES, 6, 4, 5);
        expect_status(galann_cost(c, m, d, 1.0, &cost), GALANN_ERR_DIMENSION);
        expect_message("3 outputs", "4 labels");
        expect_status(galann_cost_gradient(c, m, d, 1.0, &cost, grad, NET_653_PARAMS), GALANN_ERR_DIMENSION);
        expect_message("3 outputs", "4 labels");
        expect_status(galann_predict(c, m, d, labels, SAMPLES), GALANN_ERR_DIMENSION);
        expect_status(galann_accuracy(c, m, d, &accuracy), GALANN_ERR_DIMENSION);
        galann_dataset_free(d);
        galann_model_free(m);
        galann_context_free(c);
    }
}

static void gradient_buffer_of_wrong_length_is_a_dimension_error(void **state)
{
    (void)state;
    fixture f = make_fixture();
    double cost, grad[NET_653_PARAMS + 1];
    expect_status(galann_gradient(f.c, f.m, f.d, 1.0, grad, NET_653_PARAMS - 1), GALANN_ERR_DIMENSION);
    expect_message("52", "53");
    expect_status(galann_gradient(f.c, f.m, f.d, 1.0, grad, NET_653_PARAMS + 1), GALANN_ERR_DIMENSION);
    expect_status(galann_gradient(f.c, f.m, f.d, 1.0, grad, 0), GALANN_ERR_DIMENSION);
    expect_status(galann_cost_gradient(f.c, f.m, f.d, 1.0, &cost, grad, NET_653_PARAMS - 1), GALANN_ERR_DIMENSION);
    expect_message("52", "53");
    expect_status(galann_cost_gradient(f.c, f.m, f.d, 1.0, &cost, grad, NET_653_PARAMS + 1), GALANN_ERR_DIMENSION);
    free_fixture(&f);
}

static void prediction_buffer_of_wrong_length_is_a_dimension_error(void **state)
{
    (void)state;
    fixture f = make_fixture();
    int32_t labels[SAMPLES * 3];
    double proba[SAMPLES * 3 + 1];
    expect_status(galann_predict(f.c, f.m, f.d, labels, SAMPLES - 1), GALANN_ERR_DIMENSION);
    expect_message("9", "10");
    expect_status(galann_predict(f.c, f.m, f.d, labels, SAMPLES + 1), GALANN_ERR_DIMENSION);
    expect_status(galann_predict(f.c, f.m, f.d, labels, SAMPLES * 3), GALANN_ERR_DIMENSION);
    /* probabilities need n_samples * n_labels values */
    expect_status(galann_predict_proba(f.c, f.m, f.d, proba, SAMPLES), GALANN_ERR_DIMENSION);
    expect_message("10", "30");
    expect_status(galann_predict_proba(f.c, f.m, f.d, proba, SAMPLES * 3 - 1), GALANN_ERR_DIMENSION);
    expect_status(galann_predict_proba(f.c, f.m, f.d, proba, SAMPLES * 3 + 1), GALANN_ERR_DIMENSION);
    free_fixture(&f);
}

static void negative_or_non_finite_lambda_is_invalid(void **state)
{
    (void)state;
    fixture f = make_fixture();
    double cost, grad[NET_653_PARAMS], err;
    static const double bad[] = { -1.0, -1e-300, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_status(galann_cost(f.c, f.m, f.d, bad[i], &cost), GALANN_ERR_INVALID);
        expect_message("lambda");
        expect_status(galann_gradient(f.c, f.m, f.d, bad[i], grad, NET_653_PARAMS), GALANN_ERR_INVALID);
        expect_status(galann_cost_gradient(f.c, f.m, f.d, bad[i], &cost, grad, NET_653_PARAMS), GALANN_ERR_INVALID);
        expect_status(galann_check_gradient(f.c, f.m, f.d, bad[i], 0.0, 3, &err), GALANN_ERR_INVALID);
    }
    /* zero is a valid lambda (no regularisation): cost with -0.0 equals 0.0 */
    double c0, cm0;
    expect_status(galann_cost(f.c, f.m, f.d, 0.0, &c0), GALANN_OK);
    expect_status(galann_cost(f.c, f.m, f.d, -0.0, &cm0), GALANN_OK);
    assert_true(c0 == cm0);
    free_fixture(&f);
}

static void check_gradient_rejects_a_bad_step(void **state)
{
    (void)state;
    fixture f = make_fixture();
    double err = -1.0;
    static const double bad[] = { -1e-5, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_status(galann_check_gradient(f.c, f.m, f.d, 1.0, bad[i], 3, &err), GALANN_ERR_INVALID);
    expect_status(galann_check_gradient(f.c, f.m, f.d, 1.0, 1e-6, 3, &err), GALANN_OK);
    assert_true(err >= 0.0 && err < 1e-6);
    free_fixture(&f);
}

/* Weights so large that an output's z overflows: the cost is infinite,
 * and the call says so rather than returning it. */
static void overflowing_cost_is_a_nonfinite_error(void **state)
{
    (void)state;
    static const size_t sizes[] = { 3, 2 };
    double x[4 * 3];
    int32_t y[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < 12; i++)
        x[i] = 1.0;
    galann_dataset *d = NULL;
    expect_status(galann_dataset_new(x, y, 4, 3, 2, &d), GALANN_OK);
    galann_model *m = NULL;
    expect_status(galann_model_new(sizes, 2, &m), GALANN_OK);
    double theta[8];
    for (size_t i = 0; i < 8; i++)
        theta[i] = 1e308; /* z = 4e308 = inf; label 0 so output 1 costs softplus(inf) */
    expect_status(galann_model_set_params(m, theta, 8), GALANN_OK);
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = NULL;
        expect_status(galann_context_new(usable_backend(b), &c), GALANN_OK);
        double cost = 0.0, grad[8];
        expect_status(galann_cost(c, m, d, 0.0, &cost), GALANN_ERR_NONFINITE);
        expect_message("not finite");
        expect_status(galann_cost_gradient(c, m, d, 0.0, &cost, grad, 8), GALANN_ERR_NONFINITE);
        galann_context_free(c);
    }
    galann_model_free(m);
    galann_dataset_free(d);
}

/* ------------------------------------- model files, synthesis, training */

static int never_called(void *user, const double *x, size_t n, double *f, double *g)
{
    (void)user;
    (void)x;
    (void)n;
    (void)g;
    *f = 0.0;
    return GALANN_OK;
}

static void file_and_training_functions_reject_null_arguments(void **state)
{
    (void)state;
    galann_model *m = model_653(), *loaded = NOT_SET;
    void *buf = NOT_SET;
    size_t size = 0;

    /* model files and buffers */
    expect_status(galann_model_save(NULL, "/tmp/x.galann"), GALANN_ERR_INVALID);
    expect_status(galann_model_save(m, NULL), GALANN_ERR_INVALID);
    expect_status(galann_model_load(NULL, &loaded), GALANN_ERR_INVALID);
    assert_null(loaded);
    expect_status(galann_model_load("/tmp/x.galann", NULL), GALANN_ERR_INVALID);
    loaded = NOT_SET;
    expect_status(galann_model_load("/nonexistent-dir/model.galann", &loaded), GALANN_ERR_IO);
    assert_null(loaded);
    expect_status(galann_model_save_buffer(NULL, &buf, &size), GALANN_ERR_INVALID);
    expect_status(galann_model_save_buffer(m, NULL, &size), GALANN_ERR_INVALID);
    expect_status(galann_model_save_buffer(m, &buf, NULL), GALANN_ERR_INVALID);
    loaded = NOT_SET;
    expect_status(galann_model_load_buffer(NULL, 16, &loaded), GALANN_ERR_INVALID);
    assert_null(loaded);
    static const char garbage[64] = "not a model at all";
    loaded = NOT_SET;
    expect_status(galann_model_load_buffer(garbage, sizeof garbage, &loaded), GALANN_ERR_FORMAT);
    assert_null(loaded);
    expect_status(galann_model_load_buffer(garbage, sizeof garbage, NULL), GALANN_ERR_INVALID);
    galann_free(NULL);

    /* the input divisor: kept by copies, only finite non-zero values */
    assert_true(galann_model_input_divisor(m) == 255.0);
    expect_status(galann_model_set_input_divisor(NULL, 2.0), GALANN_ERR_INVALID);
    static const double bad_divisors[] = { 0.0, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < 4; i++) {
        expect_status(galann_model_set_input_divisor(m, bad_divisors[i]), GALANN_ERR_INVALID);
        assert_true(galann_model_input_divisor(m) == 255.0);
    }
    expect_status(galann_model_set_input_divisor(m, 2.0), GALANN_OK);
    galann_model *copy = NULL;
    expect_status(galann_model_copy(m, &copy), GALANN_OK);
    assert_true(galann_model_input_divisor(copy) == 2.0);
    galann_model_free(copy);

    /* synthetic data and CSV output */
    galann_dataset *d = NOT_SET;
    expect_status(galann_dataset_synthesize(0, 1, &d), GALANN_ERR_INVALID);
    assert_null(d);
    expect_status(galann_dataset_synthesize(3, 1, NULL), GALANN_ERR_INVALID);
    d = random_dataset(SAMPLES, 6, 3, 5);
    expect_status(galann_dataset_save_csv(NULL, "/tmp/x.csv", 255.0), GALANN_ERR_INVALID);
    expect_status(galann_dataset_save_csv(d, NULL, 255.0), GALANN_ERR_INVALID);
    expect_status(galann_dataset_save_csv(d, "/tmp/x.csv", NAN), GALANN_ERR_INVALID);

    /* training and the minimizer */
    galann_context *c = reference_context();
    expect_status(galann_fit(NULL, m, d, NULL, NULL), GALANN_ERR_INVALID);
    expect_status(galann_fit(c, NULL, d, NULL, NULL), GALANN_ERR_INVALID);
    expect_status(galann_fit(c, m, NULL, NULL, NULL), GALANN_ERR_INVALID);
    double x[2] = { 1.0, 2.0 };
    expect_status(galann_minimize_cg(NULL, NULL, x, 2, NULL, NULL), GALANN_ERR_INVALID);
    expect_status(galann_minimize_cg(never_called, NULL, NULL, 2, NULL, NULL), GALANN_ERR_INVALID);
    galann_context_free(c);
    galann_dataset_free(d);
    galann_model_free(m);
}

static void free_functions_accept_null(void **state)
{
    (void)state;
    galann_context_free(NULL);
    galann_dataset_free(NULL);
    galann_model_free(NULL);
    galann_free(NULL);
    /* reaching here is the test; a call after them still works */
    assert_string_equal(galann_strerror(GALANN_OK), "success");
}

/* A program built against an older, shorter options struct passes its own
 * size: the library must write no byte past it. */
static void options_init_writes_no_further_than_the_callers_struct(void **state)
{
    (void)state;
    union {
        galann_fit_options fit;
        galann_cg_options cg;
        galann_context_options context;
        unsigned char bytes[256];
    } buffer;
    const size_t small = 2 * sizeof(size_t);
    for (int which = 0; which < 3; which++) {
        memset(buffer.bytes, 0xAA, sizeof buffer.bytes);
        if (which == 0)
            galann_fit_options_init_size(&buffer.fit, small);
        else if (which == 1)
            galann_cg_options_init_size(&buffer.cg, small);
        else
            galann_context_options_init_size(&buffer.context, small);
        assert_int_equal(buffer.fit.struct_size, small);
        for (size_t i = small; i < sizeof buffer.bytes; i++) {
            if (buffer.bytes[i] != 0xAA) {
                print_error("init %d wrote byte %zu of a %zu-byte struct\n", which, i, small);
                fail();
            }
        }
    }
    /* the full-size macro still fills every default */
    galann_fit_options o;
    galann_fit_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.max_iterations, 600);
}

/* Every backend counts and times its evaluations. */
static void profile_counts_every_evaluation(void **state)
{
    (void)state;
    galann_dataset *d = random_dataset(50, 6, 3, 5);
    static const size_t sizes[] = { 6, 4, 3 };
    galann_model *m = NULL;
    assert_int_equal(galann_model_new(sizes, 3, &m), GALANN_OK);
    assert_int_equal(galann_model_init_random(m, 1), GALANN_OK);
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = NULL;
        assert_int_equal(galann_context_new(usable_backend(b), &c), GALANN_OK);
        galann_profile p;
        memset(&p, 0, sizeof p);
        expect_status(galann_context_profile(c, &p), GALANN_ERR_INVALID); /* struct_size 0 */
        galann_profile_init(&p);
        assert_int_equal(p.struct_size, sizeof p);
        expect_status(galann_context_profile(c, &p), GALANN_OK);
        assert_int_equal(p.evaluations, 0);
        double cost, accuracy;
        expect_status(galann_cost(c, m, d, 1.0, &cost), GALANN_OK);
        expect_status(galann_accuracy(c, m, d, &accuracy), GALANN_OK);
        expect_status(galann_context_profile(c, &p), GALANN_OK);
        assert_int_equal(p.evaluations, 2);
        assert_true(p.seconds > 0.0);
        expect_status(galann_context_profile(c, NULL), GALANN_ERR_INVALID);
        galann_context_free(c);
    }
    galann_model_free(m);
    galann_dataset_free(d);
}

/* Outputs that are NaN have no class: predictions and accuracy refuse
 * them instead of answering class 0 (reference backend: its sums run in
 * order, so 1e308 * 10 overflows to +inf before -inf is added). */
static void nan_outputs_are_a_nonfinite_error_not_a_class(void **state)
{
    (void)state;
    const double x[2] = { 10.0, 10.0 };
    const int32_t y[1] = { 1 };
    galann_dataset *d = NULL;
    assert_int_equal(galann_dataset_new(x, y, 1, 2, 2, &d), GALANN_OK);
    static const size_t sizes[] = { 2, 2 };
    galann_model *m = NULL;
    assert_int_equal(galann_model_new(sizes, 2, &m), GALANN_OK);
    const double theta[6] = { 0.0, 1e308, -1e308, 0.0, 1e308, -1e308 };
    assert_int_equal(galann_model_set_params(m, theta, 6), GALANN_OK);
    galann_context *c = NULL;
    assert_int_equal(galann_context_new("reference", &c), GALANN_OK);
    int32_t label = -1;
    double proba[2], accuracy = -1.0;
    expect_status(galann_predict(c, m, d, &label, 1), GALANN_ERR_NONFINITE);
    assert_non_null(strstr(galann_last_error(), "NaN"));
    expect_status(galann_predict_proba(c, m, d, proba, 2), GALANN_ERR_NONFINITE);
    expect_status(galann_accuracy(c, m, d, &accuracy), GALANN_ERR_NONFINITE);
    assert_true(accuracy == -1.0);
    galann_context_free(c);
    galann_model_free(m);
    galann_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_macros_equal_the_loaded_library),
        cmocka_unit_test(strerror_gives_fixed_text_for_every_status),
        cmocka_unit_test(last_error_is_kept_per_thread),
        cmocka_unit_test(backend_list_holds_reference_and_ends_with_null),
        cmocka_unit_test(unknown_backend_names_are_invalid),
        cmocka_unit_test(known_backend_not_built_in_is_unavailable),
        cmocka_unit_test(context_new_rejects_null_out),
        cmocka_unit_test(context_options_with_bad_struct_size_are_rejected),
        cmocka_unit_test(context_options_from_an_older_caller_are_accepted),
        cmocka_unit_test(context_accessors_report_backend_and_threads),
        cmocka_unit_test(set_threads_below_one_is_invalid),
        cmocka_unit_test(set_threads_above_one_on_reference_is_invalid),
        cmocka_unit_test(blas_set_threads_changes_the_count),
        cmocka_unit_test(describe_rejects_null_and_truncates_to_the_buffer),
        cmocka_unit_test(backend_devices_rejects_null_and_lists_the_host),
        cmocka_unit_test(galann_backend_env_picks_the_backend_when_name_is_null),
        cmocka_unit_test(galann_threads_env_sets_the_blas_default),
        cmocka_unit_test(dataset_new_rejects_bad_arguments),
        cmocka_unit_test(dataset_accessors_return_a_private_copy),
        cmocka_unit_test(model_new_needs_two_layers_of_positive_size),
        cmocka_unit_test(model_accessors_report_layers_and_params),
        cmocka_unit_test(set_params_of_wrong_length_is_a_dimension_error),
        cmocka_unit_test(set_params_rejects_non_finite_and_keeps_the_old_weights),
        cmocka_unit_test(init_random_is_deterministic_and_rejects_null),
        cmocka_unit_test(model_copy_is_equal_and_independent),
        cmocka_unit_test(compute_functions_reject_null_handles_and_outputs),
        cmocka_unit_test(model_inputs_unlike_dataset_features_is_a_dimension_error),
        cmocka_unit_test(gradient_buffer_of_wrong_length_is_a_dimension_error),
        cmocka_unit_test(prediction_buffer_of_wrong_length_is_a_dimension_error),
        cmocka_unit_test(negative_or_non_finite_lambda_is_invalid),
        cmocka_unit_test(check_gradient_rejects_a_bad_step),
        cmocka_unit_test(overflowing_cost_is_a_nonfinite_error),
        cmocka_unit_test(file_and_training_functions_reject_null_arguments),
        cmocka_unit_test(free_functions_accept_null),
        cmocka_unit_test(options_init_writes_no_further_than_the_callers_struct),
        cmocka_unit_test(profile_counts_every_evaluation),
        cmocka_unit_test(nan_outputs_are_a_nonfinite_error_not_a_class),
    };
    /* A build with every known backend has no "not built in" case to
     * check: the test is left out, not skipped. */
    struct CMUnitTest run[sizeof tests / sizeof tests[0]];
    size_t count = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (tests[i].test_func == known_backend_not_built_in_is_unavailable && known_backends_not_built_in() == 0)
            continue;
        run[count++] = tests[i];
    }
    if (count < sizeof tests / sizeof tests[0])
        print_message("not applicable: every known backend is built in, no \"not built in\" case to check\n");
    return tests_exit_status(_cmocka_run_group_tests("tests", run, count, NULL, NULL));
}
