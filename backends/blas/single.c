/*
 * single.c -- the blas backend's block in single precision
 * (GALANN_PRECISION_SINGLE): the same steps as blas.c's double block, with
 * the products, the activations and the deltas in float, and everything
 * that is summed over samples in double: the cost terms, the bias sums,
 * and each block's gradient, which is summed over the block's few samples
 * in float and then added to the chunk's double partial. The chunks,
 * their exact combination and so the independence from the thread count
 * are blas.c's, unchanged.
 *
 * Narrow layers (s_l <= NARROW_ROWS outputs, 8 and 3 in 1024-8-3) go to
 * this CPU's narrow-layer loops (narrow.h: narrow_single.c, on AVX-512)
 * when it has them, which read u8, f32 and f64 data where the dataset
 * keeps them; elsewhere, and for wider layers, cblas_sgemm on the block's
 * values converted to floats.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "blas_internal.h"
#include "../numerics.h"

/* below[i][c] = sum_r delta[i][r] theta[r][c + 1], r in order, then
 * times a (1 - a): the deltas of the layer under a narrow one. */
static void narrow_deltas_below(const float *delta, size_t b, const float *theta, size_t rows, size_t cols,
                                const float *a_below, float *below)
{
    for (size_t i = 0; i < b; i++) {
        float *out = below + i * cols;
        const float *d = delta + i * rows;
        for (size_t c = 0; c < cols; c++)
            out[c] = 0.0f;
        for (size_t r = 0; r < rows; r++) {
            const float *w = theta + r * (cols + 1) + 1;
            for (size_t c = 0; c < cols; c++)
                out[c] = out[c] + d[r] * w[c];
        }
        const float *a = a_below + i * cols;
        for (size_t c = 0; c < cols; c++)
            out[c] *= a[c] * (1.0f - a[c]);
    }
}

/* The block's first-layer inputs and the factor of its sums. With a
 * narrow first layer, the values are read where the dataset keeps them:
 * u8 bytes become floats (exactly) in registers, and the sums are
 * multiplied by 1 / divisor; f32 values are used as they are; f64 values
 * are rounded to floats in registers, as galann_data_view_rows_f32 rounds
 * them. Otherwise (a wide first layer, which sgemm takes) the values as
 * floats in out, and the factor 1. */
static block_rows first_layer_inputs(const blas_state *s, const galann_data_view *v, const galann_net_view *net,
                                     size_t first, size_t b, float *out, double *scale)
{
    block_rows x = { .values = out, .ld = v->n };
    int narrow = narrow_for(s, net->sizes[1]) != NULL;
    *scale = 1.0;
    if (narrow && v->storage == GALANN_STORAGE_U8) {
        x.bytes = (const uint8_t *)v->features + first * v->n;
        *scale = 1.0 / v->divisor;
    } else if (narrow && v->storage == GALANN_STORAGE_F32) {
        x.values = (const float *)v->features + first * v->n;
    } else if (narrow && v->storage == GALANN_STORAGE_F64) {
        x.doubles = (const double *)v->features + first * v->n;
    } else {
        galann_data_view_rows_f32(v, first, b, out);
    }
    return x;
}

/* A_l = g(Theta_l [1; A_{l-1}]) for the block, in float; the output
 * layer's z is kept in its deltas for the cost. */
static void forward(const evaluation_task *t, worker_space *w, size_t b, const block_rows *first, double scale)
{
    const galann_net_view *net = &t->req->net;
    size_t L = net->n_layers - 1;
    const float *in = first->values;
    size_t ld_in = first->ld;
    for (size_t l = 1; l <= L; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        const float *theta = t->theta_f + t->offsets[l];
        float *a = w->activations_f + t->unit_offsets[l];
        const galann_narrow_kernels *narrow = narrow_for(t->state, rows);
        if (narrow) {
            block_rows x = { .values = in, .ld = ld_in };
            narrow->forward_f32(l == 1 ? first : &x, b, theta, rows, cols, l == 1 ? scale : 1.0, a);
        } else {
            for (size_t i = 0; i < b; i++) {
                for (size_t r = 0; r < rows; r++)
                    a[i * rows + r] = theta[r * (cols + 1)];
            }
            t->state->sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)rows, (int)cols, 1.0f, in,
                            (int)ld_in, t->weights_t_f + t->weight_offsets[l], (int)rows, 1.0f, a, (int)rows);
        }
        if (l == L)
            memcpy(w->deltas_f + t->unit_offsets[l], a, b * rows * sizeof *a);
        for (size_t e = 0; e < b * rows; e++)
            a[e] = galann_sigmoid_f(a[e]);
        in = a;
        ld_in = rows;
    }
}

/* Cost terms (double), outputs, correct predictions, delta_L = a_L - y. */
static void score(const evaluation_task *t, worker_space *w, size_t first, size_t b)
{
    const galann_eval_request *req = t->req;
    size_t L = req->net.n_layers - 1, k = req->net.sizes[L];
    const float *a = w->activations_f + t->unit_offsets[L];
    float *delta = w->deltas_f + t->unit_offsets[L];
    double block_cost = 0.0;
    for (size_t i = 0; i < b; i++) {
        int32_t label = req->data.y[first + i];
        const float *out = a + i * k;
        float *d = delta + i * k;
        if (req->cost_wanted) {
            for (size_t c = 0; c < k; c++)
                block_cost += label == (int32_t)c ? galann_softplus(-(double)d[c]) : galann_softplus((double)d[c]);
        }
        if (req->outputs) {
            for (size_t c = 0; c < k; c++)
                req->outputs[(first + i) * k + c] = (double)out[c];
        }
        if (req->n_correct) {
            size_t best = 0;
            for (size_t c = 1; c < k; c++) {
                if (out[c] > out[best])
                    best = c;
            }
            w->correct += best == (size_t)label;
        }
        for (size_t c = 0; c < k; c++)
            d[c] = out[c] - (label == (int32_t)c ? 1.0f : 0.0f);
    }
    w->chunk_cost += block_cost;
}

/* delta_l and the block's gradient delta_l^T [1, A_{l-1}], for l = L..1,
 * added in double to the chunk's partial. */
static void backward(const evaluation_task *t, worker_space *w, size_t b, const block_rows *first, double scale,
                     int fresh)
{
    const galann_net_view *net = &t->req->net;
    size_t L = net->n_layers - 1;
    for (size_t l = L; l >= 1; l--) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        float *delta = w->deltas_f + t->unit_offsets[l];
        const float *in = l == 1 ? first->values : w->activations_f + t->unit_offsets[l - 1];
        double *grad = w->block_grad + t->offsets[l];
        for (size_t r = 0; r < rows; r++) {
            double bias = 0.0;
            for (size_t i = 0; i < b; i++)
                bias += (double)delta[i * rows + r];
            grad[r * (cols + 1)] = fresh ? bias : grad[r * (cols + 1)] + bias;
        }
        const galann_narrow_kernels *narrow = narrow_for(t->state, rows);
        if (narrow) {
            block_rows x = { .values = in, .ld = cols };
            narrow->gradient_f32(l == 1 ? first : &x, b, delta, rows, cols, l == 1 ? scale : 1.0, grad, fresh);
        } else {
            float *delta_t = w->delta_t_f;
            for (size_t r = 0; r < rows; r++) {
                for (size_t i = 0; i < b; i++)
                    delta_t[r * b + i] = delta[i * rows + r];
            }
            t->state->sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)cols, (int)b, 1.0f,
                            delta_t, (int)b, in, (int)cols, 0.0f, w->grad_f, (int)cols);
            for (size_t r = 0; r < rows; r++) {
                double *g = grad + r * (cols + 1) + 1;
                const float *block = w->grad_f + r * cols;
                for (size_t j = 0; j < cols; j++)
                    g[j] = fresh ? (double)block[j] : g[j] + (double)block[j];
            }
        }
        if (l == 1)
            break;
        float *below = w->deltas_f + t->unit_offsets[l - 1];
        const float *a_below = w->activations_f + t->unit_offsets[l - 1];
        const float *theta = t->theta_f + t->offsets[l];
        if (narrow) {
            narrow_deltas_below(delta, b, theta, rows, cols, a_below, below);
            continue;
        }
        t->state->sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)cols, (int)rows, 1.0f, delta,
                        (int)rows, theta + 1, (int)(cols + 1), 0.0f, below, (int)cols);
        for (size_t e = 0; e < b * cols; e++)
            below[e] *= a_below[e] * (1.0f - a_below[e]);
    }
}

void galann_blas_block_single(const evaluation_task *t, worker_space *w, size_t first, size_t b, int fresh)
{
    double scale;
    block_rows x = first_layer_inputs(t->state, &t->req->data, &t->req->net, first, b, w->inputs_f, &scale);
    forward(t, w, b, &x, scale);
    score(t, w, first, b);
    if (t->req->gradient_wanted)
        backward(t, w, b, &x, scale, fresh);
}
