/*
 * fit.c -- training a model: the conjugate-gradient minimizer on the
 * regularised cost, with per-iteration reporting and keep-best-by-
 * validation-cost, early stopping (patience) and a report-only test set,
 * as the original program's fmin_cg call and callback.
 *
 * The minimizer (optimizer.c) knows nothing of networks; this file is the
 * objective and the progress callback that connect it to a context, a
 * model and datasets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"
#include "compute.h"
#include "dataset.h"
#include "error.h"
#include "model.h"
#include "report.h"

typedef struct fit_run {
    galann_context *c;
    const galann_model *m;
    const galann_dataset *train;
    const galann_fit_options *opts;
    int keep_best;
    /* training accuracy is counted during each evaluation; remember the
     * point it belongs to, so the progress report can reuse it */
    double *last_x;
    size_t last_correct;
    size_t train_samples;   /* of the last evaluation: every process's when data-parallel */
    int have_last;
    double *best_x;
    double best_cost;
    size_t best_iteration;
    int stopped_early;      /* patience ran out: a normal end, not a cancel */
    int user_status;        /* status a failing evaluation inside progress returned */
    char user_message[512]; /* and its message, before the minimizer's cancel overwrote it */
} fit_run;

static int evaluate_training_objective(void *user, const double *x, size_t n, double *f, double *g)
{
    fit_run *run = user;
    size_t correct = 0;
    galann_evaluation e = { x, run->opts->lambda, f, g, NULL, &correct, &run->train_samples };
    int status = galann_evaluate("galann_fit", run->c, run->m, run->train, &e);
    if (status != GALANN_OK)
        return status;
    memcpy(run->last_x, x, n * sizeof *x);
    run->last_correct = correct;
    run->have_last = 1;
    return GALANN_OK;
}

static int training_accuracy_at(fit_run *run, const double *x, size_t n, double *accuracy)
{
    size_t correct = run->last_correct, samples = run->train_samples;
    if (!run->have_last || memcmp(run->last_x, x, n * sizeof *x) != 0) {
        galann_evaluation e = { x, 0.0, NULL, NULL, NULL, &correct, &samples };
        int status = galann_evaluate("galann_fit", run->c, run->m, run->train, &e);
        if (status != GALANN_OK)
            return status;
    }
    *accuracy = (double)correct / (double)samples;
    return GALANN_OK;
}

/* Cost and accuracy of x on a held-out set (the validation or the test set). */
static int held_out_at(fit_run *run, const char *what, const galann_dataset *d, const double *x, double *cost,
                       double *accuracy)
{
    size_t correct = 0, samples = 0;
    galann_evaluation e = { x, run->opts->lambda, cost, NULL, NULL, &correct, &samples };
    int status = galann_evaluate(what, run->c, run->m, d, &e);
    if (status == GALANN_OK)
        *accuracy = (double)correct / (double)samples;
    return status;
}

static double infinity_norm(const double *g, size_t n)
{
    double norm = 0.0;
    for (size_t i = 0; i < n; i++)
        norm = fmax(norm, fabs(g[i]));
    return norm;
}

static int report_iteration(void *user, size_t iteration, const double *x, size_t n, double f, const double *g,
                            size_t evaluations)
{
    fit_run *run = user;
    galann_fit_progress p;
    p.iteration = iteration;
    p.train_cost = f;
    p.gradient_norm = infinity_norm(g, n);
    p.evaluations = evaluations;
    p.validation_cost = NAN;
    p.validation_accuracy = NAN;
    p.test_cost = NAN;
    p.test_accuracy = NAN;
    int status = training_accuracy_at(run, x, n, &p.train_accuracy);
    if (status == GALANN_OK && run->opts->validation)
        status = held_out_at(run, "galann_fit (validation)", run->opts->validation, x, &p.validation_cost,
                             &p.validation_accuracy);
    if (status == GALANN_OK && run->opts->test)
        status = held_out_at(run, "galann_fit (test)", run->opts->test, x, &p.test_cost, &p.test_accuracy);
    if (status != GALANN_OK) {
        run->user_status = status;
        snprintf(run->user_message, sizeof run->user_message, "%s", galann_last_error());
        return 1;
    }
    if (run->keep_best && p.validation_cost < run->best_cost) {
        run->best_cost = p.validation_cost;
        run->best_iteration = iteration;
        memcpy(run->best_x, x, n * sizeof *x);
    }
    if (run->opts->progress && run->opts->progress(run->opts->progress_user, &p) != 0)
        return 1;
    if (run->opts->patience && iteration - run->best_iteration >= run->opts->patience) {
        run->stopped_early = 1;
        return 1;
    }
    return 0;
}

GALANN_API void galann_fit_options_init_size(galann_fit_options *opts, size_t size)
{
    if (!opts || size < sizeof opts->struct_size)
        return;
    galann_fit_options defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.lambda = 1.0;          /* the original's lmbda */
    defaults.max_iterations = 600;  /* the original's maxiter */
    defaults.gtol = 1e-5;           /* fmin_cg's default gtol */
    defaults.keep_best = -1;
    /* write no further than the caller's struct */
    defaults.struct_size = size < sizeof defaults ? size : sizeof defaults;
    memcpy(opts, &defaults, defaults.struct_size);
}

static int read_options(const galann_fit_options *given, galann_fit_options *o)
{
    galann_fit_options_init(o);
    if (given) {
        if (given->struct_size == 0 || given->struct_size > sizeof *o)
            return galann_error_set(GALANN_ERR_INVALID, "galann_fit: options.struct_size %zu is not valid (use "
                                    "galann_fit_options_init)", given->struct_size);
        memcpy(o, given, given->struct_size);
    }
    if (!(o->lambda >= 0.0) || !isfinite(o->lambda))
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: lambda must be finite and >= 0, got %g", o->lambda);
    if (!(o->gtol >= 0.0))
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: gtol must be >= 0, got %g", o->gtol);
    if (o->max_iterations == 0)
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: max_iterations must be at least 1");
    if (o->keep_best < -1 || o->keep_best > 1)
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: keep_best must be -1 (auto), 0 or 1, got %d",
                                o->keep_best);
    if (o->keep_best == 1 && !o->validation)
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: keep_best needs a validation dataset");
    if (o->patience && !o->validation)
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: patience needs a validation dataset");
    if (o->patience && o->keep_best == 0)
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: patience stops at the best validation cost, so "
                                "it needs keep_best (-1 or 1), not 0");
    return GALANN_OK;
}


GALANN_API int galann_fit(galann_context *c, galann_model *m, const galann_dataset *train,
                          const galann_fit_options *opts, galann_fit_report *report)
{
    galann_error_clear();
    if (!c || !m || !train)
        return galann_error_set(GALANN_ERR_INVALID, "galann_fit: context, model or training set is NULL");
    galann_fit_options o;
    int status = read_options(opts, &o);
    if (status == GALANN_OK && report)
        status = galann_report_size_check("galann_fit", "galann_fit_report_init", report->struct_size);
    if (status != GALANN_OK)
        return status;

    size_t n = m->n_params;
    fit_run run;
    memset(&run, 0, sizeof run);
    run.c = c;
    run.m = m;
    run.train = train;
    run.opts = &o;
    run.keep_best = o.keep_best == -1 ? o.validation != NULL : o.keep_best;
    run.best_cost = INFINITY;
    double *x = malloc(n * sizeof *x);
    run.last_x = malloc(n * sizeof *run.last_x);
    run.best_x = malloc(n * sizeof *run.best_x);
    if (!x || !run.last_x || !run.best_x) {
        status = galann_error_set(GALANN_ERR_NOMEM, "galann_fit: out of memory for %zu parameters", n);
        goto done;
    }
    memcpy(x, m->theta, n * sizeof *x);

    /* The starting point competes for "best" too, as the original's
     * initial J_test does. */
    if (run.keep_best) {
        double accuracy;
        status = held_out_at(&run, "galann_fit (validation)", o.validation, x, &run.best_cost, &accuracy);
        if (status != GALANN_OK)
            goto done;
        memcpy(run.best_x, x, n * sizeof *x);
    }

    galann_cg_options cg;
    galann_cg_options_init(&cg);
    cg.max_iterations = o.max_iterations;
    cg.gtol = o.gtol;
    cg.progress = report_iteration;
    cg.progress_user = &run;
    galann_cg_report cg_report;
    galann_cg_report_init(&cg_report);
    status = galann_minimize_cg(evaluate_training_objective, &run, x, n, &cg, &cg_report);
    if (run.stopped_early && status == GALANN_ERR_CANCELLED) {
        galann_error_clear();
        status = GALANN_OK;
        cg_report.stop_reason = GALANN_STOP_NO_IMPROVEMENT;
    }
    if (run.user_status != GALANN_OK) {
        status = galann_error_set(run.user_status, "%s", run.user_message);
        cg_report.stop_reason = status == GALANN_ERR_NONFINITE ? GALANN_STOP_NONFINITE : GALANN_STOP_ERROR;
    }
    int stopped_status = status;
    if (status != GALANN_OK && status != GALANN_ERR_CANCELLED && status != GALANN_ERR_NONFINITE)
        goto done;

    /* The model always ends with a usable result: the best iterate, or
     * the last accepted one. */
    memcpy(m->theta, run.keep_best ? run.best_x : x, n * sizeof *x);

    if (report) {
        galann_fit_report full;
        memset(&full, 0, sizeof full);
        full.stop_reason = cg_report.stop_reason;
        full.iterations = cg_report.iterations;
        full.evaluations = cg_report.evaluations;
        full.best_iteration = run.keep_best ? run.best_iteration : cg_report.iterations;
        full.validation_cost = NAN;
        full.validation_accuracy = NAN;
        full.test_cost = NAN;
        full.test_accuracy = NAN;
        size_t correct = 0, samples = 0;
        galann_evaluation e = { NULL, o.lambda, &full.train_cost, NULL, NULL, &correct, &samples };
        status = galann_evaluate("galann_fit", c, m, train, &e);
        full.train_accuracy = samples ? (double)correct / (double)samples : NAN;
        if (status == GALANN_OK && o.validation)
            status = held_out_at(&run, "galann_fit (validation)", o.validation, m->theta, &full.validation_cost,
                                 &full.validation_accuracy);
        if (status == GALANN_OK && o.test)
            status = held_out_at(&run, "galann_fit (test)", o.test, m->theta, &full.test_cost, &full.test_accuracy);
        if (status != GALANN_OK)
            goto done;
        full.struct_size = sizeof full;
        galann_report_write(report, &full, sizeof full);
    }
    status = stopped_status;
    if (status == GALANN_ERR_CANCELLED)
        galann_error_set(status, "galann_fit: cancelled by the progress callback after %zu iterations",
                         cg_report.iterations);

done:
    free(x);
    free(run.last_x);
    free(run.best_x);
    return status;
}
