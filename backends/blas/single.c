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
 * products are the loops below instead, on 16-float vectors (AVX-512
 * intrinsics, chosen at run time), as narrow.c does in double: the
 * forward product keeps one vector of partial dot products per (sample,
 * output), two samples at a time so each vector of weights is loaded once
 * for both; the gradient one vector of gradient entries per output over
 * the block's samples, two vectors of columns at a time. The order of
 * every sum is written out (lane by lane in column order, then a fixed
 * tree; over samples in order), with fused multiply-adds: the same bits
 * for any thread count. u8 data whose values are p / divisor enter the
 * first layer as the bytes themselves, turned into floats (exactly) in
 * registers by both products, whose sums are multiplied by 1 / divisor:
 * no float copy of the block is written, no table, no conversion through
 * double. Without AVX-512 and for wider layers, cblas_sgemm as before.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "blas_internal.h"
#include "../numerics.h"

/* Floats per vector. */
#define LANES 16
/* Rows per group: 2 samples x 8 rows of accumulators fit the registers. */
#define GROUP 8

/* The lanes to use of the vector starting at column j of cols. */
AVX512_TARGET static inline __mmask16 lanes_at(size_t j, size_t cols)
{
    size_t left = cols > j ? cols - j : 0;
    return left >= LANES ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
}

/* The lanes' sum in a fixed tree: lane k + lane k+8, then +4, +2, +1. */
AVX512_TARGET static inline float lanes_sum(__m512 v)
{
    __m256 eight = _mm256_add_ps(_mm512_castps512_ps256(v),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
    __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

/* Row g of the group starting at r0, past the last row the last again
 * (computed, never stored). */
static inline size_t group_row(size_t r0, int g, size_t rows)
{
    return r0 + (size_t)g < rows ? r0 + (size_t)g : rows - 1;
}

/* The first layer's inputs of a block: floats, or u8 bytes (values
 * unused), row i at i * ld. */
typedef struct block_rows {
    const float *values;
    const uint8_t *bytes;
    size_t ld;
} block_rows;

/* The vector of row i's inputs at column j (lanes m, the rest 0): bytes
 * become floats on the way (exact), in registers, so a u8 block is never
 * written out as floats. The loads are masked: never past the dataset's
 * end. */
AVX512_TARGET static inline __attribute__((always_inline)) __m512
row_vector(const block_rows *x, int from_bytes, size_t i, size_t j, __mmask16 m)
{
    if (!from_bytes)
        return _mm512_maskz_loadu_ps(m, x->values + i * x->ld + j);
    __m128i bytes = _mm_maskz_loadu_epi8(m, x->bytes + i * x->ld + j);
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
}

/* z[i][r] = bias_r + scale sum_j x[i][j] W[r][j] for samples i .. i+S-1
 * (S 1 or 2) and the G rows of the group at r0 (constants of each inlined
 * copy, as from_bytes): one vector of partial dot products per (sample,
 * row), each lane in column order, then the fixed tree. */
AVX512_TARGET static inline __attribute__((always_inline)) void
forward_samples(const block_rows *x, int from_bytes, size_t i, int S, const float *theta, size_t rows, size_t cols,
                size_t r0, int G, double scale, float *z)
{
    const float *w[GROUP];
    __m512 acc[2][GROUP];
    for (int g = 0; g < G; g++) {
        w[g] = theta + group_row(r0, g, rows) * (cols + 1) + 1;
        for (int s = 0; s < S; s++)
            acc[s][g] = _mm512_setzero_ps();
    }
    for (size_t j = 0; j < cols; j += LANES) {
        __mmask16 m = lanes_at(j, cols);
        __m512 xv[2];
        for (int s = 0; s < S; s++)
            xv[s] = row_vector(x, from_bytes, i + (size_t)s, j, m);
        for (int g = 0; g < G; g++) {
            __m512 wv = _mm512_maskz_loadu_ps(m, w[g] + j);
            for (int s = 0; s < S; s++)
                acc[s][g] = _mm512_mask3_fmadd_ps(xv[s], wv, acc[s][g], m);
        }
    }
    /* constant bounds first: the accumulators stay in registers */
    float sums[2][GROUP];
    for (int s = 0; s < S; s++) {
        for (int g = 0; g < G; g++)
            sums[s][g] = lanes_sum(acc[s][g]);
    }
    for (int s = 0; s < S; s++) {
        for (int g = 0; g < G && r0 + (size_t)g < rows; g++) {
            size_t r = r0 + (size_t)g;
            z[(i + (size_t)s) * rows + r] = w[g][-1] + (float)((double)sums[s][g] * scale);
        }
    }
}

/* The forward product for rows in groups of G, two samples at a time. */
AVX512_TARGET static inline __attribute__((always_inline)) void
forward_groups(const block_rows *x, int from_bytes, size_t b, const float *theta, size_t rows, size_t cols,
               double scale, float *z, int G)
{
    for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
        for (size_t i = 0; i + 1 < b; i += 2)
            forward_samples(x, from_bytes, i, 2, theta, rows, cols, r0, G, scale, z);
        if (b % 2)
            forward_samples(x, from_bytes, b - 1, 1, theta, rows, cols, r0, G, scale, z);
    }
}

/* The block's gradient of the weights, sum_i delta[i][r] x[i][j] summed
 * over i in order in float, times scale, added in double to grad (row r
 * at grad + r (cols + 1) + 1; fresh: stored instead); rows in groups of G,
 * two vectors of columns at a time. */
AVX512_TARGET static inline __attribute__((always_inline)) void
gradient_groups(const block_rows *x, int from_bytes, size_t b, const float *delta, size_t rows, size_t cols,
                double scale, double *grad, int fresh, int G)
{
    for (size_t j = 0; j < cols; j += 2 * LANES) {
        __mmask16 m[2] = { lanes_at(j, cols), lanes_at(j + LANES, cols) };
        for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
            size_t dr[GROUP];
            __m512 acc[2][GROUP];
            for (int g = 0; g < G; g++) {
                dr[g] = group_row(r0, g, rows);
                acc[0][g] = _mm512_setzero_ps();
                acc[1][g] = _mm512_setzero_ps();
            }
            for (size_t i = 0; i < b; i++) {
                __m512 x0 = row_vector(x, from_bytes, i, j, m[0]);
                __m512 x1 = m[1] ? row_vector(x, from_bytes, i, j + LANES, m[1]) : _mm512_setzero_ps();
                const float *d = delta + i * rows;
                for (int g = 0; g < G; g++) {
                    __m512 dv = _mm512_set1_ps(d[dr[g]]);
                    acc[0][g] = _mm512_fmadd_ps(dv, x0, acc[0][g]);
                    acc[1][g] = _mm512_fmadd_ps(dv, x1, acc[1][g]);
                }
            }
            /* constant bounds first: the accumulators stay in registers */
            float sums[GROUP][2 * LANES];
            for (int g = 0; g < G; g++) {
                _mm512_storeu_ps(sums[g], acc[0][g]);
                _mm512_storeu_ps(sums[g] + LANES, acc[1][g]);
            }
            size_t width = cols - j < 2 * LANES ? cols - j : 2 * LANES;
            for (int g = 0; g < G && r0 + (size_t)g < rows; g++) {
                double *out = grad + (r0 + (size_t)g) * (cols + 1) + 1 + j;
                for (size_t k = 0; k < width; k++) {
                    double add = (double)sums[g][k] * scale;
                    out[k] = fresh ? add : out[k] + add;
                }
            }
        }
    }
}

/* The two products for AVX-512 (32 registers of 16 floats), a copy per
 * group size and input type. Elsewhere 16-float vectors do not fit the
 * registers, and narrow layers go through sgemm too. */
AVX512_TARGET static void narrow_forward(const block_rows *x, size_t b, const float *theta,
                                                              size_t rows, size_t cols, double scale, float *z)
{
    int from_bytes = x->bytes != NULL;
    if (rows <= 2)
        from_bytes ? forward_groups(x, 1, b, theta, rows, cols, scale, z, 2)
                   : forward_groups(x, 0, b, theta, rows, cols, scale, z, 2);
    else if (rows <= 4)
        from_bytes ? forward_groups(x, 1, b, theta, rows, cols, scale, z, 4)
                   : forward_groups(x, 0, b, theta, rows, cols, scale, z, 4);
    else
        from_bytes ? forward_groups(x, 1, b, theta, rows, cols, scale, z, GROUP)
                   : forward_groups(x, 0, b, theta, rows, cols, scale, z, GROUP);
}

AVX512_TARGET static void narrow_gradient(const block_rows *x, size_t b, const float *delta,
                                                               size_t rows, size_t cols, double scale, double *grad,
                                                               int fresh)
{
    int from_bytes = x->bytes != NULL;
    if (rows <= 2)
        from_bytes ? gradient_groups(x, 1, b, delta, rows, cols, scale, grad, fresh, 2)
                   : gradient_groups(x, 0, b, delta, rows, cols, scale, grad, fresh, 2);
    else if (rows <= 4)
        from_bytes ? gradient_groups(x, 1, b, delta, rows, cols, scale, grad, fresh, 4)
                   : gradient_groups(x, 0, b, delta, rows, cols, scale, grad, fresh, 4);
    else
        from_bytes ? gradient_groups(x, 1, b, delta, rows, cols, scale, grad, fresh, GROUP)
                   : gradient_groups(x, 0, b, delta, rows, cols, scale, grad, fresh, GROUP);
}

/* below[i][c] = sum_r delta[i][r] theta[r][c + 1], r in order, then
 * times a (1 - a): the deltas of the layer under a narrow one. */
AVX512_TARGET static void
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

/* The block's first-layer inputs and the factor of its sums. With a
 * narrow first layer, u8 bytes and f32 values are read where the dataset
 * keeps them: the bytes become floats (exactly) in registers, and the
 * sums are multiplied by 1 / divisor; the floats are used as they are.
 * Otherwise (f64, or a wide first layer, which sgemm takes) the values as
 * floats in out, and the factor 1. */
static block_rows first_layer_inputs(const galann_data_view *v, const galann_net_view *net, size_t first, size_t b,
                                     float *out, double *scale)
{
    block_rows x = { out, NULL, v->n };
    *scale = 1.0;
    if (galann_blas_narrow(net->sizes[1]) && v->storage == GALANN_STORAGE_U8) {
        x.bytes = (const uint8_t *)v->features + first * v->n;
        *scale = 1.0 / v->divisor;
    } else if (galann_blas_narrow(net->sizes[1]) && v->storage == GALANN_STORAGE_F32) {
        x.values = (const float *)v->features + first * v->n;
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
        if (galann_blas_narrow(rows)) {
            block_rows x = { in, NULL, ld_in };
            narrow_forward(l == 1 ? first : &x, b, theta, rows, cols, l == 1 ? scale : 1.0, a);
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
        if (galann_blas_narrow(rows)) {
            block_rows x = { in, NULL, cols };
            narrow_gradient(l == 1 ? first : &x, b, delta, rows, cols, l == 1 ? scale : 1.0, grad, fresh);
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
        if (galann_blas_narrow(rows)) {
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
    block_rows x = first_layer_inputs(&t->req->data, &t->req->net, first, b, w->inputs_f, &scale);
    forward(t, w, b, &x, scale);
    score(t, w, first, b);
    if (t->req->gradient_wanted)
        backward(t, w, b, &x, scale, fresh);
}
