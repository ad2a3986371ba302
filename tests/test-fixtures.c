/*
 * test-fixtures.c -- every backend reproduces the reference numbers of the
 * original program (../shared/reference): initial weights bit for bit,
 * cost and gradient at theta0 and theta50 to 1e-12, predictions exactly.
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

static const size_t galaxy_layers[] = { 1024, 8, 3 };
#define GALAXY_PARAMS 8227
#define TOLERANCE 1e-12

static double *read_fixture_or_skip(const char *relative, size_t expected_count)
{
    char *path = shared_path(relative);
    if (!path) {
        skip_without_data("%s/%s not found (set GALANN_SHARED_DIR)", shared_root(), relative);
    }
    size_t count = 0;
    double *v = read_numbers(path, &count);
    free(path);
    assert_non_null(v);
    assert_int_equal(count, expected_count);
    return v;
}

static void require_galaxy_data(void)
{
    if (!galaxy_train() || !galaxy_test()) {
        skip_without_data("the galaxy data is not under %s/data/galaxy", shared_root());
    }
}

static galann_model *galaxy_model_with(const double *theta)
{
    galann_model *m = NULL;
    assert_int_equal(galann_model_new(galaxy_layers, 3, &m), GALANN_OK);
    assert_int_equal(galann_model_set_params(m, theta, GALAXY_PARAMS), GALANN_OK);
    return m;
}

static void init_random_917_equals_theta0_bit_for_bit(void **state)
{
    (void)state;
    double *theta0 = read_fixture_or_skip("reference/galaxy/theta0.txt", GALAXY_PARAMS);
    galann_model *m = NULL;
    assert_int_equal(galann_model_new(galaxy_layers, 3, &m), GALANN_OK);
    assert_int_equal(galann_model_init_random(m, 917), GALANN_OK);
    double theta[GALAXY_PARAMS];
    assert_int_equal(galann_model_get_params(m, theta, GALAXY_PARAMS), GALANN_OK);
    for (size_t i = 0; i < GALAXY_PARAMS; i++) {
        if (memcmp(&theta[i], &theta0[i], sizeof(double)) != 0) {
            print_error("parameter %zu: got %.17g, expected %.17g\n", i, theta[i], theta0[i]);
            fail();
        }
    }
    galann_model_free(m);
    free(theta0);
}

/* Cost and gradient on a dataset at theta, for every usable backend,
 * against the fixture values (grad may be NULL: then the reference
 * backend's gradient is the oracle). */
static void check_every_backend(const galann_dataset *d, const double *theta, double expected_cost,
                                const double *expected_grad)
{
    galann_model *m = galaxy_model_with(theta);
    double oracle[GALAXY_PARAMS];
    if (!expected_grad) {
        galann_context *ref = NULL;
        double cost;
        assert_int_equal(galann_context_new("reference", &ref), GALANN_OK);
        assert_int_equal(galann_cost_gradient(ref, m, d, 1.0, &cost, oracle, GALAXY_PARAMS), GALANN_OK);
        galann_context_free(ref);
        expected_grad = oracle;
    }
    for (size_t b = 0; b < usable_backend_count(); b++) {
        const char *name = usable_backend(b);
        galann_context *c = NULL;
        assert_int_equal(galann_context_new(name, &c), GALANN_OK);
        double cost = 0.0, grad[GALAXY_PARAMS];
        int status = galann_cost_gradient(c, m, d, 1.0, &cost, grad, GALAXY_PARAMS);
        if (status != GALANN_OK)
            print_error("%s: %s\n", name, galann_last_error());
        assert_int_equal(status, GALANN_OK);
        char what[64];
        snprintf(what, sizeof what, "%s cost", name);
        assert_relative(cost, expected_cost, TOLERANCE, what);
        double diff = relative_max_difference(grad, expected_grad, GALAXY_PARAMS);
        if (!(diff <= TOLERANCE)) {
            print_error("%s gradient: relative max-norm difference %.3g > %.3g\n", name, diff, TOLERANCE);
            fail();
        }
        /* cost alone and gradient alone give the same numbers */
        double cost_only = 0.0, grad_only[GALAXY_PARAMS];
        assert_int_equal(galann_cost(c, m, d, 1.0, &cost_only), GALANN_OK);
        assert_int_equal(galann_gradient(c, m, d, 1.0, grad_only, GALAXY_PARAMS), GALANN_OK);
        assert_relative(cost_only, cost, 1e-15, what);
        assert_true(relative_max_difference(grad_only, grad, GALAXY_PARAMS) <= 1e-15);
        galann_context_free(c);
    }
    galann_model_free(m);
}

static void cost_and_gradient_match_fixture_at_theta0_on_train(void **state)
{
    (void)state;
    require_galaxy_data();
    double *theta0 = read_fixture_or_skip("reference/galaxy/theta0.txt", GALAXY_PARAMS);
    double *grad0 = read_fixture_or_skip("reference/galaxy/grad0.txt", GALAXY_PARAMS);
    check_every_backend(galaxy_train(), theta0, summary_number("J0_train"), grad0);
    free(theta0);
    free(grad0);
}

static void cost_matches_fixture_at_theta0_on_test(void **state)
{
    (void)state;
    require_galaxy_data();
    double *theta0 = read_fixture_or_skip("reference/galaxy/theta0.txt", GALAXY_PARAMS);
    check_every_backend(galaxy_test(), theta0, summary_number("J0_test"), NULL);
    free(theta0);
}

static void cost_and_gradient_match_fixture_at_theta50_on_train(void **state)
{
    (void)state;
    require_galaxy_data();
    double *theta50 = read_fixture_or_skip("reference/galaxy/theta50.txt", GALAXY_PARAMS);
    double *grad50 = read_fixture_or_skip("reference/galaxy/grad50.txt", GALAXY_PARAMS);
    check_every_backend(galaxy_train(), theta50, summary_number("J50_train"), grad50);
    free(theta50);
    free(grad50);
}

/* No fixture holds J(theta50) on test.csv: the 50th row of the original
 * trajectory is that number, to the precision it was written with. */
static void cost_matches_trajectory_at_theta50_on_test(void **state)
{
    (void)state;
    require_galaxy_data();
    double *theta50 = read_fixture_or_skip("reference/galaxy/theta50.txt", GALAXY_PARAMS);
    double *rows = read_fixture_or_skip("reference/galaxy/trajectory.txt", 600 * 5);
    /* row 50: iter J_train acc_train J_test acc_test */
    double j_test = rows[49 * 5 + 3];
    assert_relative(rows[49 * 5 + 1], summary_number("J50_train"), 1e-12, "trajectory row 50 J_train");
    check_every_backend(galaxy_test(), theta50, j_test, NULL);
    free(theta50);
    free(rows);
}

static void predictions_at_theta50_equal_fixture(void **state)
{
    (void)state;
    require_galaxy_data();
    double *theta50 = read_fixture_or_skip("reference/galaxy/theta50.txt", GALAXY_PARAMS);
    double *expected = read_fixture_or_skip("reference/galaxy/pred50_test.txt", 675);
    galann_model *m = galaxy_model_with(theta50);
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = NULL;
        assert_int_equal(galann_context_new(usable_backend(b), &c), GALANN_OK);
        int32_t labels[675];
        assert_int_equal(galann_predict(c, m, galaxy_test(), labels, 675), GALANN_OK);
        for (size_t i = 0; i < 675; i++) {
            if (labels[i] != (int32_t)expected[i]) {
                print_error("%s: sample %zu predicted %d, expected %d\n", usable_backend(b), i, labels[i],
                            (int)expected[i]);
                fail();
            }
        }
        galann_context_free(c);
    }
    galann_model_free(m);
    free(theta50);
    free(expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_random_917_equals_theta0_bit_for_bit),
        cmocka_unit_test(cost_and_gradient_match_fixture_at_theta0_on_train),
        cmocka_unit_test(cost_matches_fixture_at_theta0_on_test),
        cmocka_unit_test(cost_and_gradient_match_fixture_at_theta50_on_train),
        cmocka_unit_test(cost_matches_trajectory_at_theta50_on_test),
        cmocka_unit_test(predictions_at_theta50_equal_fixture),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, teardown_galaxy_data));
}
