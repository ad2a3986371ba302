/*
 * test-precision.c -- GALANN_PRECISION_SINGLE on the blas backend: the
 * cost within 1e-5 relative and the gradient within 1e-4 of its largest
 * component of double's, at the galaxy start weights and after 50
 * iterations (the weights of a double fit); the same bits for any thread
 * count; the precision asked for, chosen and refused (reference is double
 * only; "any" on a CPU is double; GALANN_PRECISION from the environment).
 *
 * Not here: opencl's single precision (test-opencl.c).
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

static galann_context *context_with(const char *backend, int precision, int threads, int expected_status)
{
    galann_context_options o;
    galann_context_options_init(&o);
    o.precision = precision;
    o.threads = threads;
    galann_context *c = NULL;
    expect_status(galann_context_new_ex(backend, &o, &c), expected_status);
    return c;
}

static int blas_usable(void)
{
    if (galann_backend_available("blas") == GALANN_OK)
        return 1;
    skip_test("the blas backend is not usable here");
    return 0;
}

static double gradient_difference(const double *single, const double *dbl, size_t n)
{
    double worst = 0.0, largest = 0.0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(single[i] - dbl[i]));
        largest = fmax(largest, fabs(dbl[i]));
    }
    return worst / largest;
}

/* single vs double at m's weights on d: relative cost and gradient gaps */
static void compare_at(const galann_model *m, const galann_dataset *d, double *cost_gap, double *gradient_gap)
{
    galann_context *dbl = context_with("blas", GALANN_PRECISION_DOUBLE, 2, GALANN_OK);
    galann_context *sgl = context_with("blas", GALANN_PRECISION_SINGLE, 2, GALANN_OK);
    size_t p = galann_model_n_params(m);
    double *g64 = malloc(p * sizeof *g64), *g32 = malloc(p * sizeof *g32), j64, j32;
    assert_non_null(g64);
    assert_non_null(g32);
    expect_status(galann_cost_gradient(dbl, m, d, 1.0, &j64, g64, p), GALANN_OK);
    expect_status(galann_cost_gradient(sgl, m, d, 1.0, &j32, g32, p), GALANN_OK);
    *cost_gap = fabs(j32 - j64) / fabs(j64);
    *gradient_gap = gradient_difference(g32, g64, p);
    free(g64);
    free(g32);
    galann_context_free(dbl);
    galann_context_free(sgl);
}

static void single_is_within_1e5_of_double_in_cost_and_1e4_in_gradient(void **state)
{
    (void)state;
    if (!blas_usable())
        return;
    const galann_dataset *train = galaxy_train();
    galann_dataset *synthetic = NULL;
    if (!train) {
        expect_status(galann_dataset_synthesize(2700, 1, &synthetic), GALANN_OK);
        train = synthetic;
        print_message("no galaxy data: the synthetic set instead\n");
    }
    static const size_t sizes[] = { 1024, 8, 3 };
    galann_model *m = NULL;
    expect_status(galann_model_new(sizes, 3, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, 917), GALANN_OK);
    double cost_gap, gradient_gap;
    compare_at(m, train, &cost_gap, &gradient_gap);
    print_message("theta0: cost %.2e, gradient %.2e (relative)\n", cost_gap, gradient_gap);
    assert_true(cost_gap <= 1e-5);
    assert_true(gradient_gap <= 1e-4);

    galann_context *dbl = context_with("blas", GALANN_PRECISION_DOUBLE, 2, GALANN_OK);
    galann_fit_options o;
    galann_fit_options_init(&o);
    o.max_iterations = 50;
    expect_status(galann_fit(dbl, m, train, &o, NULL), GALANN_OK);
    galann_context_free(dbl);
    compare_at(m, train, &cost_gap, &gradient_gap);
    print_message("theta50: cost %.2e, gradient %.2e (relative)\n", cost_gap, gradient_gap);
    assert_true(cost_gap <= 1e-5);
    assert_true(gradient_gap <= 1e-4);
    galann_model_free(m);
    galann_dataset_free(synthetic);
}

static void single_gives_the_same_bits_for_any_thread_count(void **state)
{
    (void)state;
    if (!blas_usable())
        return;
    galann_dataset *d = NULL;
    expect_status(galann_dataset_synthesize(1500, 4, &d), GALANN_OK);
    static const size_t sizes[] = { 1024, 8, 3 };
    galann_model *m = NULL;
    expect_status(galann_model_new(sizes, 3, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, 3), GALANN_OK);
    size_t p = galann_model_n_params(m);
    double *first = malloc(p * sizeof *first), *g = malloc(p * sizeof *g), j_first = 0.0, j;
    assert_non_null(first);
    assert_non_null(g);
    const int threads[] = { 1, 2, 3, 5 };
    for (size_t t = 0; t < 4; t++) {
        galann_context *c = context_with("blas", GALANN_PRECISION_SINGLE, threads[t], GALANN_OK);
        assert_int_equal(galann_context_precision(c), GALANN_PRECISION_SINGLE);
        expect_status(galann_cost_gradient(c, m, d, 1.0, t ? &j : &j_first, t ? g : first, p), GALANN_OK);
        if (t) {
            assert_true(j == j_first);
            assert_memory_equal(g, first, p * sizeof *g);
        }
        galann_context_free(c);
    }
    free(first);
    free(g);
    galann_model_free(m);
    galann_dataset_free(d);
}

/* Single precision's first layer reads u8 bytes and f32 values where the
 * dataset keeps them (narrow layers on AVX-512) and f64 values through a
 * float copy; on nets with odd widths and every size of row group: f32
 * storage gives f64 storage's bits (the same floats reach the same
 * products), u8 and f32 are within the single-precision bounds of double,
 * and 1 and 3 threads give the same bits over several chunks. */
static void single_reads_every_storage_alike_on_odd_shapes(void **state)
{
    (void)state;
    if (!blas_usable())
        return;
    static const size_t shapes[][4] = { { 37, 16, 9, 3 }, { 1, 2, 3, 0 } };
    for (size_t t = 0; t < 2; t++) {
        size_t n_layers = shapes[t][3] ? 4 : 3, n = shapes[t][0], m = 1601;
        uint8_t *pixels = malloc(m * n);
        float *floats = malloc(m * n * sizeof *floats);
        double *doubles = malloc(m * n * sizeof *doubles);
        int32_t *labels = malloc(m * sizeof *labels);
        assert_non_null(pixels);
        assert_non_null(floats);
        assert_non_null(doubles);
        assert_non_null(labels);
        uint32_t seed = 99u;
        for (size_t i = 0; i < m * n; i++) {
            seed = seed * 1664525u + 1013904223u;
            pixels[i] = (uint8_t)(seed >> 24);
            floats[i] = (float)pixels[i] / 255.0f;
            doubles[i] = (double)floats[i];
        }
        for (size_t i = 0; i < m; i++)
            labels[i] = (int32_t)(i % 3);
        galann_dataset *u8 = NULL, *f32 = NULL, *f64 = NULL;
        expect_status(galann_dataset_new_u8(pixels, labels, m, n, 3, 255.0, &u8), GALANN_OK);
        expect_status(galann_dataset_new_f32(floats, labels, m, n, 3, &f32), GALANN_OK);
        expect_status(galann_dataset_new(doubles, labels, m, n, 3, &f64), GALANN_OK);
        galann_model *model = NULL;
        expect_status(galann_model_new(shapes[t], n_layers, &model), GALANN_OK);
        expect_status(galann_model_init_random(model, 5), GALANN_OK);
        size_t p = galann_model_n_params(model);
        double *a = malloc(p * sizeof *a), *b = malloc(p * sizeof *b), ja, jb;
        assert_non_null(a);
        assert_non_null(b);
        galann_context *one = context_with("blas", GALANN_PRECISION_SINGLE, 1, GALANN_OK);
        galann_context *three = context_with("blas", GALANN_PRECISION_SINGLE, 3, GALANN_OK);
        expect_status(galann_cost_gradient(one, model, f32, 1.0, &ja, a, p), GALANN_OK);
        expect_status(galann_cost_gradient(three, model, f64, 1.0, &jb, b, p), GALANN_OK);
        assert_true(ja == jb);
        assert_memory_equal(a, b, p * sizeof *a);
        galann_dataset *both[] = { u8, f32 };
        for (int k = 0; k < 2; k++) {
            expect_status(galann_cost_gradient(one, model, both[k], 1.0, &ja, a, p), GALANN_OK);
            expect_status(galann_cost_gradient(three, model, both[k], 1.0, &jb, b, p), GALANN_OK);
            assert_true(ja == jb);
            assert_memory_equal(a, b, p * sizeof *a);
            double cost_gap, gradient_gap;
            compare_at(model, both[k], &cost_gap, &gradient_gap);
            print_message("net %zu, %s: single vs double cost %.3g, gradient %.3g\n", t, k ? "f32" : "u8", cost_gap,
                          gradient_gap);
            assert_true(cost_gap <= 1e-5);
            assert_true(gradient_gap <= 1e-4);
        }
        galann_context_free(one);
        galann_context_free(three);
        free(a);
        free(b);
        galann_model_free(model);
        galann_dataset_free(u8);
        galann_dataset_free(f32);
        galann_dataset_free(f64);
        free(pixels);
        free(floats);
        free(doubles);
        free(labels);
    }
}

static void precision_is_chosen_refused_and_read_from_the_environment(void **state)
{
    (void)state;
    galann_context *c = context_with("reference", GALANN_PRECISION_SINGLE, 0, GALANN_ERR_UNAVAILABLE);
    assert_null(c);
    assert_non_null(strstr(galann_last_error(), "computes in double precision only"));
    c = context_with("reference", GALANN_PRECISION_ANY, 0, GALANN_OK);
    assert_int_equal(galann_context_precision(c), GALANN_PRECISION_DOUBLE);
    galann_context_free(c);
    c = context_with("reference", 9, 0, GALANN_ERR_INVALID);
    assert_non_null(strstr(galann_last_error(), "precision 9 is not a galann_precision"));
    assert_int_equal(galann_context_precision(NULL), 0);

    galann_context_options o;
    galann_context_options_init(&o);
    assert_int_equal(o.precision, GALANN_PRECISION_DEFAULT);
    if (galann_backend_available("blas") == GALANN_OK) {
        c = context_with("blas", GALANN_PRECISION_ANY, 1, GALANN_OK);
        assert_int_equal(galann_context_precision(c), GALANN_PRECISION_DOUBLE); /* a CPU has double */
        galann_context_free(c);
        setenv("GALANN_PRECISION", "single", 1);
        c = context_with("blas", GALANN_PRECISION_DEFAULT, 1, GALANN_OK);
        assert_int_equal(galann_context_precision(c), GALANN_PRECISION_SINGLE);
        galann_context_free(c);
        c = context_with("blas", GALANN_PRECISION_DOUBLE, 1, GALANN_OK); /* the caller's choice wins */
        assert_int_equal(galann_context_precision(c), GALANN_PRECISION_DOUBLE);
        galann_context_free(c);
    }
    setenv("GALANN_PRECISION", "half", 1);
    c = context_with("reference", GALANN_PRECISION_DEFAULT, 0, GALANN_ERR_INVALID);
    assert_non_null(strstr(galann_last_error(), "GALANN_PRECISION=\"half\" is not double, single or any"));
    unsetenv("GALANN_PRECISION");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_is_within_1e5_of_double_in_cost_and_1e4_in_gradient),
        cmocka_unit_test(single_gives_the_same_bits_for_any_thread_count),
        cmocka_unit_test(single_reads_every_storage_alike_on_odd_shapes),
        cmocka_unit_test(precision_is_chosen_refused_and_read_from_the_environment),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, teardown_galaxy_data));
}
