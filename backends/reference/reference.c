/*
 * reference.c -- the reference backend: plain C, serial, one sample at a
 * time, as the original program computes.
 *
 * It is the compiled port of the original and the oracle the other
 * backends are tested against; it favours clarity over speed. Sums over
 * samples are compensated (Neumaier), so the oracle is as accurate as
 * double precision allows rather than as the running sum happens to be.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "../numerics.h"

typedef struct reference_state {
    int unused;
} reference_state;

/* Work space for one sample's pass through the network. */
typedef struct sample_workspace {
    double **a;      /* a[l]: activations of layer l (a[0] is the input) */
    double **delta;  /* delta[l]: errors of layer l, l >= 1 */
    const double **theta; /* theta[l]: Theta_l, s_l x (s_{l-1} + 1) */
    double **grad;   /* grad[l]: accumulated dJ/dTheta_l */
    double *carry;   /* compensation of every gradient sum, n_params */
    size_t n_params;
    void *memory;
} sample_workspace;

/* *sum += value, keeping the rounding error in *carry. */
static void add_compensated(double *sum, double *carry, double value)
{
    double t = *sum + value;
    if (fabs(*sum) >= fabs(value))
        *carry += (*sum - t) + value;
    else
        *carry += (value - t) + *sum;
    *sum = t;
}


static int make_workspace(const galann_net_view *net, double *grad, sample_workspace *w)
{
    size_t L = net->n_layers - 1, units = 0;
    for (size_t l = 0; l <= L; l++)
        units += net->sizes[l];
    size_t pointers = 4 * (L + 1), carries = grad ? net->n_params : 0;
    /* One block: the pointer tables, then a and delta for every layer,
     * then the gradient's compensation terms. */
    char *memory = calloc(1, pointers * sizeof(void *) + (2 * units + carries) * sizeof(double));
    if (!memory)
        return galann_error_set(GALANN_ERR_NOMEM, "reference backend: out of memory for work space");
    w->memory = memory;
    w->a = (double **)memory;
    w->delta = w->a + (L + 1);
    w->theta = (const double **)(w->delta + (L + 1));
    w->grad = (double **)(w->theta + (L + 1));
    double *values = (double *)(w->grad + (L + 1));
    const double *theta = net->theta;
    for (size_t l = 0; l <= L; l++) {
        w->a[l] = values;
        values += net->sizes[l];
        w->delta[l] = values;
        values += net->sizes[l];
        if (l == 0) {
            w->theta[0] = NULL;
            w->grad[0] = NULL;
            continue;
        }
        w->theta[l] = theta;
        w->grad[l] = grad ? grad + (theta - net->theta) : NULL;
        theta += net->sizes[l] * (net->sizes[l - 1] + 1);
    }
    w->carry = values;
    w->n_params = net->n_params;
    return GALANN_OK;
}

/* a_l = g(Theta_l [1; a_{l-1}]) for l = 1..L */
static void forward_sample(const galann_net_view *net, sample_workspace *w)
{
    for (size_t l = 1; l < net->n_layers; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        const double *in = w->a[l - 1];
        for (size_t r = 0; r < rows; r++) {
            const double *row = w->theta[l] + r * (cols + 1);
            double z = row[0];
            for (size_t j = 0; j < cols; j++)
                z += row[j + 1] * in[j];
            w->a[l][r] = galann_sigmoid(z);
            /* keep z for the stable cost of the output layer */
            w->delta[l][r] = z;
        }
    }
}

/* delta_L = a_L - y; delta_l = (Theta_{l+1}[:, 1:]^T delta_{l+1}) .* a_l (1 - a_l);
 * grad_l += delta_l [1; a_{l-1}]^T */
static void backward_sample(const galann_net_view *net, sample_workspace *w, int32_t label)
{
    size_t L = net->n_layers - 1;
    for (size_t c = 0; c < net->sizes[L]; c++)
        w->delta[L][c] = w->a[L][c] - (label == (int32_t)c ? 1.0 : 0.0);
    for (size_t l = L - 1; l >= 1; l--) {
        size_t units = net->sizes[l], next = net->sizes[l + 1];
        for (size_t j = 0; j < units; j++) {
            double back = 0.0;
            for (size_t r = 0; r < next; r++)
                back += w->theta[l + 1][r * (units + 1) + j + 1] * w->delta[l + 1][r];
            w->delta[l][j] = back * w->a[l][j] * (1.0 - w->a[l][j]);
        }
    }
    for (size_t l = 1; l <= L; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        for (size_t r = 0; r < rows; r++) {
            double *g = w->grad[l] + r * (cols + 1);
            double *carry = w->carry + (g - w->grad[1]);
            double d = w->delta[l][r];
            add_compensated(&g[0], &carry[0], d);
            for (size_t j = 0; j < cols; j++)
                add_compensated(&g[j + 1], &carry[j + 1], d * w->a[l - 1][j]);
        }
    }
}

static int reference_evaluate(void *state, const galann_eval_request *req)
{
    (void)state;
    const galann_net_view *net = &req->net;
    const galann_data_view *data = &req->data;
    size_t L = net->n_layers - 1, k = net->sizes[L];
    sample_workspace w = { 0 };
    int status = make_workspace(net, req->gradient, &w);
    if (status != GALANN_OK)
        return status;
    if (req->gradient)
        memset(req->gradient, 0, net->n_params * sizeof *req->gradient);

    double cost = 0.0, cost_carry = 0.0;
    size_t correct = 0;
    for (size_t i = 0; i < data->m; i++) {
        galann_data_view_rows(data, i, 1, w.a[0]);
        forward_sample(net, &w);
        const double *out = w.a[L], *z = w.delta[L];
        int32_t label = data->y[i];
        if (req->cost) {
            for (size_t c = 0; c < k; c++)
                add_compensated(&cost, &cost_carry, label == (int32_t)c ? galann_softplus(-z[c]) : galann_softplus(z[c]));
        }
        if (req->outputs)
            memcpy(req->outputs + i * k, out, k * sizeof *out);
        if (req->n_correct) {
            size_t best = 0;
            for (size_t c = 1; c < k; c++) {
                if (out[c] > out[best])
                    best = c;
            }
            correct += best == (size_t)label;
        }
        if (req->gradient)
            backward_sample(net, &w, label);
    }

    double m = (double)data->m;
    if (req->cost)
        *req->cost = (cost + cost_carry) / m;
    if (req->gradient) {
        for (size_t p = 0; p < net->n_params; p++)
            req->gradient[p] = (req->gradient[p] + w.carry[p]) / m;
    }
    if (req->n_correct)
        *req->n_correct = correct;
    free(w.memory);
    return GALANN_OK;
}

static int reference_create(const galann_backend_config *cfg, void **state)
{
    (void)cfg;
    reference_state *s = calloc(1, sizeof *s);
    if (!s)
        return galann_error_set(GALANN_ERR_NOMEM, "reference backend: out of memory");
    *state = s;
    return GALANN_OK;
}

static void reference_destroy(void *state)
{
    free(state);
}

const galann_backend_ops galann_reference_backend = {
    .name = "reference",
    .create = reference_create,
    .destroy = reference_destroy,
    .evaluate = reference_evaluate,
    .device_count = galann_host_cpu_device_count,
    .device_get = galann_host_cpu_device,
};
