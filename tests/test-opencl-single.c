/*
 * test-opencl-single.c -- GALANN_PRECISION_SINGLE on the opencl backend:
 * the cost within 1e-5 relative and the gradient within 1e-4 of its
 * largest component of double's, at the galaxy start weights and after 50
 * iterations (the weights of a double fit), on the galaxy data when it is
 * there and on synthetic galaxies always; with the sums in double (a
 * device with fp64) and in compensated float (a device without: forced
 * with the testing knob GALANN_OPENCL_HIDE_FP64=1, which also proves that
 * those kernels build without any double). The same bits on every run, for
 * every storage of the same numbers and for a dataset in parts; the
 * precision asked for, chosen ("any": double where the device has fp64)
 * and refused (double without fp64).
 *
 * Every test skips with a message when this machine has no usable OpenCL
 * device. Not here: blas's single precision (test-precision.c).
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

#define HIDE_FP64 "GALANN_OPENCL_HIDE_FP64"

static const size_t galaxy_sizes[] = { 1024, 8, 3 };

static void skip_without_opencl(void)
{
    if (galann_backend_available("opencl") != GALANN_OK)
        skip_without_opencl_device("the opencl backend is not usable here: %s", galann_last_error());
}

/* An opencl context of the precision asked for; without_fp64: as on a
 * device without double precision. NULL when the status is not GALANN_OK. */
static galann_context *context_with(int precision, int without_fp64, int expected_status)
{
    galann_context_options o;
    galann_context_options_init(&o);
    o.precision = precision;
    if (without_fp64)
        setenv(HIDE_FP64, "1", 1);
    galann_context *c = NULL;
    int status = galann_context_new_ex("opencl", &o, &c);
    unsetenv(HIDE_FP64);
    expect_status(status, expected_status);
    return c;
}

static void expect_description(galann_context *c, const char *piece)
{
    char text[512];
    expect_status(galann_context_describe(c, text, sizeof text), GALANN_OK);
    if (!strstr(text, piece)) {
        print_error("\"%s\" does not say \"%s\"\n", text, piece);
        fail();
    }
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

/* single (on sgl) against double (on dbl) at m's weights on d. */
static void expect_close_to_double(galann_context *dbl, galann_context *sgl, const galann_model *m,
                                   const galann_dataset *d, const char *what)
{
    size_t p = galann_model_n_params(m);
    double *g64 = test_malloc(p * sizeof *g64), *g32 = test_malloc(p * sizeof *g32), j64, j32;
    expect_status(galann_cost_gradient(dbl, m, d, 1.0, &j64, g64, p), GALANN_OK);
    expect_status(galann_cost_gradient(sgl, m, d, 1.0, &j32, g32, p), GALANN_OK);
    double cost_gap = fabs(j32 - j64) / fabs(j64), gradient_gap = gradient_difference(g32, g64, p);
    print_message("%s: cost %.17g vs %.17g (%.2e relative), gradient %.2e of its largest component\n", what, j32, j64,
                  cost_gap, gradient_gap);
    if (!(cost_gap <= 1e-5) || !(gradient_gap <= 1e-4)) {
        print_error("%s: single is %.3g (cost, relative) and %.3g (gradient) from double; at most 1e-5 and 1e-4\n",
                    what, cost_gap, gradient_gap);
        fail();
    }
    test_free(g64);
    test_free(g32);
}

/* At the start weights (seed 917) and after 50 iterations of a double
 * fit, for both kinds of single precision. */
static void check_accuracy_on(const galann_dataset *d, const char *name)
{
    galann_context *dbl = context_with(GALANN_PRECISION_DOUBLE, 0, GALANN_OK);
    galann_context *sgl = context_with(GALANN_PRECISION_SINGLE, 0, GALANN_OK);
    galann_context *sgl_float = context_with(GALANN_PRECISION_SINGLE, 1, GALANN_OK);
    expect_description(sgl, "single precision (double sums)");
    expect_description(sgl_float, "single precision (float sums)");
    galann_model *m = NULL;
    expect_status(galann_model_new(galaxy_sizes, 3, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, 917), GALANN_OK);
    char what[128];
    snprintf(what, sizeof what, "%s, theta0, double sums", name);
    expect_close_to_double(dbl, sgl, m, d, what);
    snprintf(what, sizeof what, "%s, theta0, float sums", name);
    expect_close_to_double(dbl, sgl_float, m, d, what);

    galann_fit_options o;
    galann_fit_options_init(&o);
    o.max_iterations = 50;
    expect_status(galann_fit(dbl, m, d, &o, NULL), GALANN_OK);
    snprintf(what, sizeof what, "%s, theta50, double sums", name);
    expect_close_to_double(dbl, sgl, m, d, what);
    snprintf(what, sizeof what, "%s, theta50, float sums", name);
    expect_close_to_double(dbl, sgl_float, m, d, what);
    galann_model_free(m);
    galann_context_free(dbl);
    galann_context_free(sgl);
    galann_context_free(sgl_float);
}

/* -------------------------------------------------------------- tests */

static void single_is_close_to_double_on_the_galaxy_data(void **state)
{
    (void)state;
    skip_without_opencl();
    const galann_dataset *train = galaxy_train();
    if (!train) {
        skip_without_data("the galaxy data is not under %s/data/galaxy", shared_root());
    }
    check_accuracy_on(train, "galaxy train.csv");
}

static void single_is_close_to_double_on_synthetic_galaxies(void **state)
{
    (void)state;
    skip_without_opencl();
    galann_dataset *d = NULL;
    expect_status(galann_dataset_synthesize(2700, 1, &d), GALANN_OK);
    check_accuracy_on(d, "synthetic 2700");
    galann_dataset_free(d);
}

/* Same bits: twice on one context, on a second context, for u8, f32 (of
 * the same floats) and f64 data, and for the dataset cut into parts;
 * with double sums and with float sums. */
static void single_gives_the_same_bits_every_time(void **state)
{
    (void)state;
    skip_without_opencl();
    galann_dataset *u8 = NULL, *f64 = NULL, *f32 = NULL;
    expect_status(galann_dataset_synthesize(1500, 4, &u8), GALANN_OK);
    size_t m = galann_dataset_n_samples(u8), n = galann_dataset_n_features(u8);
    const double *x = galann_dataset_features(u8);
    float *floats = malloc(m * n * sizeof *floats);
    assert_non_null(floats);
    for (size_t i = 0; i < m * n; i++)
        floats[i] = (float)x[i];
    expect_status(galann_dataset_new(x, galann_dataset_labels(u8), m, n, 3, &f64), GALANN_OK);
    expect_status(galann_dataset_new_f32(floats, galann_dataset_labels(u8), m, n, 3, &f32), GALANN_OK);
    free(floats);
    galann_model *model = NULL;
    expect_status(galann_model_new(galaxy_sizes, 3, &model), GALANN_OK);
    expect_status(galann_model_init_random(model, 3), GALANN_OK);
    size_t p = galann_model_n_params(model);
    double *first = test_malloc(p * sizeof *first), *g = test_malloc(p * sizeof *g);

    for (int without_fp64 = 0; without_fp64 < 2; without_fp64++) {
        galann_context *a = context_with(GALANN_PRECISION_SINGLE, without_fp64, GALANN_OK);
        galann_context *b = context_with(GALANN_PRECISION_SINGLE, without_fp64, GALANN_OK);
        /* parts of 3 chunks of 128 u8 samples, partial sums in batches */
        setenv("GALANN_OPENCL_MAX_BUFFER_BYTES", "400000", 1);
        galann_context *cut = context_with(GALANN_PRECISION_SINGLE, without_fp64, GALANN_OK);
        unsetenv("GALANN_OPENCL_MAX_BUFFER_BYTES");
        double j_first, j;
        expect_status(galann_cost_gradient(a, model, u8, 1.0, &j_first, first, p), GALANN_OK);
        struct {
            galann_context *c;
            const galann_dataset *d;
            const char *what;
        } runs[] = {
            { a, u8, "u8 again" }, { b, u8, "u8 on a second context" }, { a, f64, "f64" }, { a, f32, "f32" },
            { cut, u8, "u8 in parts" },
        };
        for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
            expect_status(galann_cost_gradient(runs[r].c, model, runs[r].d, 1.0, &j, g, p), GALANN_OK);
            if (memcmp(&j, &j_first, sizeof j) != 0 || memcmp(g, first, p * sizeof *g) != 0) {
                print_error("%s sums, %s: cost %.17g (first %.17g), or the gradient, differs\n",
                            without_fp64 ? "float" : "double", runs[r].what, j, j_first);
                fail();
            }
        }
        galann_context_free(a);
        galann_context_free(b);
        galann_context_free(cut);
    }
    test_free(first);
    test_free(g);
    galann_model_free(model);
    galann_dataset_free(u8);
    galann_dataset_free(f64);
    galann_dataset_free(f32);
}

/* single and "any" take any device; "any" is double where the device has
 * fp64, single without; double without fp64 is unavailable. */
static void precision_is_chosen_and_refused_by_the_device(void **state)
{
    (void)state;
    skip_without_opencl();
    char devices[4096];
    expect_status(galann_backend_devices("opencl", devices, sizeof devices), GALANN_OK);
    int has_fp64 = strstr(devices, ", fp64)") != NULL;

    galann_context *c = context_with(GALANN_PRECISION_SINGLE, 0, GALANN_OK);
    assert_int_equal(galann_context_precision(c), GALANN_PRECISION_SINGLE);
    galann_context_free(c);
    c = context_with(GALANN_PRECISION_DOUBLE, 0, GALANN_OK);
    assert_int_equal(galann_context_precision(c), GALANN_PRECISION_DOUBLE);
    galann_context_free(c);
    c = context_with(GALANN_PRECISION_ANY, 0, GALANN_OK);
    assert_int_equal(galann_context_precision(c), has_fp64 ? GALANN_PRECISION_DOUBLE : GALANN_PRECISION_SINGLE);
    galann_context_free(c);

    /* as on a device without fp64 */
    c = context_with(GALANN_PRECISION_DOUBLE, 1, GALANN_ERR_UNAVAILABLE);
    assert_null(c);
    if (!strstr(galann_last_error(), "double precision (cl_khr_fp64)") ||
        !strstr(galann_last_error(), "single precision runs without it")) {
        print_error("message \"%s\"\n", galann_last_error());
        fail();
    }
    c = context_with(GALANN_PRECISION_ANY, 1, GALANN_OK);
    assert_int_equal(galann_context_precision(c), GALANN_PRECISION_SINGLE);
    expect_description(c, "single precision (float sums)");
    galann_context_free(c);
    setenv(HIDE_FP64, "1", 1);
    expect_status(galann_backend_devices("opencl", devices, sizeof devices), GALANN_OK);
    unsetenv(HIDE_FP64);
    assert_null(strstr(devices, ", fp64)"));
    assert_non_null(strstr(devices, ", no fp64)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_is_close_to_double_on_the_galaxy_data),
        cmocka_unit_test(single_is_close_to_double_on_synthetic_galaxies),
        cmocka_unit_test(single_gives_the_same_bits_every_time),
        cmocka_unit_test(precision_is_chosen_and_refused_by_the_device),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, teardown_galaxy_data));
}
