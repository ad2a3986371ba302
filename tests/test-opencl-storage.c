/*
 * test-opencl-storage.c -- the opencl backend keeps datasets on the device
 * in their storage type (u8 bytes, f32, f64) and reads them there: a u8
 * dataset gives exactly the bits of the f64 dataset of the same numbers
 * (any divisor), an f32 dataset those of the f64 dataset of its widened
 * values, through both forward kernels (forward_layer for many samples,
 * forward_tiled for few) and deeper layers; and a dataset larger than one
 * device buffer is cut into parts of whole chunks (forced here with the
 * testing knob GALANN_OPENCL_MAX_BUFFER_BYTES), with the bits of one
 * buffer, however parts, slices and batches of partial sums fall; a chunk
 * that fits no buffer is refused with the sizes.
 *
 * Every test skips with a message when this machine has no usable OpenCL
 * device. Not here: single precision (test-opencl-single.c), the rest of
 * the backend (test-opencl.c).
 */
#include <math.h>
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

#define KNOB "GALANN_OPENCL_MAX_BUFFER_BYTES"

/* Samples per chunk of the opencl sums for the sizes used here (below
 * 128 x 256 samples: MIN_CHUNK in opencl.c). */
#define CHUNK 128

static void skip_without_opencl(void)
{
    if (galann_backend_available("opencl") != GALANN_OK)
        skip_without_opencl_device("the opencl backend is not usable here: %s", galann_last_error());
}

/* An opencl context without the kernel cache's files mattering; with the
 * buffer knob set to max_buffer when not 0. */
static galann_context *opencl_context(size_t max_buffer)
{
    galann_context_options o;
    galann_context_options_init(&o);
    o.precision = GALANN_PRECISION_DOUBLE;
    char value[32];
    snprintf(value, sizeof value, "%zu", max_buffer);
    if (max_buffer)
        setenv(KNOB, value, 1);
    galann_context *c = NULL;
    int status = galann_context_new_ex("opencl", &o, &c);
    unsetenv(KNOB);
    expect_status(status, GALANN_OK);
    return c;
}

static galann_model *random_model(const size_t *sizes, size_t n_layers, uint32_t seed)
{
    galann_model *m = NULL;
    expect_status(galann_model_new(sizes, n_layers, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, seed), GALANN_OK);
    return m;
}

/* A u8 dataset of random bytes (some 0 and 255) and its f64 twin. */
static void random_u8_pair(size_t m, size_t n, size_t k, double divisor, uint32_t seed, galann_dataset **u8,
                           galann_dataset **f64)
{
    uint8_t *pixels = malloc(m * n);
    int32_t *labels = malloc(m * sizeof *labels);
    assert_non_null(pixels);
    assert_non_null(labels);
    uint64_t s = seed * 6364136223846793005ull + 1;
    for (size_t i = 0; i < m * n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        pixels[i] = (uint8_t)(s >> 56);
    }
    pixels[0] = 0;
    pixels[1] = 255;
    for (size_t i = 0; i < m; i++)
        labels[i] = (int32_t)((i * 7 + seed) % k);
    expect_status(galann_dataset_new_u8(pixels, labels, m, n, k, divisor, u8), GALANN_OK);
    expect_status(galann_dataset_new(galann_dataset_features(*u8), labels, m, n, k, f64), GALANN_OK);
    free(pixels);
    free(labels);
}

/* An f32 dataset of d's values rounded to float, and the f64 dataset of
 * those floats. */
static void f32_pair(const galann_dataset *d, galann_dataset **f32, galann_dataset **widened)
{
    size_t m = galann_dataset_n_samples(d), n = galann_dataset_n_features(d), k = galann_dataset_n_labels(d);
    const double *x = galann_dataset_features(d);
    float *floats = malloc(m * n * sizeof *floats);
    double *back = malloc(m * n * sizeof *back);
    assert_non_null(floats);
    assert_non_null(back);
    for (size_t i = 0; i < m * n; i++) {
        floats[i] = (float)x[i];
        back[i] = (double)floats[i];
    }
    expect_status(galann_dataset_new_f32(floats, galann_dataset_labels(d), m, n, k, f32), GALANN_OK);
    expect_status(galann_dataset_new(back, galann_dataset_labels(d), m, n, k, widened), GALANN_OK);
    free(floats);
    free(back);
}

/* Everything one context computes for a model on a dataset. */
typedef struct results {
    double cost, accuracy;
    double *grad, *proba;
    size_t n_params, n_outputs;
} results;

static void compute(galann_context *c, const galann_model *m, const galann_dataset *d, results *r)
{
    r->n_params = galann_model_n_params(m);
    r->n_outputs = galann_dataset_n_samples(d) * galann_dataset_n_labels(d);
    r->grad = test_malloc(r->n_params * sizeof *r->grad);
    r->proba = test_malloc(r->n_outputs * sizeof *r->proba);
    expect_status(galann_cost_gradient(c, m, d, 1.0, &r->cost, r->grad, r->n_params), GALANN_OK);
    expect_status(galann_predict_proba(c, m, d, r->proba, r->n_outputs), GALANN_OK);
    expect_status(galann_accuracy(c, m, d, &r->accuracy), GALANN_OK);
}

static void free_results(results *r)
{
    test_free(r->grad);
    test_free(r->proba);
}

/* Bit-for-bit equality of two arrays, with the first difference printed. */
static void expect_same_bits(const double *a, const double *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            print_error("%s: element %zu of %zu is %.17g, expected %.17g\n", what, i, n, a[i], b[i]);
            fail();
        }
    }
}

static void expect_same_results(const results *got, const results *want, const char *what)
{
    char label[160];
    snprintf(label, sizeof label, "%s: cost", what);
    expect_same_bits(&got->cost, &want->cost, 1, label);
    snprintf(label, sizeof label, "%s: gradient", what);
    expect_same_bits(got->grad, want->grad, got->n_params, label);
    snprintf(label, sizeof label, "%s: outputs", what);
    expect_same_bits(got->proba, want->proba, got->n_outputs, label);
    snprintf(label, sizeof label, "%s: accuracy", what);
    expect_same_bits(&got->accuracy, &want->accuracy, 1, label);
}

/* On one context: u8 gives the bits of its f64 twin, f32 those of the
 * f64 dataset of its floats. */
static void check_storages_on(galann_context *c, const galann_model *model, const galann_dataset *u8,
                              const galann_dataset *f64, const char *what)
{
    galann_dataset *f32 = NULL, *widened = NULL;
    f32_pair(f64, &f32, &widened);
    assert_int_equal(galann_dataset_storage(u8), GALANN_STORAGE_U8);
    assert_int_equal(galann_dataset_storage(f32), GALANN_STORAGE_F32);
    results r64, r8, r32, rw;
    compute(c, model, f64, &r64);
    compute(c, model, u8, &r8);
    compute(c, model, f32, &r32);
    compute(c, model, widened, &rw);
    char label[160];
    snprintf(label, sizeof label, "%s: u8 vs f64", what);
    expect_same_results(&r8, &r64, label);
    snprintf(label, sizeof label, "%s: f32 vs f64 of the floats", what);
    expect_same_results(&r32, &rw, label);
    free_results(&r64);
    free_results(&r8);
    free_results(&r32);
    free_results(&rw);
    galann_dataset_free(f32);
    galann_dataset_free(widened);
}

/* -------------------------------------------------------------- tests */

/* The synthetic galaxies (u8, divisor 255) on the galaxy network: 300
 * samples run forward_tiled, 2000 forward_layer (on a device with few
 * compute units); a deeper network runs layer 2 on from the main program. */
static void u8_and_f32_on_the_device_give_the_bits_of_f64(void **state)
{
    (void)state;
    skip_without_opencl();
    static const size_t galaxy[] = { 1024, 8, 3 }, deeper[] = { 1024, 12, 9, 3 };
    static const size_t counts[] = { 300, 2000 };
    galann_context *c = opencl_context(0);
    for (size_t i = 0; i < 2; i++) {
        galann_dataset *u8 = NULL, *f64 = NULL;
        expect_status(galann_dataset_synthesize(counts[i], (uint32_t)(5 + i), &u8), GALANN_OK);
        size_t m = galann_dataset_n_samples(u8), n = galann_dataset_n_features(u8);
        expect_status(galann_dataset_new(galann_dataset_features(u8), galann_dataset_labels(u8), m, n, 3, &f64),
                      GALANN_OK);
        galann_model *model = random_model(galaxy, 3, 917);
        char what[64];
        snprintf(what, sizeof what, "1024-8-3, %zu samples", m);
        check_storages_on(c, model, u8, f64, what);
        galann_model_free(model);
        model = random_model(deeper, 4, 918);
        snprintf(what, sizeof what, "1024-12-9-3, %zu samples", m);
        check_storages_on(c, model, u8, f64, what);
        galann_model_free(model);
        galann_dataset_free(u8);
        galann_dataset_free(f64);
    }
    galann_context_free(c);
}

/* Bytes of any value and divisors other than 255: the device reads the
 * dataset's own table of p / divisor, so the bits are still f64's. */
static void u8_with_any_divisor_gives_the_bits_of_f64(void **state)
{
    (void)state;
    skip_without_opencl();
    static const double divisors[] = { 255.0, 7.0, 0.3, 1e-3 };
    static const size_t sizes[] = { 33, 10, 4 };
    galann_context *c = opencl_context(0);
    galann_model *model = random_model(sizes, 3, 71);
    for (size_t i = 0; i < sizeof divisors / sizeof divisors[0]; i++) {
        galann_dataset *u8 = NULL, *f64 = NULL;
        random_u8_pair(517, 33, 4, divisors[i], (uint32_t)(72 + i), &u8, &f64);
        char what[64];
        snprintf(what, sizeof what, "divisor %g", divisors[i]);
        check_storages_on(c, model, u8, f64, what);
        galann_dataset_free(u8);
        galann_dataset_free(f64);
    }
    galann_model_free(model);
    galann_context_free(c);
}

/* Cut into parts of 2 chunks (the knob at 2.4 chunks of X): every
 * storage gives the bits of one buffer. With u8 the knob is small enough
 * to cut the activations into slices and the partial sums into batches
 * too, each across the others' boundaries. */
static void a_dataset_in_parts_gives_the_bits_of_one_buffer(void **state)
{
    (void)state;
    skip_without_opencl();
    static const size_t sizes[] = { 200, 10, 4 };
    galann_dataset *u8 = NULL, *f64 = NULL, *f32 = NULL, *widened = NULL;
    random_u8_pair(1501, 200, 4, 255.0, 81, &u8, &f64);  /* 12 chunks, the last ragged */
    f32_pair(f64, &f32, &widened);
    galann_model *model = random_model(sizes, 3, 82);
    const galann_dataset *sets[] = { u8, f32, f64 };
    static const size_t value_bytes[] = { 1, 4, 8 };
    static const char *const names[] = { "u8", "f32", "f64" };
    galann_context *whole = opencl_context(0);
    for (size_t i = 0; i < 3; i++) {
        results want, got;
        compute(whole, model, sets[i], &want);
        /* u8: parts of 2 chunks (61440 / 200 = 307 samples), slices of 4
         * (61440 / (14 units x 8) = 548 samples), batches of 3 chunks
         * (61440 / (2056 sums x 8)) */
        size_t chunk_bytes = CHUNK * 200 * value_bytes[i];
        galann_context *cut = opencl_context(chunk_bytes * 12 / 5);
        compute(cut, model, sets[i], &got);
        char what[64];
        snprintf(what, sizeof what, "%s in parts vs one buffer", names[i]);
        expect_same_results(&got, &want, what);
        free_results(&got);
        /* and again on the same context: the parts stay on the device */
        compute(cut, model, sets[i], &got);
        expect_same_results(&got, &want, what);
        free_results(&got);
        free_results(&want);
        galann_context_free(cut);
    }
    galann_context_free(whole);
    galann_model_free(model);
    galann_dataset_free(u8);
    galann_dataset_free(f64);
    galann_dataset_free(f32);
    galann_dataset_free(widened);
}

/* f64: a part per chunk (the knob just above one chunk of X), slices of
 * one chunk, batches of 4; u8: one part, slices of 2, batches of 4. */
static void one_chunk_per_buffer_gives_the_bits_of_one_buffer(void **state)
{
    (void)state;
    skip_without_opencl();
    static const size_t sizes[] = { 60, 24, 4 };
    galann_dataset *u8 = NULL, *f64 = NULL;
    random_u8_pair(1000, 60, 4, 255.0, 91, &u8, &f64);  /* 8 chunks */
    galann_model *model = random_model(sizes, 3, 92);
    galann_context *whole = opencl_context(0);
    /* f64 X: 61440 bytes a chunk; activations 28 units x 8 = 224 bytes a
     * sample; partial sums (2 + 1564) x 8 = 12528 bytes a chunk */
    galann_context *cut = opencl_context(CHUNK * 60 * 8 + 100);
    results want, got;
    compute(whole, model, f64, &want);
    compute(cut, model, f64, &got);
    expect_same_results(&got, &want, "f64, a chunk per part");
    free_results(&got);
    compute(cut, model, u8, &got);
    expect_same_results(&got, &want, "u8, several chunks per part");
    free_results(&got);
    free_results(&want);
    galann_context_free(cut);
    galann_context_free(whole);
    galann_model_free(model);
    galann_dataset_free(u8);
    galann_dataset_free(f64);
}

static void a_chunk_larger_than_a_buffer_is_refused_with_the_sizes(void **state)
{
    (void)state;
    skip_without_opencl();
    galann_dataset *u8 = NULL, *f64 = NULL;
    random_u8_pair(300, 50, 3, 255.0, 101, &u8, &f64);
    static const size_t sizes[] = { 50, 5, 3 };
    galann_model *model = random_model(sizes, 3, 102);
    /* a u8 chunk (6400 bytes) fits, an f64 one (51200) does not */
    galann_context *c = opencl_context(20000);
    double cost;
    expect_status(galann_cost(c, model, u8, 1.0, &cost), GALANN_OK);
    expect_status(galann_cost(c, model, f64, 1.0, &cost), GALANN_ERR_NOMEM);
    if (!strstr(galann_last_error(), "a chunk of 128 samples of the dataset needs 51200 bytes") ||
        !strstr(galann_last_error(), "allows 20000 in one buffer")) {
        print_error("message \"%s\"\n", galann_last_error());
        fail();
    }
    galann_context_free(c);
    galann_model_free(model);
    galann_dataset_free(u8);
    galann_dataset_free(f64);
}

static void a_bad_buffer_knob_is_refused(void **state)
{
    (void)state;
    skip_without_opencl();
    static const char *const bad[] = { "lots", "-5", "0", "12k" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        galann_context_options o;
        galann_context_options_init(&o);
        galann_context *c = NULL;
        setenv(KNOB, bad[i], 1);
        int status = galann_context_new_ex("opencl", &o, &c);
        unsetenv(KNOB);
        expect_status(status, GALANN_ERR_INVALID);
        assert_null(c);
        if (!strstr(galann_last_error(), KNOB)) {
            print_error("message \"%s\" does not name the knob\n", galann_last_error());
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(u8_and_f32_on_the_device_give_the_bits_of_f64),
        cmocka_unit_test(u8_with_any_divisor_gives_the_bits_of_f64),
        cmocka_unit_test(a_dataset_in_parts_gives_the_bits_of_one_buffer),
        cmocka_unit_test(one_chunk_per_buffer_gives_the_bits_of_one_buffer),
        cmocka_unit_test(a_chunk_larger_than_a_buffer_is_refused_with_the_sizes),
        cmocka_unit_test(a_bad_buffer_knob_is_refused),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
