/*
 * test-threads.c -- datasets shared between threads, and the lifetimes of
 * datasets and contexts.
 *
 * Threads with their own context and model read one dataset at the same
 * time and get, bit for bit, what one thread alone gets. A dataset may be
 * freed before the contexts that used it and a context before the
 * datasets it used, in either order, with nothing leaked or touched after
 * it is freed (the sanitizer build checks that).
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

#define ROUNDS 20
#define SAMPLES 500
#define FEATURES 30
#define LABELS 4
static const size_t net_sizes[] = { FEATURES, 10, LABELS };
#define N_PARAMS (10 * (FEATURES + 1) + LABELS * 11)
#define LAMBDA 0.5

/* ------------------------------------------------------------ helpers */

/* A context with a fixed thread count where the backend has threads, so
 * that serial and concurrent runs use the same partition of samples. */
static int new_context(const char *backend, galann_context **out)
{
    galann_context_options opts;
    galann_context_options_init(&opts);
    opts.threads = 2; /* serial backends run 1 whatever is asked */
    return galann_context_new_ex(backend, &opts, out);
}

static galann_model *model_with_seed(uint32_t seed)
{
    galann_model *m = NULL;
    assert_int_equal(galann_model_new(net_sizes, 3, &m), GALANN_OK);
    assert_int_equal(galann_model_init_random(m, seed), GALANN_OK);
    /* larger weights than the default +-0.2, for a less flat cost */
    double theta[N_PARAMS];
    assert_int_equal(galann_model_get_params(m, theta, N_PARAMS), GALANN_OK);
    for (size_t i = 0; i < N_PARAMS; i++)
        theta[i] *= 5.0;
    assert_int_equal(galann_model_set_params(m, theta, N_PARAMS), GALANN_OK);
    return m;
}

typedef struct evaluation {
    double cost;
    double grad[N_PARAMS];
} evaluation;

static void evaluate_serially(const char *backend, uint32_t seed, const galann_dataset *d, evaluation *out)
{
    galann_context *c = NULL;
    assert_int_equal(new_context(backend, &c), GALANN_OK);
    galann_model *m = model_with_seed(seed);
    assert_int_equal(galann_cost_gradient(c, m, d, LAMBDA, &out->cost, out->grad, N_PARAMS), GALANN_OK);
    galann_model_free(m);
    galann_context_free(c);
}

static int same_bits(const evaluation *a, const evaluation *b)
{
    return memcmp(&a->cost, &b->cost, sizeof a->cost) == 0 && memcmp(a->grad, b->grad, sizeof a->grad) == 0;
}

/* One worker thread: its own context and model, the shared dataset. The
 * thread never calls cmocka; the main thread checks what it recorded. */
typedef struct worker {
    const char *backend;
    uint32_t seed;
    const galann_dataset *shared;
    const evaluation *expected;
    pthread_barrier_t *start;
    int status;             /* the first failure, GALANN_OK if none */
    char message[512];
    int rounds_done;
    int mismatches;         /* rounds whose bits differ from the serial run */
    double first_cost;
} worker;

static void *worker_main(void *p)
{
    worker *w = p;
    galann_context *c = NULL;
    galann_model *m = NULL;
    evaluation *got = malloc(sizeof *got);
    w->status = got ? new_context(w->backend, &c) : GALANN_ERR_NOMEM;
    if (w->status == GALANN_OK) {
        m = NULL;
        w->status = galann_model_new(net_sizes, 3, &m);
    }
    if (w->status == GALANN_OK) {
        w->status = galann_model_init_random(m, w->seed);
        double theta[N_PARAMS];
        if (w->status == GALANN_OK)
            w->status = galann_model_get_params(m, theta, N_PARAMS);
        for (size_t i = 0; i < N_PARAMS; i++)
            theta[i] *= 5.0;
        if (w->status == GALANN_OK)
            w->status = galann_model_set_params(m, theta, N_PARAMS);
    }
    if (w->status != GALANN_OK)
        snprintf(w->message, sizeof w->message, "%s", galann_last_error());
    /* everyone starts computing together, also after a failure */
    pthread_barrier_wait(w->start);
    for (int r = 0; r < ROUNDS && w->status == GALANN_OK; r++) {
        memset(got, 0xff, sizeof *got);
        int status = galann_cost_gradient(c, m, w->shared, LAMBDA, &got->cost, got->grad, N_PARAMS);
        if (status != GALANN_OK) {
            w->status = status;
            snprintf(w->message, sizeof w->message, "%s", galann_last_error());
            break;
        }
        if (r == 0)
            w->first_cost = got->cost;
        w->mismatches += !same_bits(got, w->expected);
        w->rounds_done++;
    }
    galann_model_free(m);
    galann_context_free(c);
    free(got);
    return NULL;
}

static void run_workers(const char *const *backends, size_t n_workers, const galann_dataset *shared)
{
    evaluation *expected = calloc(n_workers, sizeof *expected);
    worker *w = calloc(n_workers, sizeof *w);
    pthread_t *threads = calloc(n_workers, sizeof *threads);
    assert_non_null(expected);
    assert_non_null(w);
    assert_non_null(threads);
    for (size_t i = 0; i < n_workers; i++)
        evaluate_serially(backends[i], 10 + (uint32_t)i, shared, &expected[i]);

    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)n_workers), 0);
    for (size_t i = 0; i < n_workers; i++) {
        w[i].backend = backends[i];
        w[i].seed = 10 + (uint32_t)i;
        w[i].shared = shared;
        w[i].expected = &expected[i];
        w[i].start = &start;
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &w[i]), 0);
    }
    for (size_t i = 0; i < n_workers; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);

    for (size_t i = 0; i < n_workers; i++) {
        if (w[i].status != GALANN_OK) {
            print_error("thread %zu (%s): status %d: %s\n", i, backends[i], w[i].status, w[i].message);
            fail();
        }
        assert_int_equal(w[i].rounds_done, ROUNDS);
        if (w[i].mismatches != 0) {
            print_error("thread %zu (%s): %d of %d rounds differ from the serial result (first cost %.17g, serial "
                        "%.17g)\n",
                        i, backends[i], w[i].mismatches, ROUNDS, w[i].first_cost, expected[i].cost);
            fail();
        }
    }
    /* different weights give different costs: the threads did not share a model */
    if (n_workers >= 2)
        assert_true(expected[0].cost != expected[1].cost);
    free(expected);
    free(w);
    free(threads);
}

/* --------------------------------------------------------------- tests */

static void two_threads_sharing_a_dataset_match_serial_results_bit_for_bit(void **state)
{
    (void)state;
    galann_dataset *shared = random_dataset(SAMPLES, FEATURES, LABELS, 42);
    assert_non_null(shared);
    for (size_t b = 0; b < usable_backend_count(); b++) {
        const char *backends[2] = { usable_backend(b), usable_backend(b) };
        run_workers(backends, 2, shared);
    }
    galann_dataset_free(shared);
}

static void threads_on_every_backend_share_one_dataset_at_once(void **state)
{
    (void)state;
    size_t count = usable_backend_count();
    if (count < 2) {
        skip_test("only one backend is usable here");
    }
    galann_dataset *shared = random_dataset(SAMPLES, FEATURES, LABELS, 43);
    assert_non_null(shared);
    const char *backends[8];
    size_t n = 0;
    for (size_t b = 0; b < count && n + 2 <= 8; b++) {
        backends[n++] = usable_backend(b);
        backends[n++] = usable_backend(b);
    }
    run_workers(backends, n, shared);
    galann_dataset_free(shared);
}

static void dataset_freed_before_its_context_leaves_the_context_usable(void **state)
{
    (void)state;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        const char *backend = usable_backend(b);
        galann_context *c = NULL;
        assert_int_equal(new_context(backend, &c), GALANN_OK);
        galann_model *m = model_with_seed(5);

        galann_dataset *first = random_dataset(SAMPLES, FEATURES, LABELS, 1);
        assert_non_null(first);
        evaluation e1, again;
        assert_int_equal(galann_cost_gradient(c, m, first, LAMBDA, &e1.cost, e1.grad, N_PARAMS), GALANN_OK);
        galann_dataset_free(first);

        /* a new dataset (perhaps at the same address) gets fresh results */
        galann_dataset *second = random_dataset(SAMPLES, FEATURES, LABELS, 2);
        assert_non_null(second);
        evaluation e2, serial2;
        assert_int_equal(galann_cost_gradient(c, m, second, LAMBDA, &e2.cost, e2.grad, N_PARAMS), GALANN_OK);
        evaluate_serially(backend, 5, second, &serial2);
        if (!same_bits(&e2, &serial2)) {
            print_error("%s: after freeing a dataset, cost %.17g on a new one, a fresh context gives %.17g\n", backend,
                        e2.cost, serial2.cost);
            fail();
        }
        assert_true(e1.cost != e2.cost);
        galann_dataset_free(second);

        /* and the first data again, recreated */
        first = random_dataset(SAMPLES, FEATURES, LABELS, 1);
        assert_non_null(first);
        assert_int_equal(galann_cost_gradient(c, m, first, LAMBDA, &again.cost, again.grad, N_PARAMS), GALANN_OK);
        assert_true(same_bits(&again, &e1));
        galann_context_free(c);
        galann_dataset_free(first);
        galann_model_free(m);
    }
}

static void context_freed_before_its_dataset_leaves_the_dataset_usable(void **state)
{
    (void)state;
    for (size_t b = 0; b < usable_backend_count(); b++) {
        const char *backend = usable_backend(b);
        galann_dataset *d = random_dataset(SAMPLES, FEATURES, LABELS, 3);
        assert_non_null(d);
        galann_model *m = model_with_seed(6);
        evaluation e1, e2;

        galann_context *c1 = NULL;
        assert_int_equal(new_context(backend, &c1), GALANN_OK);
        assert_int_equal(galann_cost_gradient(c1, m, d, LAMBDA, &e1.cost, e1.grad, N_PARAMS), GALANN_OK);
        galann_context_free(c1);

        galann_context *c2 = NULL;
        assert_int_equal(new_context(backend, &c2), GALANN_OK);
        assert_int_equal(galann_cost_gradient(c2, m, d, LAMBDA, &e2.cost, e2.grad, N_PARAMS), GALANN_OK);
        if (!same_bits(&e1, &e2)) {
            print_error("%s: a second context on the dataset gives cost %.17g, the first gave %.17g\n", backend,
                        e2.cost, e1.cost);
            fail();
        }
        /* two live contexts on one dataset, freed context first, then the dataset */
        galann_context *c3 = NULL;
        assert_int_equal(new_context(backend, &c3), GALANN_OK);
        double cost3;
        assert_int_equal(galann_cost(c3, m, d, LAMBDA, &cost3), GALANN_OK);
        assert_true(cost3 == e1.cost);
        galann_context_free(c2);
        galann_dataset_free(d);
        /* c3 outlives the dataset it used */
        galann_dataset *other = random_dataset(SAMPLES, FEATURES, LABELS, 4);
        assert_non_null(other);
        assert_int_equal(galann_cost(c3, m, other, LAMBDA, &cost3), GALANN_OK);
        assert_true(isfinite(cost3));
        galann_dataset_free(other);
        galann_context_free(c3);
        galann_model_free(m);
    }
}

/* Threads that each create, use and free contexts in a loop while sharing
 * one dataset: the per-dataset bookkeeping is changed from several
 * threads at once. */
typedef struct churn {
    const char *backend;
    const galann_dataset *shared;
    const galann_model *model;
    double expected;
    int status;
    int wrong;
} churn;

static void *churn_main(void *p)
{
    churn *t = p;
    for (int r = 0; r < ROUNDS && t->status == GALANN_OK; r++) {
        galann_context *c = NULL;
        double cost;
        t->status = new_context(t->backend, &c);
        if (t->status == GALANN_OK)
            t->status = galann_cost(c, t->model, t->shared, LAMBDA, &cost);
        if (t->status == GALANN_OK)
            t->wrong += memcmp(&cost, &t->expected, sizeof cost) != 0;
        galann_context_free(c);
    }
    return NULL;
}

static void contexts_created_and_freed_in_threads_around_a_shared_dataset(void **state)
{
    (void)state;
    galann_dataset *shared = random_dataset(200, FEATURES, LABELS, 44);
    assert_non_null(shared);
    galann_model *m = model_with_seed(7);
    galann_model *copies[3] = { NULL, NULL, NULL }; /* a handle is used by one thread at a time */
    for (int i = 0; i < 3; i++)
        assert_int_equal(galann_model_copy(m, &copies[i]), GALANN_OK);
    for (size_t b = 0; b < usable_backend_count(); b++) {
        evaluation serial;
        evaluate_serially(usable_backend(b), 7, shared, &serial);
        churn t[3];
        pthread_t threads[3];
        for (int i = 0; i < 3; i++) {
            t[i] = (churn){ usable_backend(b), shared, copies[i], serial.cost, GALANN_OK, 0 };
            assert_int_equal(pthread_create(&threads[i], NULL, churn_main, &t[i]), 0);
        }
        for (int i = 0; i < 3; i++)
            assert_int_equal(pthread_join(threads[i], NULL), 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(t[i].status, GALANN_OK);
            assert_int_equal(t[i].wrong, 0);
        }
    }
    for (int i = 0; i < 3; i++)
        galann_model_free(copies[i]);
    galann_model_free(m);
    galann_dataset_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_threads_sharing_a_dataset_match_serial_results_bit_for_bit),
        cmocka_unit_test(threads_on_every_backend_share_one_dataset_at_once),
        cmocka_unit_test(dataset_freed_before_its_context_leaves_the_context_usable),
        cmocka_unit_test(context_freed_before_its_dataset_leaves_the_dataset_usable),
        cmocka_unit_test(contexts_created_and_freed_in_threads_around_a_shared_dataset),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
