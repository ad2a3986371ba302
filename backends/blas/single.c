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
 * Narrow layers (s_l <= NARROW_ROWS outputs, 8 and 3 in 1024-8-3) do not
 * go through cblas_sgemm on a CPU with AVX-512: a 32 x 1024 x 8 product is
 * too small for OpenBLAS's kernels to pay for their packing and calls, and
 * the time went there, in the conversions and in the transposes. Their
 * products are the loops below instead, on 16-float vectors (GCC's vector
 * extensions, compiled for AVX-512 and chosen at run time): the forward
 * product keeps one vector of partial dot products per output over the
 * inputs, the gradient one vector of gradient entries per output over the
 * block's samples, so the block's inputs are read from cache once per
 * product. The order of every sum is written out (lane by lane, then a
 * fixed tree), not left to the compiler, and no loop has a reduction it
 * could reassociate: the same bits for any thread count, and the build's
 * -ffp-contract=off keeps products and sums apart (no FMA). u8 data whose
 * values are p / divisor enter the first layer as the bytes
 * themselves, converted to floats exactly while the block is in cache, and
 * its sums are multiplied by 1 / divisor: no table, no conversion through
 * double. Without AVX-512 (16-float vectors do not fit AVX2's or SSE's
 * registers: GCC keeps them in memory, slower than sgemm) and for wider
 * layers, cblas_sgemm as before.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "blas_internal.h"
#include "../numerics.h"

/* Layers with at most this many outputs use the vector loops. */
#define NARROW_ROWS 16
/* Floats per vector. */
#define LANES 16

typedef float vfloat __attribute__((vector_size(LANES * sizeof(float))));
/* the same, at any float's address (the loads of rows) */
typedef float vfloat_at __attribute__((vector_size(LANES * sizeof(float)), aligned(sizeof(float)), may_alias));

/* The lanes' sum in a fixed tree: lane k + lane k+8, then +4, +2, +1. */
static inline float lane_sum(const vfloat *v)
{
    float s[LANES];
    memcpy(s, v, sizeof s);
    for (int step = LANES / 2; step >= 1; step /= 2) {
        for (int k = 0; k < step; k++)
            s[k] = s[k] + s[k + step];
    }
    return s[0];
}

/* The row of Theta_l (theta + r (cols + 1), its bias first) that the
 * g-th accumulator of the group starting at r0 uses: past the last row,
 * the last again (computed, not stored). */
static inline const float *group_row(const float *theta, size_t r0, int g, size_t rows, size_t cols)
{
    size_t r = r0 + (size_t)g < rows ? r0 + (size_t)g : rows - 1;
    return theta + r * (cols + 1);
}

/* z[i][r] = bias_r + scale sum_j x[i][j] W[r][j], the rows in groups of G
 * (a constant of each inlined copy: as many accumulators as the vector
 * registers hold; the grouping changes no sum). bytes, when not NULL, are
 * the block's u8 inputs: each sample's row is first written to x as
 * floats, for the product and the gradient. */
static inline __attribute__((always_inline)) void forward_groups(float *x, const uint8_t *bytes, size_t ldx, size_t b,
                                                                 const float *theta, size_t rows, size_t cols,
                                                                 double scale, float *z, int G)
{
    size_t vec = cols - cols % LANES;
    for (size_t i = 0; i < b; i++) {
        float *xi = x + i * ldx;
        if (bytes) {
            const uint8_t *bi = bytes + i * ldx;
            for (size_t j = 0; j < cols; j++)
                xi[j] = (float)bi[j];
        }
        for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
            const float *wr[NARROW_ROWS];
            vfloat acc[NARROW_ROWS];
            for (int g = 0; g < G; g++) {
                wr[g] = group_row(theta, r0, g, rows, cols) + 1;
                acc[g] = (vfloat){0};
            }
            for (size_t j = 0; j < vec; j += LANES) {
                vfloat xv = *(const vfloat_at *)(xi + j);
                for (int g = 0; g < G; g++)
                    acc[g] = acc[g] + xv * *(const vfloat_at *)(wr[g] + j);
            }
            for (int g = 0; g < G && r0 + (size_t)g < rows; g++) {
                float s = lane_sum(&acc[g]);
                for (size_t j = vec; j < cols; j++)
                    s = s + xi[j] * wr[g][j];
                z[i * rows + r0 + (size_t)g] = wr[g][-1] + (float)((double)s * scale);
            }
        }
    }
}

/* The block's gradient of the weights, sum_i delta[i][r] x[i][j] summed
 * over i in order in float, times scale, added in double to grad (row r
 * at grad + r (cols + 1) + 1; fresh: stored instead); rows in groups of G
 * as above. */
static inline __attribute__((always_inline)) void gradient_groups(const float *x, size_t ldx, size_t b,
                                                                  const float *delta, size_t rows, size_t cols,
                                                                  double scale, double *grad, int fresh, int G)
{
    size_t vec = cols - cols % LANES;
    for (size_t j = 0; j < vec; j += LANES) {
        for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
            size_t dr[NARROW_ROWS];
            vfloat acc[NARROW_ROWS];
            for (int g = 0; g < G; g++) {
                dr[g] = r0 + (size_t)g < rows ? r0 + (size_t)g : rows - 1;
                acc[g] = (vfloat){0};
            }
            for (size_t i = 0; i < b; i++) {
                vfloat xv = *(const vfloat_at *)(x + i * ldx + j);
                const float *d = delta + i * rows;
                for (int g = 0; g < G; g++)
                    acc[g] = acc[g] + d[dr[g]] * xv;
            }
            for (int g = 0; g < G && r0 + (size_t)g < rows; g++) {
                double *out = grad + (r0 + (size_t)g) * (cols + 1) + 1 + j;
                float s[LANES];
                memcpy(s, &acc[g], sizeof s);
                for (int k = 0; k < LANES; k++)
                    out[k] = fresh ? (double)s[k] * scale : out[k] + (double)s[k] * scale;
            }
        }
    }
    for (size_t j = vec; j < cols; j++) {
        for (size_t r = 0; r < rows; r++) {
            float s = 0.0f;
            for (size_t i = 0; i < b; i++)
                s = s + delta[i * rows + r] * x[i * ldx + j];
            double *out = grad + r * (cols + 1) + 1 + j;
            *out = fresh ? (double)s * scale : *out + (double)s * scale;
        }
    }
}

/* The two products for AVX-512 (32 registers of 16 floats: groups of up
 * to 8 rows). Elsewhere the 16-float vectors do not fit the registers
 * (GCC keeps them in memory), and narrow layers go through sgemm too. */
__attribute__((target("avx512f"))) static void narrow_forward(float *x, const uint8_t *bytes, size_t ldx, size_t b,
                                                              const float *theta, size_t rows, size_t cols,
                                                              double scale, float *z)
{
    if (rows <= 2)
        forward_groups(x, bytes, ldx, b, theta, rows, cols, scale, z, 2);
    else if (rows <= 4)
        forward_groups(x, bytes, ldx, b, theta, rows, cols, scale, z, 4);
    else
        forward_groups(x, bytes, ldx, b, theta, rows, cols, scale, z, 8);
}

__attribute__((target("avx512f"))) static void narrow_gradient(const float *x, size_t ldx, size_t b,
                                                               const float *delta, size_t rows, size_t cols,
                                                               double scale, double *grad, int fresh)
{
    if (rows <= 2)
        gradient_groups(x, ldx, b, delta, rows, cols, scale, grad, fresh, 2);
    else if (rows <= 4)
        gradient_groups(x, ldx, b, delta, rows, cols, scale, grad, fresh, 4);
    else
        gradient_groups(x, ldx, b, delta, rows, cols, scale, grad, fresh, 8);
}

/* Whether layer l's products use the vector loops: a narrow layer on a
 * CPU with AVX-512. */
static int narrow(size_t rows)
{
    __builtin_cpu_init();
    return rows <= NARROW_ROWS && __builtin_cpu_supports("avx512f");
}

/* below[i][c] = sum_r delta[i][r] theta[r][c + 1], r in order, then
 * times a (1 - a): the deltas of the layer under a narrow one. */
__attribute__((target("avx512f"))) static void
narrow_deltas_below(const float *delta, size_t b, const float *theta, size_t rows, size_t cols, const float *a_below,
                    float *below)
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

/* 1 / divisor for u8 data (whose values are exactly p / divisor, as the
 * dataset builds its table), else 0. */
static double u8_scale(const galann_data_view *v)
{
    return v->storage == GALANN_STORAGE_U8 ? 1.0 / v->divisor : 0.0;
}

/* The block's inputs: with a scale (a narrow first layer over u8 data),
 * the bytes themselves, which the first layer's forward product turns
 * into floats (exact) on the way, storing them in out for the gradient,
 * and whose sums it multiplies by the scale; else the values as floats in
 * out, bytes NULL and the scale 1. */
static double block_inputs(const galann_data_view *v, const galann_net_view *net, size_t first, size_t b,
                           float *out, const uint8_t **bytes)
{
    double scale = narrow(net->sizes[1]) ? u8_scale(v) : 0.0;
    if (scale == 0.0) {
        galann_data_view_rows_f32(v, first, b, out);
        *bytes = NULL;
        return 1.0;
    }
    *bytes = (const uint8_t *)v->features + first * v->n;
    return scale;
}

/* A_l = g(Theta_l [1; A_{l-1}]) for the block, in float; the output
 * layer's z is kept in its deltas for the cost. */
static void forward(const evaluation_task *t, worker_space *w, size_t b, const uint8_t *bytes, double scale)
{
    const galann_net_view *net = &t->req->net;
    size_t L = net->n_layers - 1;
    const float *in = w->inputs_f;
    size_t ld_in = net->sizes[0];
    for (size_t l = 1; l <= L; l++) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        const float *theta = t->theta_f + t->offsets[l];
        float *a = w->activations_f + t->unit_offsets[l];
        if (narrow(rows)) {
            /* in is the worker's own buffer: written only with bytes */
            narrow_forward((float *)in, l == 1 ? bytes : NULL, ld_in, b, theta, rows, cols, l == 1 ? scale : 1.0, a);
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
static void backward(const evaluation_task *t, worker_space *w, size_t b, double scale, int fresh)
{
    const galann_net_view *net = &t->req->net;
    size_t L = net->n_layers - 1;
    for (size_t l = L; l >= 1; l--) {
        size_t rows = net->sizes[l], cols = net->sizes[l - 1];
        float *delta = w->deltas_f + t->unit_offsets[l];
        const float *in = l == 1 ? w->inputs_f : w->activations_f + t->unit_offsets[l - 1];
        double *grad = w->block_grad + t->offsets[l];
        for (size_t r = 0; r < rows; r++) {
            double bias = 0.0;
            for (size_t i = 0; i < b; i++)
                bias += (double)delta[i * rows + r];
            grad[r * (cols + 1)] = fresh ? bias : grad[r * (cols + 1)] + bias;
        }
        if (narrow(rows)) {
            narrow_gradient(in, cols, b, delta, rows, cols, l == 1 ? scale : 1.0, grad, fresh);
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
        if (narrow(rows)) {
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
    const uint8_t *bytes;
    double scale = block_inputs(&t->req->data, &t->req->net, first, b, w->inputs_f, &bytes);
    forward(t, w, b, bytes, scale);
    score(t, w, first, b);
    if (t->req->gradient_wanted)
        backward(t, w, b, scale, fresh);
}
