/*
 * test-busy.c -- one context used by two calls at once is detected: the
 * second call returns GALANN_ERR_BUSY, never a deadlock or wrong numbers.
 *
 * A context serves one call at a time (docs/api.md §1.6). Two threads
 * that share one anyway each get, for every call, either the numbers one
 * thread alone gets (bit for bit) or GALANN_ERR_BUSY; retrying a busy
 * call, both get all their calls done, interleaved. A call made from
 * inside another call on the same context (from the allreduce hook, which
 * runs inside an evaluation) is refused the same way, in the same thread
 * or another. An alarm kills the program if anything deadlocks.
 *
 * Not here: many contexts sharing a dataset (test-threads.c).
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

#define HANG_GUARD 120
#define SAMPLES 700
#define FEATURES 24
#define LABELS 3
#define HIDDEN 6
#define N_PARAMS (HIDDEN * (FEATURES + 1) + LABELS * (HIDDEN + 1))
#define LAMBDA 0.7

static const size_t net_sizes[] = { FEATURES, HIDDEN, LABELS };

typedef struct fixture {
    galann_dataset *data;
    galann_model *model;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->data = random_dataset(SAMPLES, FEATURES, LABELS, 11);
    if (!f->data || galann_model_new(net_sizes, 3, &f->model) != GALANN_OK ||
        galann_model_init_random(f->model, 917) != GALANN_OK)
        return -1;
    *state = f;
    alarm(HANG_GUARD);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    alarm(0);
    galann_model_free(f->model);
    galann_dataset_free(f->data);
    free(f);
    return 0;
}

static galann_context *new_context(const char *backend)
{
    galann_context_options opts;
    galann_context_options_init(&opts);
    opts.threads = 2;
    galann_context *c = NULL;
    if (galann_context_new_ex(backend, &opts, &c) != GALANN_OK)
        return NULL;
    return c;
}

/* ----------------------------------------- a call inside a call */

typedef struct nested {
    galann_context *c;
    const fixture *f;
    int calls;             /* allreduce hook invocations */
    int nested_status;     /* of the call made from inside the first */
    char nested_message[512];
    int from_other_thread;
} nested;

static void nested_cost(nested *n)
{
    double cost = 0.0;
    n->nested_status = galann_cost(n->c, n->f->model, n->f->data, LAMBDA, &cost);
    snprintf(n->nested_message, sizeof n->nested_message, "%s", galann_last_error());
}

static void *nested_thread(void *arg)
{
    nested_cost(arg);
    return NULL;
}

/* One process: the reduction is the identity. The first time, it calls
 * the same context again, here or from another thread, and waits. */
static int reduce_and_call_again(void *user, int64_t *values, size_t count, galann_reduce_op op)
{
    (void)values, (void)count, (void)op;
    nested *n = user;
    if (n->calls++ > 0)
        return 0;
    if (!n->from_other_thread) {
        nested_cost(n);
        return 0;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, nested_thread, n) != 0)
        return 1;
    pthread_join(t, NULL);
    return 0;
}

static void check_nested_call_refused(const fixture *f, const char *backend, int from_other_thread)
{
    galann_context *plain = new_context(backend), *c = new_context(backend);
    if (!plain || !c) {
        galann_context_free(plain);
        galann_context_free(c);
        skip_test("backend %s not usable here", backend);
        return;
    }
    double expected = 0.0, got = 0.0;
    assert_int_equal(galann_cost(plain, f->model, f->data, LAMBDA, &expected), GALANN_OK);

    nested n = { c, f, 0, -1, "", from_other_thread };
    assert_int_equal(galann_context_set_allreduce(c, reduce_and_call_again, &n), GALANN_OK);
    expect_status(galann_cost(c, f->model, f->data, LAMBDA, &got), GALANN_OK);
    print_message("%s, %s: nested call: %s: %s\n", backend, from_other_thread ? "other thread" : "same thread",
                  galann_strerror(n.nested_status), n.nested_message);
    assert_int_equal(n.nested_status, GALANN_ERR_BUSY);
    assert_string_equal(n.nested_message, "galann_cost: the context is busy with another call (a context serves "
                        "one call at a time: use one context per thread)");
    /* the first call's numbers are untouched */
    assert_memory_equal(&got, &expected, sizeof got);
    /* and the context is free again afterwards */
    assert_int_equal(galann_context_set_allreduce(c, NULL, NULL), GALANN_OK);
    expect_status(galann_cost(c, f->model, f->data, LAMBDA, &got), GALANN_OK);
    assert_memory_equal(&got, &expected, sizeof got);
    galann_context_free(c);
    galann_context_free(plain);
}

static void call_inside_a_call_same_thread_is_busy(void **state)
{
    check_nested_call_refused(*state, "reference", 0);
    check_nested_call_refused(*state, "blas", 0);
}

static void call_inside_a_call_other_thread_is_busy(void **state)
{
    check_nested_call_refused(*state, "reference", 1);
    check_nested_call_refused(*state, "blas", 1);
}

/* --------------------------------------------- two threads hammering */

typedef struct hammer {
    galann_context *c;
    const fixture *f;
    int rounds;
    int set_threads;       /* also change the thread count now and then */
    const double *expected_cost, *expected_grad;
    int ok, busy, other, wrong;
    int other_status;
    char other_message[512];
} hammer;

static void record(hammer *h, int status)
{
    if (status == GALANN_OK) {
        h->ok++;
    } else if (status == GALANN_ERR_BUSY) {
        h->busy++;
    } else {
        h->other++;
        h->other_status = status;
        snprintf(h->other_message, sizeof h->other_message, "%s", galann_last_error());
    }
}

/* Until rounds calls have succeeded: a busy call is tried again at once
 * (a bounded number of times), so that the two threads' calls interleave. */
static void *hammer_thread(void *arg)
{
    hammer *h = arg;
    double grad[N_PARAMS];
    for (long r = 0, attempts = 0; h->ok < h->rounds && h->other == 0 && attempts < 10000000; attempts++) {
        double cost = 0.0;
        int status = galann_cost_gradient(h->c, h->f->model, h->f->data, LAMBDA, &cost, grad, N_PARAMS);
        record(h, status);
        if (status == GALANN_ERR_BUSY) {
            sched_yield();
            continue;
        }
        r++;
        if (status == GALANN_OK && (memcmp(&cost, h->expected_cost, sizeof cost) != 0 ||
                                    memcmp(grad, h->expected_grad, sizeof grad) != 0))
            h->wrong++;
        galann_profile p = { .struct_size = sizeof p };
        status = galann_context_profile(h->c, &p);
        if (status != GALANN_OK && status != GALANN_ERR_BUSY)
            record(h, status);
        /* blas gives the same bits for any thread count */
        if (h->set_threads && r % 8 == 0) {
            status = galann_context_set_threads(h->c, 1 + (r / 8) % 2);
            if (status != GALANN_OK && status != GALANN_ERR_BUSY)
                record(h, status);
        }
    }
    return NULL;
}

static void hammer_one_context(const fixture *f, const char *backend, int rounds)
{
    galann_context *c = new_context(backend);
    if (!c) {
        if (strcmp(backend, "opencl") == 0)
            skip_without_opencl_device("no usable OpenCL device");
        else
            skip_test("backend %s not usable here", backend);
        return;
    }
    double cost, grad[N_PARAMS];
    assert_int_equal(galann_cost_gradient(c, f->model, f->data, LAMBDA, &cost, grad, N_PARAMS), GALANN_OK);

    hammer h[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset(&h[i], 0, sizeof h[i]);
        h[i].c = c;
        h[i].f = f;
        h[i].rounds = rounds;
        h[i].set_threads = i == 1 && strcmp(backend, "blas") == 0;
        h[i].expected_cost = &cost;
        h[i].expected_grad = grad;
        assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int ok = h[0].ok + h[1].ok, busy = h[0].busy + h[1].busy;
    print_message("%s: %d calls right (%d + %d), %d refused busy, %d wrong, %d other\n", backend, ok, h[0].ok,
                  h[1].ok, busy, h[0].wrong + h[1].wrong, h[0].other + h[1].other);
    for (int i = 0; i < 2; i++) {
        if (h[i].other)
            fail_msg("thread %d: status %s: %s", i, galann_strerror(h[i].other_status), h[i].other_message);
        assert_int_equal(h[i].wrong, 0);
    }
    assert_int_equal(h[0].ok, rounds);
    assert_int_equal(h[1].ok, rounds);
    /* afterwards the context is whole: one more call, the same bits */
    double again = 0.0;
    assert_int_equal(galann_cost(c, f->model, f->data, LAMBDA, &again), GALANN_OK);
    assert_memory_equal(&again, &cost, sizeof again);
    galann_context_free(c);
}

static void two_threads_on_one_reference_context_get_right_numbers_or_busy(void **state)
{
    hammer_one_context(*state, "reference", 300);
}

static void two_threads_on_one_blas_context_get_right_numbers_or_busy(void **state)
{
    hammer_one_context(*state, "blas", 300);
}

static void two_threads_on_one_opencl_context_get_right_numbers_or_busy(void **state)
{
    hammer_one_context(*state, "opencl", 60);
}

static void busy_has_its_own_text(void **state)
{
    (void)state;
    assert_int_equal(GALANN_ERR_BUSY, 11);
    assert_string_equal(galann_strerror(GALANN_ERR_BUSY), "context busy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(busy_has_its_own_text),
        cmocka_unit_test_setup_teardown(call_inside_a_call_same_thread_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(call_inside_a_call_other_thread_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(two_threads_on_one_reference_context_get_right_numbers_or_busy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(two_threads_on_one_blas_context_get_right_numbers_or_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(two_threads_on_one_opencl_context_get_right_numbers_or_busy, setup,
                                        teardown),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
