/*
 * test-gradient.c -- the gradient is the derivative of the cost, and every
 * backend computes the same numbers as the reference backend.
 *
 * Small random networks of depth 2, 3 and 4 on random data, with and
 * without regularisation: galann_check_gradient agrees with the gradient,
 * and so does every component of a Richardson-extrapolated central
 * difference of galann_cost, to 1e-9 relative; the cost and
 * the outputs agree with a forward pass written here; every backend agrees
 * with the reference to 1e-12, also on a wider network over several blocks
 * of samples; the blas backend gives the same numbers for every thread
 * count and the same bits on every repeat; saturated outputs give a finite
 * cost equal to its analytic value; accuracy is the fraction predict gets
 * right, and the accuracies a fit reports break ties as predict does.
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

#define AGREEMENT 1e-12
#define FD_TOLERANCE 1e-7

typedef struct net_shape {
    const char *name;
    size_t n_layers;
    size_t sizes[4];
} net_shape;

static const net_shape small_nets[] = {
    { "6-3", 2, { 6, 3 } },
    { "6-5-3", 3, { 6, 5, 3 } },
    { "6-5-4-3", 4, { 6, 5, 4, 3 } },
};
#define N_SMALL_NETS (sizeof small_nets / sizeof small_nets[0])
static const net_shape wide_net = { "50-20-7-4", 4, { 50, 20, 7, 4 } };
static const double lambdas[] = { 0.0, 0.7 };
#define SMALL_SAMPLES 40
#define WIDE_SAMPLES 300 /* a block of 256 (blas) and a partial one */
/* Nets whose layers reach every case of blas's narrow-layer loops on a
 * CPU with AVX-512 (backends/blas/narrow.h): 16 and 9 outputs (two
 * groups of rows, the second partial), 2 (the smallest group), inputs
 * that are not a multiple of 8, and 8 200 inputs (blocks of one sample,
 * many column tiles, the last one partial). */
static const net_shape narrow_nets[] = {
    { "37-16-9-2", 4, { 37, 16, 9, 2 } },
    { "5-2-3", 3, { 5, 2, 3 } },
    { "8200-16-3", 3, { 8200, 16, 3 } },
};
static const size_t narrow_samples[] = { 300, 300, 5 };

/* ------------------------------------------------------------ helpers */

/* Weights uniform in [-scale, scale) from a 64-bit LCG. */
static void random_weights(double *theta, size_t n, uint32_t seed, double scale)
{
    uint64_t s = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        theta[i] = scale * (2.0 * ((double)(s >> 11) / 9007199254740992.0) - 1.0);
    }
}

static galann_model *random_model(const net_shape *net, uint32_t seed, double scale)
{
    galann_model *m = NULL;
    assert_int_equal(galann_model_new(net->sizes, net->n_layers, &m), GALANN_OK);
    size_t n = galann_model_n_params(m);
    double *theta = malloc(n * sizeof *theta);
    assert_non_null(theta);
    random_weights(theta, n, seed, scale);
    assert_int_equal(galann_model_set_params(m, theta, n), GALANN_OK);
    free(theta);
    return m;
}

static galann_dataset *dataset_for(const net_shape *net, size_t m, uint32_t seed)
{
    galann_dataset *d = random_dataset(m, net->sizes[0], net->sizes[net->n_layers - 1], seed);
    assert_non_null(d);
    return d;
}

static galann_context *context_on(const char *backend)
{
    galann_context *c = NULL;
    int status = galann_context_new(backend, &c);
    if (status != GALANN_OK)
        print_error("%s: %s\n", backend, galann_last_error());
    assert_int_equal(status, GALANN_OK);
    return c;
}

static void require_ok_at(int status, const char *what, const char *file, int line)
{
    if (status != GALANN_OK) {
        print_error("%s: status %d (%s): %s\n", what, status, galann_strerror(status), galann_last_error());
        _fail(file, line);
    }
}
#define require_ok(status, what) require_ok_at(status, what, __FILE__, __LINE__)

/* Everything one evaluation gives. */
typedef struct results {
    double cost;
    size_t n_params;
    double *grad;
    size_t n_outputs;
    double *proba;
} results;

static results evaluate_all(galann_context *c, const galann_model *m, const galann_dataset *d, double lambda)
{
    results r;
    r.n_params = galann_model_n_params(m);
    r.n_outputs = galann_dataset_n_samples(d) * galann_dataset_n_labels(d);
    r.grad = malloc(r.n_params * sizeof *r.grad);
    r.proba = malloc(r.n_outputs * sizeof *r.proba);
    assert_non_null(r.grad);
    assert_non_null(r.proba);
    require_ok(galann_cost_gradient(c, m, d, lambda, &r.cost, r.grad, r.n_params), galann_context_backend(c));
    require_ok(galann_predict_proba(c, m, d, r.proba, r.n_outputs), galann_context_backend(c));
    return r;
}

static void free_results(results *r)
{
    free(r->grad);
    free(r->proba);
}

static void expect_agreement(const results *got, const results *want, double tol, const char *what)
{
    char label[256];
    snprintf(label, sizeof label, "%s: cost", what);
    assert_relative(got->cost, want->cost, tol, label);
    double dg = relative_max_difference(got->grad, want->grad, want->n_params);
    double dp = relative_max_difference(got->proba, want->proba, want->n_outputs);
    if (!(dg <= tol) || !(dp <= tol)) {
        print_error("%s: gradient differs by %.3g, outputs by %.3g (relative max-norm), tolerance %.3g\n", what,
                    dg, dp, tol);
        fail();
    }
}

static void expect_identical(const results *a, const results *b, const char *what)
{
    if (memcmp(&a->cost, &b->cost, sizeof a->cost) != 0 || memcmp(a->grad, b->grad, a->n_params * sizeof(double)) != 0 ||
        memcmp(a->proba, b->proba, a->n_outputs * sizeof(double)) != 0) {
        print_error("%s: results differ between two identical calls (cost %.17g vs %.17g)\n", what, a->cost, b->cost);
        fail();
    }
}

/* log(1 + e^t), written independently of the library's. */
static double log_one_plus_exp(double t)
{
    if (t > 0.0)
        return t + log1p(exp(-t));
    return log1p(exp(t));
}

/* The cost and output activations by the formula of reference-model.md,
 * one sample at a time, straight from the parameter vector. */
static double independent_cost(const net_shape *net, const double *theta, const galann_dataset *d, double lambda,
                               double *outputs)
{
    size_t m = galann_dataset_n_samples(d), n = galann_dataset_n_features(d);
    size_t L = net->n_layers - 1, k = net->sizes[L];
    const double *x = galann_dataset_features(d);
    const int32_t *y = galann_dataset_labels(d);
    double a[2][64], z[64];
    double total = 0.0;
    for (size_t i = 0; i < m; i++) {
        memcpy(a[0], x + i * n, n * sizeof(double));
        const double *th = theta;
        int cur = 0;
        for (size_t l = 1; l <= L; l++) {
            size_t rows = net->sizes[l], cols = net->sizes[l - 1];
            for (size_t r = 0; r < rows; r++) {
                double sum = th[r * (cols + 1)];
                for (size_t j = 0; j < cols; j++)
                    sum += th[r * (cols + 1) + 1 + j] * a[cur][j];
                z[r] = sum;
                a[1 - cur][r] = 1.0 / (1.0 + exp(-sum));
            }
            th += rows * (cols + 1);
            cur = 1 - cur;
        }
        for (size_t c = 0; c < k; c++) {
            /* -y log g(z) - (1 - y) log(1 - g(z)) */
            total += (y[i] == (int32_t)c) ? log_one_plus_exp(-z[c]) : log_one_plus_exp(z[c]);
            if (outputs)
                outputs[i * k + c] = a[cur][c];
        }
    }
    double squares = 0.0;
    const double *th = theta;
    for (size_t l = 1; l <= L; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 1; j <= cols; j++)
                squares += th[r * (cols + 1) + j] * th[r * (cols + 1) + j];
        th += rows * (cols + 1);
    }
    return total / (double)m + lambda / (2.0 * (double)m) * squares;
}

/* --------------------------------------------------------------- tests */

static void check_gradient_is_below_1e_7_for_every_backend_depth_and_lambda(void **state)
{
    (void)state;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = context_on(usable_backend(b));
        for (size_t t = 0; t < N_SMALL_NETS; t++) {
            const net_shape *net = &small_nets[t];
            galann_model *m = random_model(net, 100 + (uint32_t)t, 1.0);
            galann_dataset *d = dataset_for(net, SMALL_SAMPLES, 7 + (uint32_t)t);
            for (size_t l = 0; l < 2; l++) {
                double err = -1.0;
                require_ok(galann_check_gradient(c, m, d, lambdas[l], 0.0, 0, &err), usable_backend(b));
                if (!(err >= 0.0 && err < FD_TOLERANCE)) {
                    print_error("%s, net %s, lambda %g: gradient check error %.3g (limit %.3g)\n",
                                usable_backend(b), net->name, lambdas[l], err, FD_TOLERANCE);
                    fail();
                }
            }
            galann_model_free(m);
            galann_dataset_free(d);
        }
        galann_context_free(c);
    }
}

/* Not trusting galann_check_gradient: derivatives of galann_cost by
 * Richardson extrapolation of central differences, R = (4 D(h/2) - D(h)) / 3
 * with D(h) = (J(x + h) - J(x - h)) / 2h, whose error is O(h^4): with
 * h = 3e-3 it is about 3e-13 absolute on these nets (rounding of J over
 * h), 1.4e-10 relative at worst. Every component must agree to
 * RICHARDSON_RELATIVE |g| + RICHARDSON_ABSOLUTE: a gradient off by 1e-7
 * relative misses that by a factor of 50 or more on any component above
 * 1e-4. */
#define RICHARDSON_STEP 3e-3
#define RICHARDSON_RELATIVE 1e-9
#define RICHARDSON_ABSOLUTE 1e-12

static double cost_at(galann_context *c, galann_model *probe, const galann_dataset *d, double lambda, double *theta,
                      size_t n, size_t i, double offset)
{
    double saved = theta[i], cost = NAN;
    theta[i] = saved + offset;
    require_ok(galann_model_set_params(probe, theta, n), "set_params");
    require_ok(galann_cost(c, probe, d, lambda, &cost), "cost");
    theta[i] = saved;
    return cost;
}

static double richardson_derivative(galann_context *c, galann_model *probe, const galann_dataset *d, double lambda,
                                    double *theta, size_t n, size_t i)
{
    const double h = RICHARDSON_STEP;
    double d_h = (cost_at(c, probe, d, lambda, theta, n, i, h) - cost_at(c, probe, d, lambda, theta, n, i, -h)) /
                 (2.0 * h);
    double d_half = (cost_at(c, probe, d, lambda, theta, n, i, h / 2) -
                     cost_at(c, probe, d, lambda, theta, n, i, -h / 2)) / h;
    return (4.0 * d_half - d_h) / 3.0;
}

static void richardson_differences_match_every_gradient_component_to_1e_9_relative(void **state)
{
    (void)state;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = context_on(usable_backend(b));
        for (size_t t = 0; t < N_SMALL_NETS; t++) {
            const net_shape *net = &small_nets[t];
            galann_model *m = random_model(net, 200 + (uint32_t)t, 1.0);
            galann_dataset *d = dataset_for(net, SMALL_SAMPLES, 17 + (uint32_t)t);
            size_t n = galann_model_n_params(m);
            double *theta = malloc(n * sizeof *theta), *grad = malloc(n * sizeof *grad);
            assert_non_null(theta);
            assert_non_null(grad);
            require_ok(galann_model_get_params(m, theta, n), "get_params");
            galann_model *probe = NULL;
            require_ok(galann_model_copy(m, &probe), "copy");
            for (size_t l = 0; l < 2; l++) {
                double lambda = lambdas[l];
                require_ok(galann_gradient(c, m, d, lambda, grad, n), "gradient");
                size_t sizeable = 0;
                for (size_t i = 0; i < n; i++) {
                    double fd = richardson_derivative(c, probe, d, lambda, theta, n, i);
                    double allowed = RICHARDSON_RELATIVE * fabs(grad[i]) + RICHARDSON_ABSOLUTE;
                    if (!(fabs(grad[i] - fd) <= allowed)) {
                        print_error("%s, net %s, lambda %g, parameter %zu: gradient %.17g, Richardson difference "
                                    "%.17g (differ by %.3g, relative %.3g; allowed %.3g)\n",
                                    usable_backend(b), net->name, lambda, i, grad[i], fd, fabs(grad[i] - fd),
                                    fabs(grad[i] - fd) / fabs(fd), allowed);
                        fail();
                    }
                    sizeable += fabs(grad[i]) > 1e-3;
                }
                /* most components are large enough for the relative bound to bite */
                assert_true(sizeable * 10 >= n * 9);
            }
            galann_model_free(probe);
            galann_model_free(m);
            galann_dataset_free(d);
            free(theta);
            free(grad);
        }
        galann_context_free(c);
    }
}

static void cost_and_outputs_match_an_independent_forward_pass(void **state)
{
    (void)state;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = context_on(usable_backend(b));
        for (size_t t = 0; t <= N_SMALL_NETS; t++) {
            const net_shape *net = t < N_SMALL_NETS ? &small_nets[t] : &wide_net;
            size_t samples = t < N_SMALL_NETS ? SMALL_SAMPLES : WIDE_SAMPLES;
            galann_model *m = random_model(net, 300 + (uint32_t)t, 1.0);
            galann_dataset *d = dataset_for(net, samples, 27 + (uint32_t)t);
            size_t n = galann_model_n_params(m), outputs = samples * net->sizes[net->n_layers - 1];
            double *theta = malloc(n * sizeof *theta), *want = malloc(outputs * sizeof *want);
            double *got = malloc(outputs * sizeof *got);
            assert_non_null(theta);
            assert_non_null(want);
            assert_non_null(got);
            require_ok(galann_model_get_params(m, theta, n), "get_params");
            for (size_t l = 0; l < 2; l++) {
                double expected = independent_cost(net, theta, d, lambdas[l], want), cost;
                require_ok(galann_cost(c, m, d, lambdas[l], &cost), usable_backend(b));
                char what[128];
                snprintf(what, sizeof what, "%s, net %s, lambda %g: cost", usable_backend(b), net->name, lambdas[l]);
                assert_relative(cost, expected, AGREEMENT, what);
            }
            require_ok(galann_predict_proba(c, m, d, got, outputs), usable_backend(b));
            double diff = relative_max_difference(got, want, outputs);
            if (!(diff <= AGREEMENT)) {
                print_error("%s, net %s: outputs differ by %.3g\n", usable_backend(b), net->name, diff);
                fail();
            }
            galann_model_free(m);
            galann_dataset_free(d);
            free(theta);
            free(want);
            free(got);
        }
        galann_context_free(c);
    }
}

/* J(lambda) - J(0) = (lambda / 2m) sum of non-bias squares, and the
 * gradient gains (lambda / m) theta outside the bias columns only. */
static void regularisation_skips_the_bias_column(void **state)
{
    (void)state;
    const double lambda = 0.7;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = context_on(usable_backend(b));
        for (size_t t = 0; t < N_SMALL_NETS; t++) {
            const net_shape *net = &small_nets[t];
            galann_model *m = random_model(net, 400 + (uint32_t)t, 1.0);
            galann_dataset *d = dataset_for(net, SMALL_SAMPLES, 37 + (uint32_t)t);
            size_t n = galann_model_n_params(m);
            double *theta = malloc(n * sizeof *theta), *g0 = malloc(n * sizeof *g0), *g1 = malloc(n * sizeof *g1);
            assert_non_null(theta);
            assert_non_null(g0);
            assert_non_null(g1);
            require_ok(galann_model_get_params(m, theta, n), "get_params");
            double j0, j1;
            require_ok(galann_cost_gradient(c, m, d, 0.0, &j0, g0, n), "lambda 0");
            require_ok(galann_cost_gradient(c, m, d, lambda, &j1, g1, n), "lambda 0.7");
            double squares = 0.0;
            size_t offset = 0;
            for (size_t l = 1; l < net->n_layers; l++) {
                size_t rows = net->sizes[l], cols = net->sizes[l - 1] + 1;
                for (size_t r = 0; r < rows; r++) {
                    for (size_t j = 0; j < cols; j++) {
                        size_t i = offset + r * cols + j;
                        double want = j == 0 ? 0.0 : lambda / SMALL_SAMPLES * theta[i];
                        double got = g1[i] - g0[i];
                        if (!(fabs(got - want) <= 1e-14)) {
                            print_error("%s, net %s, parameter %zu (layer %zu, row %zu, column %zu): the lambda "
                                        "term is %.17g, expected %.17g\n",
                                        usable_backend(b), net->name, i, l, r, j, got, want);
                            fail();
                        }
                        if (j > 0)
                            squares += theta[i] * theta[i];
                    }
                }
                offset += rows * cols;
            }
            assert_relative(j1 - j0, lambda / (2.0 * SMALL_SAMPLES) * squares, 1e-12, "lambda term of the cost");
            galann_model_free(m);
            galann_dataset_free(d);
            free(theta);
            free(g0);
            free(g1);
        }
        galann_context_free(c);
    }
}

static void compare_backends_with_reference(const net_shape *net, size_t samples, uint32_t seed)
{
    galann_context *ref = context_on("reference");
    galann_model *m = random_model(net, seed, 1.0);
    galann_dataset *d = dataset_for(net, samples, seed + 1);
    for (size_t l = 0; l < 2; l++) {
        results want = evaluate_all(ref, m, d, lambdas[l]);
        for (size_t b = 0; b < usable_backend_count(); b++) {
            galann_context *c = context_on(usable_backend(b));
            results got = evaluate_all(c, m, d, lambdas[l]);
            char what[128];
            snprintf(what, sizeof what, "%s vs reference, net %s, m %zu, lambda %g", usable_backend(b), net->name,
                     samples, lambdas[l]);
            expect_agreement(&got, &want, AGREEMENT, what);
            free_results(&got);
            galann_context_free(c);
        }
        free_results(&want);
    }
    galann_model_free(m);
    galann_dataset_free(d);
    galann_context_free(ref);
}

static void every_backend_agrees_with_reference_on_small_nets(void **state)
{
    (void)state;
    for (size_t t = 0; t < N_SMALL_NETS; t++)
        compare_backends_with_reference(&small_nets[t], SMALL_SAMPLES, 500 + 10 * (uint32_t)t);
}

static void every_backend_agrees_with_reference_on_every_shape_of_narrow_layer(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof narrow_nets / sizeof narrow_nets[0]; t++)
        compare_backends_with_reference(&narrow_nets[t], narrow_samples[t], 800 + 10 * (uint32_t)t);
}

static void every_backend_agrees_with_reference_on_a_wide_net_over_several_blocks(void **state)
{
    (void)state;
    compare_backends_with_reference(&wide_net, WIDE_SAMPLES, 600);
    /* one sample, and fewer samples than one block */
    compare_backends_with_reference(&wide_net, 1, 610);
    compare_backends_with_reference(&wide_net, 63, 620);
    compare_backends_with_reference(&wide_net, 65, 630);
}

static void blas_thread_counts_agree_and_repeat_bit_for_bit(void **state)
{
    (void)state;
    if (galann_backend_available("blas") != GALANN_OK) {
        skip_test("the blas backend is not usable here");
    }
    static const size_t sample_counts[] = { WIDE_SAMPLES, 3 }; /* 3: more threads than samples */
    for (size_t s = 0; s < 2; s++) {
        galann_context *ref = context_on("reference");
        galann_model *m = random_model(&wide_net, 700, 1.0);
        galann_dataset *d = dataset_for(&wide_net, sample_counts[s], 701);
        results want = evaluate_all(ref, m, d, 0.7);
        galann_context *c = context_on("blas");
        results one = { 0 };
        for (int threads = 1; threads <= 4; threads++) {
            require_ok(galann_context_set_threads(c, threads), "set_threads");
            assert_int_equal(galann_context_threads(c), threads);
            results first = evaluate_all(c, m, d, 0.7);
            results second = evaluate_all(c, m, d, 0.7);
            char what[128];
            snprintf(what, sizeof what, "blas with %d threads, m %zu", threads, sample_counts[s]);
            expect_identical(&first, &second, what);
            expect_agreement(&first, &want, AGREEMENT, what);
            /* a fresh context with this thread count gives the same bits */
            galann_context_options opts;
            galann_context_options_init(&opts);
            opts.threads = threads;
            galann_context *fresh = NULL;
            require_ok(galann_context_new_ex("blas", &opts, &fresh), "context_new_ex");
            results third = evaluate_all(fresh, m, d, 0.7);
            expect_identical(&third, &first, what);
            free_results(&third);
            galann_context_free(fresh);
            if (threads == 1) {
                one = first;
            } else {
                expect_agreement(&first, &one, AGREEMENT, what);
                free_results(&first);
            }
            free_results(&second);
        }
        free_results(&one);
        free_results(&want);
        galann_context_free(c);
        galann_context_free(ref);
        galann_model_free(m);
        galann_dataset_free(d);
    }
}

/* Biases of +-800 push every output (and hidden unit) to exactly 1.0 or
 * 0.0 in double: log(1 - a) would be -inf. The cost must stay finite and
 * equal sum softplus(+-z) computed from z. */
static void saturated_outputs_give_the_finite_analytic_cost(void **state)
{
    (void)state;
    static const net_shape saturated[] = {
        { "4-3", 2, { 4, 3 } },
        { "4-5-3", 3, { 4, 5, 3 } },
    };
    const size_t samples = 30;
    for (size_t t = 0; t < 2; t++) {
        const net_shape *net = &saturated[t];
        galann_model *m = NULL;
        require_ok(galann_model_new(net->sizes, net->n_layers, &m), "model_new");
        size_t n = galann_model_n_params(m);
        double *theta = malloc(n * sizeof *theta);
        assert_non_null(theta);
        random_weights(theta, n, 800 + (uint32_t)t, 1.0);
        size_t offset = 0;
        for (size_t l = 1; l < net->n_layers; l++) {
            size_t rows = net->sizes[l], cols = net->sizes[l - 1] + 1;
            for (size_t r = 0; r < rows; r++)
                theta[offset + r * cols] = (r % 2 == 0) ? 800.0 : -800.0;
            offset += rows * cols;
        }
        require_ok(galann_model_set_params(m, theta, n), "set_params");
        galann_dataset *d = dataset_for(net, samples, 801);
        size_t k = net->sizes[net->n_layers - 1];

        for (size_t b = 0; b < usable_backend_count(); b++) {
            galann_context *c = context_on(usable_backend(b));
            double proba[30 * 3];
            require_ok(galann_predict_proba(c, m, d, proba, samples * k), "predict_proba");
            for (size_t i = 0; i < samples * k; i++) {
                if (proba[i] != 1.0 && proba[i] != 0.0) {
                    print_error("%s, net %s: output %zu = %.17g is not saturated\n", usable_backend(b), net->name,
                                i, proba[i]);
                    fail();
                }
            }
            for (size_t l = 0; l < 2; l++) {
                double want = independent_cost(net, theta, d, lambdas[l], NULL);
                double cost = NAN;
                double *grad = malloc(n * sizeof *grad);
                assert_non_null(grad);
                require_ok(galann_cost_gradient(c, m, d, lambdas[l], &cost, grad, n), "cost_gradient");
                char what[128];
                snprintf(what, sizeof what, "%s, net %s, lambda %g: saturated cost", usable_backend(b), net->name,
                         lambdas[l]);
                assert_true(isfinite(cost));
                /* every sample has outputs at 1.0 that should be 0: about 800 each */
                assert_true(cost > 100.0);
                assert_relative(cost, want, AGREEMENT, what);
                for (size_t i = 0; i < n; i++)
                    assert_true(isfinite(grad[i]));
                free(grad);
            }
            galann_context_free(c);
        }
        free(theta);
        galann_model_free(m);
        galann_dataset_free(d);
    }
}

static void accuracy_is_the_fraction_that_predict_gets_right(void **state)
{
    (void)state;
    const net_shape *net = &small_nets[1];
    const size_t samples = 101;
    galann_dataset *d = dataset_for(net, samples, 901);
    const int32_t *y = galann_dataset_labels(d);
    size_t k = net->sizes[net->n_layers - 1];
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = context_on(usable_backend(b));
        for (uint32_t seed = 0; seed < 3; seed++) {
            galann_model *m = random_model(net, 910 + seed, 3.0);
            int32_t labels[101];
            double proba[101 * 3], accuracy = -1.0;
            require_ok(galann_predict(c, m, d, labels, samples), "predict");
            require_ok(galann_predict_proba(c, m, d, proba, samples * k), "predict_proba");
            require_ok(galann_accuracy(c, m, d, &accuracy), "accuracy");
            size_t right = 0;
            for (size_t i = 0; i < samples; i++) {
                /* the index of the largest output, the first on ties */
                size_t best = 0;
                for (size_t j = 1; j < k; j++)
                    if (proba[i * k + j] > proba[i * k + best])
                        best = j;
                assert_int_equal(labels[i], best);
                right += labels[i] == y[i];
            }
            if (accuracy != (double)right / (double)samples) {
                print_error("%s: accuracy %.17g, predict gets %zu of %zu right\n", usable_backend(b), accuracy, right,
                            samples);
                fail();
            }
            galann_model_free(m);
        }
        /* all weights zero: every output is 0.5, a tie everywhere, so every
         * prediction is class 0; labels are i % 3, so 34 of 101 are 0 */
        galann_model *zero = NULL;
        require_ok(galann_model_new(net->sizes, net->n_layers, &zero), "model_new");
        int32_t labels[101];
        double accuracy = -1.0;
        require_ok(galann_predict(c, zero, d, labels, samples), "predict");
        for (size_t i = 0; i < samples; i++)
            assert_int_equal(labels[i], 0);
        require_ok(galann_accuracy(c, zero, d, &accuracy), "accuracy");
        assert_true(accuracy == 34.0 / 101.0);
        galann_model_free(zero);
        galann_context_free(c);
    }
    galann_dataset_free(d);
}

/* A dataset of the given labels with random features in [0, 1). */
static galann_dataset *dataset_with_labels(size_t m, size_t n, size_t k, const int32_t *labels, uint32_t seed)
{
    galann_dataset *random = random_dataset(m, n, k, seed), *d = NULL;
    assert_non_null(random);
    require_ok(galann_dataset_new(galann_dataset_features(random), labels, m, n, k, &d), "dataset_new");
    galann_dataset_free(random);
    return d;
}

/* The accuracies galann_fit reports come from each backend's own count of
 * right predictions, which must break ties as galann_predict does: the
 * first largest output. All weights zero make every output 0.5, a tie
 * everywhere, so every prediction is class 0; a fit that has converged at
 * its start (gtol 1e300) reports the start's accuracies, the fraction of
 * label 0 (0.2 and 0.3 here), not that of the last class (0.6, 0.7). */
static void fit_reports_accuracies_that_break_ties_like_predict(void **state)
{
    (void)state;
    const net_shape *net = &small_nets[1];
    size_t k = net->sizes[net->n_layers - 1];
    int32_t train_labels[50], valid_labels[30];
    for (size_t i = 0; i < 50; i++)
        train_labels[i] = i % 5 == 0 ? 0 : i % 5 == 1 ? 1 : 2;
    for (size_t i = 0; i < 30; i++)
        valid_labels[i] = i % 10 < 3 ? 0 : 2;
    galann_dataset *train = dataset_with_labels(50, net->sizes[0], k, train_labels, 1001);
    galann_dataset *valid = dataset_with_labels(30, net->sizes[0], k, valid_labels, 1002);
    for (size_t b = 0; b < usable_backend_count(); b++) {
        galann_context *c = context_on(usable_backend(b));
        galann_model *zero = NULL;
        require_ok(galann_model_new(net->sizes, net->n_layers, &zero), "model_new");
        galann_fit_options o;
        galann_fit_options_init(&o);
        o.gtol = 1e300;
        o.validation = valid;
        galann_fit_report report;
        memset(&report, 0, sizeof report);
        report.struct_size = sizeof report;
        require_ok(galann_fit(c, zero, train, &o, &report), usable_backend(b));
        assert_int_equal(report.iterations, 0);
        double train_accuracy = -1.0, valid_accuracy = -1.0;
        require_ok(galann_accuracy(c, zero, train, &train_accuracy), "accuracy");
        require_ok(galann_accuracy(c, zero, valid, &valid_accuracy), "accuracy");
        if (!(train_accuracy == 0.2 && report.train_accuracy == 0.2 && valid_accuracy == 0.3 &&
              report.validation_accuracy == 0.3)) {
            print_error("%s: galann_accuracy %.17g and %.17g; galann_fit reports %.17g and %.17g; expected 0.2 "
                        "(training) and 0.3 (validation)\n",
                        usable_backend(b), train_accuracy, valid_accuracy, report.train_accuracy,
                        report.validation_accuracy);
            fail();
        }
        galann_model_free(zero);
        galann_context_free(c);
    }
    galann_dataset_free(train);
    galann_dataset_free(valid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_gradient_is_below_1e_7_for_every_backend_depth_and_lambda),
        cmocka_unit_test(richardson_differences_match_every_gradient_component_to_1e_9_relative),
        cmocka_unit_test(cost_and_outputs_match_an_independent_forward_pass),
        cmocka_unit_test(regularisation_skips_the_bias_column),
        cmocka_unit_test(every_backend_agrees_with_reference_on_small_nets),
        cmocka_unit_test(every_backend_agrees_with_reference_on_a_wide_net_over_several_blocks),
        cmocka_unit_test(every_backend_agrees_with_reference_on_every_shape_of_narrow_layer),
        cmocka_unit_test(blas_thread_counts_agree_and_repeat_bit_for_bit),
        cmocka_unit_test(saturated_outputs_give_the_finite_analytic_cost),
        cmocka_unit_test(accuracy_is_the_fraction_that_predict_gets_right),
        cmocka_unit_test(fit_reports_accuracies_that_break_ties_like_predict),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
