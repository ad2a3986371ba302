/*
 * optimizer.c -- galann_minimize_cg, the nonlinear conjugate gradient of
 * scipy.optimize.fmin_cg (scipy's _minimize_cg), step for step.
 *
 * What it is for: minimise any smooth objective that returns f and its
 * gradient together, following the same iterates as fmin_cg so that a fit
 * reproduces the original program's recorded trajectory. The algorithm
 * (the reference model, ../shared/docs/reference-model.md, "Optimizer"):
 *
 *   f0, g0 at x0; p0 = -g0; the "previous" value f0 + ||g0||_2 / 2;
 *   while ||g_k||_inf > gtol and k < max_iterations:
 *     strong-Wolfe line search along p_k (linesearch.c), where a step is
 *     accepted only if ||g_{k+1}||_inf <= gtol or the Polak-Ribiere+
 *     direction p_{k+1} = -g_{k+1} + max(0, y.g_{k+1} / g_k.g_k) p_k is a
 *     sufficient descent direction, p_{k+1}.g_{k+1} <= -0.01 g_{k+1}.g_{k+1};
 *     x_{k+1} = x_k + alpha p_k.
 *
 * What it is not: a general optimizer; it has no options scipy lacks.
 *
 * Objective calls: scipy caches f and g for the last point only
 * (ScalarFunction) and evaluates both at every trial point; the objective
 * here returns both in one call, so one call per distinct trial point, and
 * the evaluation count equals scipy's function-call count.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"
#include "error.h"
#include "linesearch.h"
#include "report.h"

/* scipy rounds every product before it adds (numpy has no fused
 * multiply-add); keep the compiler from fusing them, whatever -std or
 * -march the build uses, or the last bits and then the trajectory change. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* gtol = 1e-5: fmin_cg's default, on the infinity norm of the gradient. */
#define DEFAULT_GTOL 1e-5
/* c1 = 1e-4, c2 = 0.4: fmin_cg's defaults for the strong Wolfe conditions. */
#define DEFAULT_C1 1e-4
#define DEFAULT_C2 0.4
/* 200 * n: fmin_cg's default maxiter. */
#define ITERATIONS_PER_PARAMETER 200
/* sigma_3 = 0.01: _minimize_cg's sufficient-descent constant (Gilbert &
 * Nocedal 1992). */
#define SUFFICIENT_DESCENT 0.01

/* The work vectors the iterations use, allocated once as one block. */
enum { V_G, V_P, V_P_NEXT, V_X_EVAL, V_G_EVAL, V_X_TRIAL, V_G_TRIAL, V_COUNT };

/* One run of the minimizer: the iterate, the search direction, and the
 * cache of the last evaluated point. */
struct cg_run {
    galann_objective_fn fn;
    void *user;
    size_t n;
    double gtol;

    double *x;          /* x_k: the caller's array, always the last accepted point */
    double f;           /* f(x_k) */
    double *g;          /* g_k */
    double *p;          /* p_k */
    double *p_next;     /* p_{k+1} for the step last checked */
    double delta;       /* g_k . g_k */

    double *x_eval;     /* the point evaluated last, with its f and g */
    double f_eval;
    double *g_eval;
    int have_eval;
    double *x_trial;    /* where the next call goes */
    double *g_trial;

    size_t evaluations;
    int stop_reason;    /* set when an evaluation ends the run */
};

/* ------------------------------------------------------- vector kernels */

/* sum_i a_i b_i, in index order */
static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* max_i |v_i| (numpy's amax(abs(v)): a NaN wins) */
static double max_abs(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = fabs(v[i]);
        if (a > m || isnan(a))
            m = a;
        if (isnan(m))
            break;
    }
    return m;
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* numpy.array_equal: every element ==, so -0 equals 0 */
static int same_point(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static void swap_vectors(double **a, double **b)
{
    double *t = *a;
    *a = *b;
    *b = t;
}

/* ------------------------------------------------------- evaluations */

/* Evaluate the objective at x_trial unless that is the point evaluated
 * last; afterwards x_eval, f_eval, g_eval describe x_trial. */
static int evaluate_trial_point(struct cg_run *run)
{
    double f = NAN;
    int status;

    if (run->have_eval && same_point(run->x_trial, run->x_eval, run->n))
        return GALANN_OK;

    status = run->fn(run->user, run->x_trial, run->n, &f, run->g_trial);
    run->evaluations++;
    if (status != GALANN_OK) {
        /* an objective that found its own value non-finite says so */
        run->stop_reason = status == GALANN_ERR_NONFINITE ? GALANN_STOP_NONFINITE : GALANN_STOP_ERROR;
        /* keep the objective's own message if it left one */
        if (galann_last_error()[0] == '\0')
            galann_error_set(status, "galann_minimize_cg: the objective returned status %d (%s) at evaluation %zu",
                             status, galann_strerror(status), run->evaluations);
        return status;
    }
    if (!isfinite(f) || !all_finite(run->g_trial, run->n)) {
        run->stop_reason = GALANN_STOP_NONFINITE;
        return galann_error_set(GALANN_ERR_NONFINITE,
                                "galann_minimize_cg: the objective returned a non-finite %s at evaluation %zu",
                                isfinite(f) ? "gradient" : "value", run->evaluations);
    }
    swap_vectors(&run->x_trial, &run->x_eval);
    swap_vectors(&run->g_trial, &run->g_eval);
    run->f_eval = f;
    run->have_eval = 1;
    return GALANN_OK;
}

/* phi(alpha) = f(x_k + alpha p_k) and phi'(alpha) = g(x_k + alpha p_k) . p_k */
static int evaluate_along_direction(void *ctx, double alpha, double *phi, double *dphi)
{
    struct cg_run *run = ctx;
    int status;

    /* x_k + alpha p_k, rounded as numpy does: product, then sum */
    for (size_t i = 0; i < run->n; i++)
        run->x_trial[i] = run->x[i] + alpha * run->p[i];
    status = evaluate_trial_point(run);
    if (status != GALANN_OK)
        return status;
    *phi = run->f_eval;
    *dphi = dot(run->g_eval, run->p, run->n);
    return GALANN_OK;
}

/* ------------------------------------------------- Polak-Ribiere+ step */

/* p_next = -g1 + beta p_k with beta = max(0, (g1 - g_k) . g1 / g_k . g_k),
 * for g1 the gradient evaluated last. */
static void compute_polak_ribiere_direction(struct cg_run *run)
{
    const double *g1 = run->g_eval;
    double yg = 0.0, ratio, beta;
    size_t i;

    for (i = 0; i < run->n; i++) {
        double y = g1[i] - run->g[i];
        yg += y * g1[i];
    }
    ratio = yg / run->delta;
    beta = ratio > 0 ? ratio : 0.0; /* Python's max(0, ratio): NaN gives 0 */
    for (i = 0; i < run->n; i++)
        run->p_next[i] = -g1[i] + beta * run->p[i];
}

/* scipy's descent_condition: Polak-Ribiere+ needs an explicit sufficient
 * descent check, which strong Wolfe does not guarantee (Gilbert & Nocedal,
 * SIAM J. Optim. 2, 1992). A step that converges is always taken. */
static int step_gives_sufficient_descent(void *ctx, double alpha, int *accepted)
{
    struct cg_run *run = ctx;
    double phi, dphi;
    int status;

    /* the searches ask only about the step they evaluated last, so this
     * finds it in the cache and calls nothing */
    status = evaluate_along_direction(run, alpha, &phi, &dphi);
    if (status != GALANN_OK)
        return status;
    compute_polak_ribiere_direction(run);
    if (max_abs(run->g_eval, run->n) <= run->gtol) {
        *accepted = 1;
        return GALANN_OK;
    }
    *accepted = dot(run->p_next, run->g_eval, run->n) <= -SUFFICIENT_DESCENT * dot(run->g_eval, run->g_eval, run->n);
    return GALANN_OK;
}

/* Make the step the new iterate: x, f, g, p move on. */
static int accept_step(struct cg_run *run, double alpha)
{
    double phi, dphi;
    int status = evaluate_along_direction(run, alpha, &phi, &dphi);
    if (status != GALANN_OK)
        return status;
    compute_polak_ribiere_direction(run);
    memcpy(run->x, run->x_eval, run->n * sizeof *run->x);
    memcpy(run->g, run->g_eval, run->n * sizeof *run->g);
    swap_vectors(&run->p, &run->p_next);
    run->f = run->f_eval;
    return GALANN_OK;
}

/* ------------------------------------------------------------ options */

GALANN_API void galann_cg_options_init_size(galann_cg_options *opts, size_t size)
{
    if (opts == NULL || size < sizeof opts->struct_size)
        return;
    galann_cg_options defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.max_iterations = 0;
    defaults.gtol = DEFAULT_GTOL;
    defaults.c1 = DEFAULT_C1;
    defaults.c2 = DEFAULT_C2;
    defaults.progress = NULL;
    defaults.progress_user = NULL;
    /* write no further than the caller's struct */
    defaults.struct_size = size < sizeof defaults ? size : sizeof defaults;
    memcpy(opts, &defaults, defaults.struct_size);
}

GALANN_API const char *galann_stop_reason_string(int reason)
{
    switch (reason) {
    case GALANN_STOP_CONVERGED: return "converged: gradient norm below gtol";
    case GALANN_STOP_MAX_ITERATIONS: return "maximum number of iterations reached";
    case GALANN_STOP_PRECISION_LOSS: return "desired error not necessarily achieved due to precision loss";
    case GALANN_STOP_NONFINITE: return "the objective returned NaN or infinity";
    case GALANN_STOP_CANCELLED: return "cancelled by the progress callback";
    case GALANN_STOP_ERROR: return "the objective returned an error";
    case GALANN_STOP_NO_IMPROVEMENT: return "stopped early: the validation cost stopped improving";
    default: return "unknown stop reason";
    }
}

static int check_arguments(galann_objective_fn fn, const double *x, size_t n, const galann_cg_options *o)
{
    if (fn == NULL)
        return galann_error_set(GALANN_ERR_INVALID, "galann_minimize_cg: the objective is NULL");
    if (x == NULL)
        return galann_error_set(GALANN_ERR_INVALID, "galann_minimize_cg: x is NULL");
    if (n == 0)
        return galann_error_set(GALANN_ERR_INVALID, "galann_minimize_cg: n is 0");
    if (!(o->gtol >= 0))
        return galann_error_set(GALANN_ERR_INVALID, "galann_minimize_cg: gtol %g is not >= 0", o->gtol);
    if (!(0 < o->c1 && o->c1 < o->c2 && o->c2 < 1))
        return galann_error_set(GALANN_ERR_INVALID, "galann_minimize_cg: c1 %g and c2 %g do not satisfy 0 < c1 < c2 < 1",
                                o->c1, o->c2);
    if (n > SIZE_MAX / V_COUNT / sizeof(double))
        return galann_error_set(GALANN_ERR_NOMEM, "galann_minimize_cg: n %zu is too large", n);
    return GALANN_OK;
}

/* The caller's report, written only as far as its struct_size reaches
 * (report.h), so a caller built against an older, shorter report keeps
 * working. */
static void write_report(galann_cg_report *report, const struct cg_run *run, size_t iterations)
{
    if (report == NULL)
        return;
    galann_cg_report full;
    memset(&full, 0, sizeof full);
    full.struct_size = sizeof full;
    full.stop_reason = run->stop_reason;
    full.iterations = iterations;
    full.evaluations = run->evaluations;
    full.f = run->f;
    full.gradient_norm = run->g != NULL && !isnan(run->f) ? max_abs(run->g, run->n) : NAN;
    galann_report_write(report, &full, sizeof full);
}

/* ------------------------------------------------------------ the loop */

GALANN_API int galann_minimize_cg(galann_objective_fn fn, void *user, double *x, size_t n,
                                  const galann_cg_options *opts, galann_cg_report *report)
{
    galann_cg_options defaults;
    struct cg_run run;
    double *block = NULL;
    double old_f, gnorm;
    size_t k = 0, max_iterations;
    int status;

    galann_error_clear();
    memset(&run, 0, sizeof run);
    run.f = NAN;
    run.n = n;
    run.stop_reason = GALANN_STOP_ERROR;

    /* A report without a valid size is refused before anything is
     * written to it. */
    if (report != NULL &&
        galann_report_size_check("galann_minimize_cg", "galann_cg_report_init", report->struct_size) != GALANN_OK)
        return GALANN_ERR_INVALID;

    /* Options from an older, shorter struct keep the defaults of the
     * fields they lack; a longer one comes from a newer header. */
    galann_cg_options_init(&defaults);
    if (opts != NULL) {
        if (opts->struct_size == 0 || opts->struct_size > sizeof defaults) {
            status = galann_error_set(GALANN_ERR_INVALID, "galann_minimize_cg: options struct_size %zu is not valid "
                                      "(call galann_cg_options_init)", opts->struct_size);
            goto fail;
        }
        memcpy(&defaults, opts, opts->struct_size);
    }
    opts = &defaults;
    status = check_arguments(fn, x, n, opts);
    if (status != GALANN_OK)
        goto fail;

    max_iterations = opts->max_iterations;
    if (max_iterations == 0)
        max_iterations = n > SIZE_MAX / ITERATIONS_PER_PARAMETER ? SIZE_MAX : ITERATIONS_PER_PARAMETER * n;

    block = malloc(V_COUNT * n * sizeof *block);
    if (block == NULL) {
        status = galann_error_set(GALANN_ERR_NOMEM, "galann_minimize_cg: cannot allocate %zu work vectors of %zu",
                                  (size_t)V_COUNT, n);
        goto fail;
    }
    run.fn = fn;
    run.user = user;
    run.gtol = opts->gtol;
    run.x = x;
    run.g = block + V_G * n;
    run.p = block + V_P * n;
    run.p_next = block + V_P_NEXT * n;
    run.x_eval = block + V_X_EVAL * n;
    run.g_eval = block + V_G_EVAL * n;
    run.x_trial = block + V_X_TRIAL * n;
    run.g_trial = block + V_G_TRIAL * n;

    /* f0, g0 */
    memcpy(run.x_trial, x, n * sizeof *x);
    status = evaluate_trial_point(&run);
    if (status != GALANN_OK) {
        run.g = NULL; /* nothing valid to report */
        goto fail;
    }
    run.f = run.f_eval;
    memcpy(run.g, run.g_eval, n * sizeof *run.g);
    for (size_t i = 0; i < n; i++)
        run.p[i] = -run.g[i];
    /* the "previous" value that makes the first trial step move ~1 in x */
    old_f = run.f + sqrt(dot(run.g, run.g, n)) / 2;
    gnorm = max_abs(run.g, n);

    while (gnorm > opts->gtol && k < max_iterations) {
        linesearch_line line = { evaluate_along_direction, step_gives_sufficient_descent, &run };
        linesearch_outcome found;
        double f_before = run.f;

        run.delta = dot(run.g, run.g, n);
        status = linesearch_strong_wolfe(&line, run.f, dot(run.g, run.p, n), old_f, opts->c1, opts->c2, &found);
        if (status != GALANN_OK)
            goto fail;
        if (found.result == LINESEARCH_FAILED) {
            run.stop_reason = GALANN_STOP_PRECISION_LOSS;
            break;
        }
        status = accept_step(&run, found.alpha);
        if (status != GALANN_OK)
            goto fail;
        old_f = f_before;
        gnorm = max_abs(run.g, n);
        k++;

        if (opts->progress != NULL
            && opts->progress(opts->progress_user, k, run.x, n, run.f, run.g, run.evaluations) != 0) {
            run.stop_reason = GALANN_STOP_CANCELLED;
            status = galann_error_set(GALANN_ERR_CANCELLED,
                                      "galann_minimize_cg: cancelled by the progress callback at iteration %zu", k);
            goto fail;
        }
    }
    if (run.stop_reason != GALANN_STOP_PRECISION_LOSS)
        run.stop_reason = gnorm <= opts->gtol ? GALANN_STOP_CONVERGED : GALANN_STOP_MAX_ITERATIONS;
    status = GALANN_OK;

fail:
    write_report(report, &run, k);
    free(block);
    return status;
}
