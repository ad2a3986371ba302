/*
 * compute.c -- cost, gradient, predictions and the gradient check.
 *
 * The backends compute the data term; this file checks arguments, adds the
 * regularisation term (lambda / 2m) sum Theta[:, 1:]^2 and its gradient,
 * and turns output activations into class predictions.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compute.h"
#include "attachment.h"
#include "combine.h"
#include "context.h"
#include "dataset.h"
#include "error.h"
#include "model.h"

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

static int check_shapes(const char *who, const galann_context *c, const galann_model *m, const galann_dataset *d)
{
    if (!c || !m || !d)
        return galann_error_set(GALANN_ERR_INVALID, "%s: context, model or dataset is NULL", who);
    if (m->sizes[0] != d->n)
        return galann_error_set(GALANN_ERR_DIMENSION, "%s: the model takes %zu inputs, the dataset has %zu features",
                                who, m->sizes[0], d->n);
    if (m->sizes[m->n_layers - 1] != d->k)
        return galann_error_set(GALANN_ERR_DIMENSION, "%s: the model has %zu outputs, the dataset has %zu labels", who,
                                m->sizes[m->n_layers - 1], d->k);
    return GALANN_OK;
}

/* J += (lambda / 2m) sum_l sum_{r, j>=1} Theta_l[r, j]^2 and
 * grad_l[r, j] += (lambda / m) Theta_l[r, j] for j >= 1. */
static void add_regularisation(const galann_net_view *net, double lambda, size_t m, double *cost, double *grad)
{
    /* compensated (Neumaier) sum: thousands of squares, and the optimizer
     * is sensitive to the last bits of the cost */
    double sum_of_squares = 0.0, carry = 0.0;
    const double *theta = net->theta;
    double scale = lambda / (double)m;
    for (size_t l = 1; l < net->n_layers; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1] + 1;
        for (size_t r = 0; r < rows; r++) {
            const double *row = theta + r * cols;
            for (size_t j = 1; j < cols; j++) {
                double square = row[j] * row[j], t = sum_of_squares + square;
                carry += fabs(sum_of_squares) >= square ? (sum_of_squares - t) + square : (square - t) + sum_of_squares;
                sum_of_squares = t;
                if (grad)
                    grad[r * cols + j] += scale * row[j];
            }
        }
        theta += rows * cols;
        if (grad)
            grad += rows * cols;
    }
    if (cost)
        *cost += lambda / (2.0 * (double)m) * (sum_of_squares + carry);
}

static int evaluate_claimed(const char *who, galann_context *c, const galann_model *m, const galann_dataset *d,
                            const galann_evaluation *e)
{
    int status = check_shapes(who, c, m, d);
    if (status != GALANN_OK)
        return status;
    if (!(e->lambda >= 0.0) || !isfinite(e->lambda))
        return galann_error_set(GALANN_ERR_INVALID, "%s: lambda must be finite and >= 0, got %g", who, e->lambda);
    if (d->m == 0 && !c->allreduce)
        return galann_error_set(GALANN_ERR_INVALID, "%s: the dataset is empty (an empty share needs a "
                                "data-parallel context)", who);

    galann_eval_request req;
    memset(&req, 0, sizeof req);
    req.net = galann_model_view(m);
    if (e->theta)
        req.net.theta = e->theta;
    req.data = galann_dataset_view(d);
    int want_sums = e->cost || e->gradient;
    size_t correct = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    double combine_seconds = 0.0;
    if (c->ops->exact_sums && want_sums) {
        status = galann_context_sums(c, m->n_params, &req.sums);
        if (c->profiling)
            combine_seconds += seconds_since(&start);
        if (status != GALANN_OK)
            return status;
        req.cost_wanted = e->cost != NULL;
        req.gradient_wanted = e->gradient != NULL;
        /* alone, the backend may round in parallel; across processes the
         * sums must stay exact until every process's are in */
        if (!c->allreduce)
            req.rounded = c->rounded;
    } else {
        req.cost = e->cost;
        req.gradient = e->gradient;
    }
    req.outputs = e->outputs;
    req.n_correct = e->n_correct ? &correct : NULL;
    /* an empty share has nothing to compute, but still takes part below */
    if (d->m > 0) {
        /* the samples are immutable; only the cache beside them changes */
        galann_attachment_list *cache = (galann_attachment_list *)&d->attachments;
        status = galann_attachment_for(cache, &c->attachments, c->ops, c->state, &req.data, &req.data.attachment);
        if (status == GALANN_OK)
            status = c->ops->evaluate(c->state, &req);
        c->evaluations++;
    } else if (e->cost || e->gradient) {
        if (e->cost)
            *e->cost = 0.0;
        if (e->gradient)
            memset(e->gradient, 0, m->n_params * sizeof *e->gradient);
    }
    size_t m_total = d->m;
    galann_combine_job job = { who, status, want_sums, req.sums, req.rounded, m->n_params, d->m, e->cost,
                               e->gradient, e->n_correct ? &correct : NULL, &m_total };
    clock_gettime(CLOCK_MONOTONIC, &end);
    status = galann_combine(c, &job);
    if (c->profiling)
        combine_seconds += seconds_since(&end);
    /* the evaluation's time includes the combination (across processes too) */
    c->evaluate_seconds += seconds_since(&start);
    c->combine_seconds += combine_seconds;
    if (status != GALANN_OK)
        return status;
    if (e->n_correct)
        *e->n_correct = correct;
    if (e->n_samples)
        *e->n_samples = m_total;

    if (e->cost || e->gradient)
        add_regularisation(&req.net, e->lambda, m_total, e->cost, e->gradient);
    if (e->cost && !isfinite(*e->cost))
        return galann_error_set(GALANN_ERR_NONFINITE, "%s: the cost is not finite (weights too large?)", who);
    if (e->gradient) {
        for (size_t i = 0; i < m->n_params; i++) {
            if (!isfinite(e->gradient[i]))
                return galann_error_set(GALANN_ERR_NONFINITE, "%s: gradient component %zu is not finite", who, i);
        }
    }
    if (e->outputs) {
        /* NaN outputs (weights so large that +inf meets -inf) have no argmax */
        for (size_t i = 0; i < d->m * d->k; i++) {
            if (isnan(e->outputs[i]))
                return galann_error_set(GALANN_ERR_NONFINITE, "%s: output %zu of sample %zu is NaN (weights too "
                                        "large?)", who, i % d->k, i / d->k);
        }
    }
    return GALANN_OK;
}

/* One evaluation holds the context throughout: a concurrent call gets
 * GALANN_ERR_BUSY (context.c). */
int galann_evaluate(const char *who, galann_context *c, const galann_model *m, const galann_dataset *d,
                    const galann_evaluation *e)
{
    int status = galann_context_enter(c, who);
    if (status != GALANN_OK)
        return status;
    status = evaluate_claimed(who, c, m, d, e);
    galann_context_leave(c);
    return status;
}

static int check_output(const char *who, const void *p)
{
    if (!p)
        return galann_error_set(GALANN_ERR_INVALID, "%s: output pointer is NULL", who);
    return GALANN_OK;
}

static int check_gradient_length(const char *who, const galann_model *m, const double *grad, size_t n)
{
    if (!grad)
        return galann_error_set(GALANN_ERR_INVALID, "%s: gradient buffer is NULL", who);
    if (m && n != m->n_params)
        return galann_error_set(GALANN_ERR_DIMENSION, "%s: gradient buffer holds %zu values, the model has %zu "
                                "parameters", who, n, m->n_params);
    return GALANN_OK;
}

GALANN_API int galann_cost(galann_context *c, const galann_model *m, const galann_dataset *d, double lambda,
                           double *cost)
{
    galann_error_clear();
    int status = check_output("galann_cost", cost);
    if (status != GALANN_OK)
        return status;
    galann_evaluation e = { NULL, lambda, cost, NULL, NULL, NULL, NULL };
    return galann_evaluate("galann_cost", c, m, d, &e);
}

GALANN_API int galann_gradient(galann_context *c, const galann_model *m, const galann_dataset *d, double lambda,
                               double *grad, size_t n)
{
    galann_error_clear();
    int status = check_gradient_length("galann_gradient", m, grad, n);
    if (status != GALANN_OK)
        return status;
    galann_evaluation e = { NULL, lambda, NULL, grad, NULL, NULL, NULL };
    return galann_evaluate("galann_gradient", c, m, d, &e);
}

GALANN_API int galann_cost_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                                    double lambda, double *cost, double *grad, size_t n)
{
    galann_error_clear();
    int status = check_output("galann_cost_gradient", cost);
    if (status == GALANN_OK)
        status = check_gradient_length("galann_cost_gradient", m, grad, n);
    if (status != GALANN_OK)
        return status;
    galann_evaluation e = { NULL, lambda, cost, grad, NULL, NULL, NULL };
    return galann_evaluate("galann_cost_gradient", c, m, d, &e);
}

static int check_sample_buffer(const char *who, const galann_dataset *d, const void *buf, size_t n,
                               size_t per_sample)
{
    if (!buf || !d)
        return galann_error_set(GALANN_ERR_INVALID, "%s: dataset or output buffer is NULL", who);
    if (d->m > 0 && per_sample > SIZE_MAX / sizeof(double) / d->m)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: %zu x %zu outputs overflow memory", who, d->m, per_sample);
    if (n != d->m * per_sample)
        return galann_error_set(GALANN_ERR_DIMENSION, "%s: buffer holds %zu values, %zu are needed", who, n,
                                d->m * per_sample);
    return GALANN_OK;
}

GALANN_API int galann_predict_proba(galann_context *c, const galann_model *m, const galann_dataset *d,
                                    double *proba, size_t n)
{
    galann_error_clear();
    int status = check_sample_buffer("galann_predict_proba", d, proba, n, d ? d->k : 0);
    if (status != GALANN_OK)
        return status;
    galann_evaluation e = { NULL, 0.0, NULL, NULL, proba, NULL, NULL };
    return galann_evaluate("galann_predict_proba", c, m, d, &e);
}

GALANN_API int galann_predict(galann_context *c, const galann_model *m, const galann_dataset *d, int32_t *labels,
                              size_t n)
{
    galann_error_clear();
    int status = check_sample_buffer("galann_predict", d, labels, n, 1);
    if (status != GALANN_OK)
        return status;
    if (d->m > 0 && d->k > SIZE_MAX / sizeof(double) / d->m)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_predict: %zu x %zu outputs overflow memory", d->m, d->k);
    double *outputs = malloc((d->m ? d->m * d->k : 1) * sizeof *outputs);
    if (!outputs)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_predict: out of memory for %zu outputs", d->m * d->k);
    galann_evaluation e = { NULL, 0.0, NULL, NULL, outputs, NULL, NULL };
    status = galann_evaluate("galann_predict", c, m, d, &e);
    if (status == GALANN_OK) {
        for (size_t i = 0; i < d->m; i++) {
            const double *row = outputs + i * d->k;
            size_t best = 0;
            for (size_t j = 1; j < d->k; j++) {
                if (row[j] > row[best])
                    best = j;
            }
            labels[i] = (int32_t)best;
        }
    }
    free(outputs);
    return status;
}

GALANN_API int galann_accuracy(galann_context *c, const galann_model *m, const galann_dataset *d,
                               double *accuracy)
{
    galann_error_clear();
    int status = check_output("galann_accuracy", accuracy);
    if (status == GALANN_OK && !d)
        status = galann_error_set(GALANN_ERR_INVALID, "galann_accuracy: dataset is NULL");
    if (status != GALANN_OK)
        return status;
    /* through the outputs, so that NaN outputs are an error, not a class */
    int32_t *labels = malloc((d->m ? d->m : 1) * sizeof *labels);
    if (!labels)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_accuracy: out of memory for %zu labels", d->m);
    status = galann_predict(c, m, d, labels, d->m);
    /* a data-parallel context counts over every process; a failure on any
     * one is a failure on all */
    int64_t counts[3] = { 0, (int64_t)d->m, status != GALANN_OK };
    for (size_t i = 0; status == GALANN_OK && i < d->m; i++)
        counts[0] += labels[i] == d->y[i];
    if (c && c->allreduce) {
        int reduced = galann_sum_counts(c, counts, 3);
        if (status == GALANN_OK && reduced != GALANN_OK)
            status = reduced;
        if (status == GALANN_OK && counts[2] != 0)
            status = galann_error_set(GALANN_ERR_BACKEND, "another process failed in the same evaluation");
    }
    if (status == GALANN_OK && counts[1] == 0)
        status = galann_error_set(GALANN_ERR_INVALID, "the dataset is empty");
    if (status == GALANN_OK) {
        *accuracy = (double)counts[0] / (double)counts[1];
    } else {
        /* name this function in the message predict wrote */
        char detail[900];
        snprintf(detail, sizeof detail, "%s", galann_last_error());
        galann_error_set(status, "galann_accuracy: %s", detail);
    }
    free(labels);
    return status;
}

GALANN_API int galann_check_gradient(galann_context *c, const galann_model *m, const galann_dataset *d,
                                     double lambda, double h, size_t max_params, double *max_rel_error)
{
    static const char who[] = "galann_check_gradient";
    galann_error_clear();
    if (!m || !max_rel_error)
        return galann_error_set(GALANN_ERR_INVALID, "%s: model or result pointer is NULL", who);
    if (h == 0.0)
        h = 1e-5;
    if (!(h > 0.0) || !isfinite(h))
        return galann_error_set(GALANN_ERR_INVALID, "%s: step %g is not positive", who, h);
    size_t n = m->n_params;
    size_t count = (max_params == 0 || max_params > n) ? n : max_params;

    double *grad = malloc(n * sizeof *grad);
    double *theta = malloc(n * sizeof *theta);
    int status = GALANN_ERR_NOMEM;
    if (!grad || !theta) {
        galann_error_set(status, "%s: out of memory", who);
        goto done;
    }
    memcpy(theta, m->theta, n * sizeof *theta);
    galann_evaluation e = { theta, lambda, NULL, grad, NULL, NULL, NULL };
    status = galann_evaluate(who, c, m, d, &e);
    if (status != GALANN_OK)
        goto done;

    double worst = 0.0;
    for (size_t t = 0; t < count; t++) {
        /* evenly spread indices, always including the first and the last */
        size_t i = count == 1 ? 0 : (size_t)((double)t * (double)(n - 1) / (double)(count - 1));
        double saved = theta[i], plus, minus;
        theta[i] = saved + h;
        galann_evaluation ep = { theta, lambda, &plus, NULL, NULL, NULL, NULL };
        status = galann_evaluate(who, c, m, d, &ep);
        theta[i] = saved - h;
        galann_evaluation em = { theta, lambda, &minus, NULL, NULL, NULL, NULL };
        if (status == GALANN_OK)
            status = galann_evaluate(who, c, m, d, &em);
        theta[i] = saved;
        if (status != GALANN_OK)
            goto done;
        double fd = (plus - minus) / (2.0 * h);
        double scale = fmax(1.0, fmax(fabs(grad[i]), fabs(fd)));
        double rel = fabs(grad[i] - fd) / scale;
        if (rel > worst)
            worst = rel;
    }
    *max_rel_error = worst;

done:
    free(grad);
    free(theta);
    return status;
}
