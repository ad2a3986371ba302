/*
 * test-reproducible.c -- the same bits for any thread count and any split
 * of the rows over cooperating processes.
 *
 * The blas backend's cost, gradient, outputs and 40-iteration fit
 * trajectory are compared with memcmp for 1, 2, 3, 4 and 7 threads, on the
 * synthetic set and on the galaxy data. Data-parallel contexts
 * (galann_context_set_allreduce) are tested without MPI: "processes" are
 * threads, each with its own context and share, and the allreduce callback
 * sums their buffers through a barrier; the combined results must equal a
 * single context holding every row, bit for bit, also with empty shares.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

static const int thread_counts[] = { 1, 2, 3, 4, 7 };
#define N_THREAD_COUNTS (sizeof thread_counts / sizeof thread_counts[0])
#define TRAJECTORY 40

typedef struct evaluation {
    double cost;
    double *gradient;
    double *outputs;
    double trajectory[2 * TRAJECTORY]; /* train cost and accuracy per iteration */
    size_t iterations;
} evaluation;

static int record(void *user, const galann_fit_progress *p)
{
    evaluation *e = user;
    if (p->iteration >= 1 && p->iteration <= TRAJECTORY) {
        e->trajectory[2 * (p->iteration - 1)] = p->train_cost;
        e->trajectory[2 * (p->iteration - 1) + 1] = p->train_accuracy;
        e->iterations = p->iteration;
    }
    return 0;
}

static void evaluate_with_threads(const galann_dataset *d, int threads, int fit, evaluation *e)
{
    galann_context *ctx = NULL;
    galann_model *model = NULL;
    size_t sizes[] = { galann_dataset_n_features(d), 8, galann_dataset_n_labels(d) };
    expect_status(galann_context_new("blas", &ctx), GALANN_OK);
    expect_status(galann_context_set_threads(ctx, threads), GALANN_OK);
    expect_status(galann_model_new(sizes, 3, &model), GALANN_OK);
    expect_status(galann_model_init_random(model, 917), GALANN_OK);
    size_t n = galann_model_n_params(model), m = galann_dataset_n_samples(d);
    e->gradient = malloc(n * sizeof *e->gradient);
    e->outputs = malloc(m * sizeof(double) * sizes[2]);
    assert_non_null(e->gradient);
    assert_non_null(e->outputs);
    expect_status(galann_cost_gradient(ctx, model, d, 1.0, &e->cost, e->gradient, n), GALANN_OK);
    expect_status(galann_predict_proba(ctx, model, d, e->outputs, m * sizes[2]), GALANN_OK);
    memset(e->trajectory, 0, sizeof e->trajectory);
    e->iterations = 0;
    if (fit) {
        galann_fit_options o;
        galann_fit_options_init(&o);
        o.max_iterations = TRAJECTORY;
        o.progress = record;
        o.progress_user = e;
        expect_status(galann_fit(ctx, model, d, &o, NULL), GALANN_OK);
        assert_int_equal(e->iterations, TRAJECTORY);
    }
    galann_model_free(model);
    galann_context_free(ctx);
}

static void free_evaluation(evaluation *e)
{
    free(e->gradient);
    free(e->outputs);
}

/* Every thread count gives exactly thread count 1's bits. */
static void expect_thread_invariance(const galann_dataset *d, int fit)
{
    size_t n = (galann_dataset_n_features(d) + 1) * 8 + 9 * galann_dataset_n_labels(d);
    size_t outputs = galann_dataset_n_samples(d) * galann_dataset_n_labels(d);
    evaluation one;
    evaluate_with_threads(d, 1, fit, &one);
    for (size_t t = 1; t < N_THREAD_COUNTS; t++) {
        evaluation other;
        evaluate_with_threads(d, thread_counts[t], fit, &other);
        if (memcmp(&one.cost, &other.cost, sizeof one.cost) != 0)
            fail_msg("cost with %d threads %a != %a with 1", thread_counts[t], other.cost, one.cost);
        for (size_t p = 0; p < n; p++) {
            if (memcmp(&one.gradient[p], &other.gradient[p], sizeof(double)) != 0)
                fail_msg("gradient[%zu] with %d threads %a != %a with 1", p, thread_counts[t], other.gradient[p],
                         one.gradient[p]);
        }
        assert_memory_equal(one.outputs, other.outputs, outputs * sizeof(double));
        for (size_t i = 0; i < 2 * TRAJECTORY; i++) {
            if (memcmp(&one.trajectory[i], &other.trajectory[i], sizeof(double)) != 0)
                fail_msg("iteration %zu with %d threads: %a != %a with 1", i / 2 + 1, thread_counts[t],
                         other.trajectory[i], one.trajectory[i]);
        }
        free_evaluation(&other);
    }
    free_evaluation(&one);
}

static void blas_is_bit_identical_for_1_2_3_4_7_threads_on_synthetic_data(void **state)
{
    (void)state;
    galann_dataset *d = NULL;
    expect_status(galann_dataset_synthesize(2700, 1, &d), GALANN_OK);
    expect_thread_invariance(d, 1);
    galann_dataset_free(d);
}

static void blas_is_bit_identical_for_1_2_3_4_7_threads_on_galaxy_data(void **state)
{
    (void)state;
    const galann_dataset *train = galaxy_train();
    if (!train) {
        skip_without_data("galaxy data absent");
        return;
    }
    expect_thread_invariance(train, 1);
}

/* ---- "processes" as threads, for data-parallel contexts ---- */

#define MAX_PROCESSES 8

typedef struct process_group {
    int size;
    pthread_barrier_t barrier;
    int64_t *buffers[MAX_PROCESSES];
} process_group;

typedef struct process {
    process_group *group;
    int rank;
    galann_dataset *share;
    double cost;
    double *gradient;
    double accuracy;
    double *theta_after_fit;
    int status;
} process;

static int allreduce_through_barrier(void *user, int64_t *values, size_t count, galann_reduce_op op)
{
    process *me = user;
    process_group *g = me->group;
    int64_t *result = malloc(count * sizeof *result);
    if (!result)
        return -1;
    g->buffers[me->rank] = values;
    pthread_barrier_wait(&g->barrier);
    for (size_t i = 0; i < count; i++) {
        int64_t v = g->buffers[0][i];
        for (int r = 1; r < g->size; r++)
            v = op == GALANN_REDUCE_SUM ? v + g->buffers[r][i] : (g->buffers[r][i] > v ? g->buffers[r][i] : v);
        result[i] = v;
    }
    pthread_barrier_wait(&g->barrier);
    memcpy(values, result, count * sizeof *values);
    free(result);
    return 0;
}

static void *run_process(void *arg)
{
    process *me = arg;
    galann_context *ctx = NULL;
    galann_model *model = NULL;
    size_t sizes[] = { 1024, 8, 3 };
    me->status = galann_context_new("blas", &ctx);
    if (me->status == GALANN_OK)
        me->status = galann_context_set_threads(ctx, 1 + me->rank % 2);
    if (me->status == GALANN_OK)
        me->status = galann_context_set_allreduce(ctx, allreduce_through_barrier, me);
    if (me->status == GALANN_OK)
        me->status = galann_model_new(sizes, 3, &model);
    if (me->status == GALANN_OK)
        me->status = galann_model_init_random(model, 917);
    size_t n = model ? galann_model_n_params(model) : 0;
    if (me->status == GALANN_OK)
        me->status = galann_cost_gradient(ctx, model, me->share, 1.0, &me->cost, me->gradient, n);
    if (me->status == GALANN_OK)
        me->status = galann_accuracy(ctx, model, me->share, &me->accuracy);
    galann_fit_options o;
    galann_fit_options_init(&o);
    o.max_iterations = 10;
    if (me->status == GALANN_OK)
        me->status = galann_fit(ctx, model, me->share, &o, NULL);
    if (me->status == GALANN_OK)
        me->status = galann_model_get_params(model, me->theta_after_fit, n);
    galann_model_free(model);
    galann_context_free(ctx);
    return NULL;
}

/* Split d at the given chunk-aligned row boundaries into size shares, run
 * each share in its own "process", and compare with one context. */
static void expect_shares_match_one_process(const galann_dataset *d, const size_t *bounds, int size)
{
    size_t n = 1025 * 8 + 9 * 3, features = galann_dataset_n_features(d);
    evaluation whole;
    evaluate_with_threads(d, 1, 0, &whole);
    galann_context *ctx = NULL;
    galann_model *model = NULL;
    size_t sizes[] = { 1024, 8, 3 };
    double accuracy, *theta = malloc(n * sizeof *theta);
    assert_non_null(theta);
    expect_status(galann_context_new("blas", &ctx), GALANN_OK);
    expect_status(galann_model_new(sizes, 3, &model), GALANN_OK);
    expect_status(galann_model_init_random(model, 917), GALANN_OK);
    expect_status(galann_accuracy(ctx, model, d, &accuracy), GALANN_OK);
    galann_fit_options o;
    galann_fit_options_init(&o);
    o.max_iterations = 10;
    expect_status(galann_fit(ctx, model, d, &o, NULL), GALANN_OK);
    expect_status(galann_model_get_params(model, theta, n), GALANN_OK);

    process_group g;
    g.size = size;
    pthread_barrier_init(&g.barrier, NULL, (unsigned)size);
    process procs[MAX_PROCESSES];
    pthread_t threads[MAX_PROCESSES];
    for (int r = 0; r < size; r++) {
        process *p = &procs[r];
        memset(p, 0, sizeof *p);
        p->group = &g;
        p->rank = r;
        p->gradient = malloc(n * sizeof *p->gradient);
        p->theta_after_fit = malloc(n * sizeof *p->theta_after_fit);
        assert_non_null(p->gradient);
        assert_non_null(p->theta_after_fit);
        size_t rows = bounds[r + 1] - bounds[r];
        expect_status(galann_dataset_new(rows ? galann_dataset_features(d) + bounds[r] * features : NULL,
                                         rows ? galann_dataset_labels(d) + bounds[r] : NULL, rows, features, 3,
                                         &p->share),
                      GALANN_OK);
    }
    for (int r = 0; r < size; r++)
        assert_int_equal(pthread_create(&threads[r], NULL, run_process, &procs[r]), 0);
    for (int r = 0; r < size; r++)
        pthread_join(threads[r], NULL);
    for (int r = 0; r < size; r++) {
        process *p = &procs[r];
        expect_status(p->status, GALANN_OK);
        if (memcmp(&p->cost, &whole.cost, sizeof p->cost) != 0)
            fail_msg("process %d of %d: cost %a != %a of one process", r, size, p->cost, whole.cost);
        assert_memory_equal(p->gradient, whole.gradient, n * sizeof(double));
        assert_memory_equal(&p->accuracy, &accuracy, sizeof accuracy);
        assert_memory_equal(p->theta_after_fit, theta, n * sizeof(double));
        galann_dataset_free(p->share);
        free(p->gradient);
        free(p->theta_after_fit);
    }
    pthread_barrier_destroy(&g.barrier);
    galann_model_free(model);
    galann_context_free(ctx);
    free(theta);
    free_evaluation(&whole);
}

static void data_parallel_shares_give_the_bits_of_one_process(void **state)
{
    (void)state;
    galann_dataset *d = NULL;
    expect_status(galann_dataset_synthesize(2700, 3, &d), GALANN_OK);
    size_t chunk = galann_sum_chunk_samples();
    assert_int_equal(chunk, 512);
    size_t two[] = { 0, 2 * chunk, 2700 };
    expect_shares_match_one_process(d, two, 2);
    /* uneven shares, and two processes with no rows at all */
    size_t five[] = { 0, chunk, chunk, 4 * chunk, 4 * chunk, 2700 };
    expect_shares_match_one_process(d, five, 5);
    galann_dataset_free(d);
}

static void empty_share_needs_a_data_parallel_context(void **state)
{
    (void)state;
    galann_dataset *d = NULL;
    galann_context *ctx = NULL;
    galann_model *model = NULL;
    size_t sizes[] = { 4, 2, 3 };
    double cost = 1.0;
    expect_status(galann_dataset_new(NULL, NULL, 0, 4, 3, &d), GALANN_OK);
    expect_status(galann_context_new("blas", &ctx), GALANN_OK);
    expect_status(galann_model_new(sizes, 3, &model), GALANN_OK);
    expect_status(galann_cost(ctx, model, d, 1.0, &cost), GALANN_ERR_INVALID);
    assert_non_null(strstr(galann_last_error(), "empty"));
    assert_true(cost == 1.0);
    galann_model_free(model);
    galann_context_free(ctx);
    galann_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blas_is_bit_identical_for_1_2_3_4_7_threads_on_synthetic_data),
        cmocka_unit_test(blas_is_bit_identical_for_1_2_3_4_7_threads_on_galaxy_data),
        cmocka_unit_test(data_parallel_shares_give_the_bits_of_one_process),
        cmocka_unit_test(empty_share_needs_a_data_parallel_context),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free_galaxy_data();
    return tests_exit_status(failed);
}
