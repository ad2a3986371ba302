/*
 * narrow_single.c -- the blas backend's products for narrow layers in
 * single precision on a CPU with AVX-512 (x86 builds; narrow.h's table,
 * forward_f32 and gradient_f32), for single.c.
 *
 * A 32 x 1024 x 8 product is too small for OpenBLAS's sgemm to pay for its
 * packing and calls. These loops work on 16-float vectors, as narrow.c
 * does on 8 doubles: the forward product keeps one vector of partial dot
 * products per (sample, output), two samples at a time so each vector of
 * weights is loaded once for both; the gradient one vector of gradient
 * entries per output over the block's samples, two vectors of columns at
 * a time, added in double to the chunk's partial. The order of every sum
 * is written out (lane by lane in column order, then a fixed tree; over
 * samples in order), with fused multiply-adds: the same bits for any
 * thread count. The first layer's inputs are read where the dataset keeps
 * them: f32 values as they are, f64 values rounded to floats and u8 bytes
 * turned into floats (exactly) in registers by both products (the sums
 * of bytes are then multiplied by 1 / divisor): no float copy of the
 * block is written.
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "narrow.h"

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

/* What a block's rows hold (block_rows), a constant of each inlined copy
 * of the loops. */
#define ROWS_OF_FLOATS 0
#define ROWS_OF_BYTES 1
#define ROWS_OF_DOUBLES 2

/* The vector of row i's inputs at column j (lanes m, the rest 0): bytes
 * become floats exactly, doubles are rounded to nearest (as a cast
 * rounds them), both in registers, so no float copy of the block is
 * written. The loads are masked: never past the dataset's end. */
AVX512_TARGET static inline __attribute__((always_inline)) __m512
row_vector(const block_rows *x, int kind, size_t i, size_t j, __mmask16 m)
{
    if (kind == ROWS_OF_BYTES) {
        __m128i bytes = _mm_maskz_loadu_epi8(m, x->bytes + i * x->ld + j);
        return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
    }
    if (kind == ROWS_OF_DOUBLES) {
        const double *at = x->doubles + i * x->ld + j;
        __m256 low = _mm512_cvtpd_ps(_mm512_maskz_loadu_pd((__mmask8)(m & 0xff), at));
        __m256 high = _mm512_cvtpd_ps(_mm512_maskz_loadu_pd((__mmask8)(m >> 8), at + LANES / 2));
        __m512d both = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(low)), _mm256_castps_pd(high), 1);
        return _mm512_castpd_ps(both);
    }
    return _mm512_maskz_loadu_ps(m, x->values + i * x->ld + j);
}

/* z[i][r] = bias_r + scale sum_j x[i][j] W[r][j] for samples i .. i+S-1
 * (S 1 or 2) and the G rows of the group at r0 (constants of each inlined
 * copy, as kind): one vector of partial dot products per (sample,
 * row), each lane in column order, then the fixed tree. */
AVX512_TARGET static inline __attribute__((always_inline)) void
forward_samples(const block_rows *x, int kind, size_t i, int S, const float *theta, size_t rows, size_t cols,
                size_t r0, int G, double scale, float *z)
{
    const float *w[GROUP];
    __m512 acc[2][GROUP];
    for (int g = 0; g < G; g++) {
        w[g] = theta + galann_narrow_group_row(r0, g, rows) * (cols + 1) + 1;
        for (int s = 0; s < S; s++)
            acc[s][g] = _mm512_setzero_ps();
    }
    for (size_t j = 0; j < cols; j += LANES) {
        __mmask16 m = lanes_at(j, cols);
        __m512 xv[2];
        for (int s = 0; s < S; s++)
            xv[s] = row_vector(x, kind, i + (size_t)s, j, m);
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
forward_groups(const block_rows *x, int kind, size_t b, const float *theta, size_t rows, size_t cols,
               double scale, float *z, int G)
{
    for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
        for (size_t i = 0; i + 1 < b; i += 2)
            forward_samples(x, kind, i, 2, theta, rows, cols, r0, G, scale, z);
        if (b % 2)
            forward_samples(x, kind, b - 1, 1, theta, rows, cols, r0, G, scale, z);
    }
}

/* The block's gradient of the weights, sum_i delta[i][r] x[i][j] summed
 * over i in order in float, times scale, added in double to grad (row r
 * at grad + r (cols + 1) + 1; fresh: stored instead); rows in groups of G,
 * two vectors of columns at a time. */
AVX512_TARGET static inline __attribute__((always_inline)) void
gradient_groups(const block_rows *x, int kind, size_t b, const float *delta, size_t rows, size_t cols,
                double scale, double *grad, int fresh, int G)
{
    for (size_t j = 0; j < cols; j += 2 * LANES) {
        __mmask16 m[2] = { lanes_at(j, cols), lanes_at(j + LANES, cols) };
        for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
            size_t dr[GROUP];
            __m512 acc[2][GROUP];
            for (int g = 0; g < G; g++) {
                dr[g] = galann_narrow_group_row(r0, g, rows);
                acc[0][g] = _mm512_setzero_ps();
                acc[1][g] = _mm512_setzero_ps();
            }
            for (size_t i = 0; i < b; i++) {
                __m512 x0 = row_vector(x, kind, i, j, m[0]);
                __m512 x1 = m[1] ? row_vector(x, kind, i, j + LANES, m[1]) : _mm512_setzero_ps();
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

/* The forward product for rows in groups of G, for each kind of rows. */
AVX512_TARGET static inline __attribute__((always_inline)) void
forward_rows(const block_rows *x, size_t b, const float *theta, size_t rows, size_t cols, double scale, float *z,
             int G)
{
    if (x->bytes)
        forward_groups(x, ROWS_OF_BYTES, b, theta, rows, cols, scale, z, G);
    else if (x->doubles)
        forward_groups(x, ROWS_OF_DOUBLES, b, theta, rows, cols, scale, z, G);
    else
        forward_groups(x, ROWS_OF_FLOATS, b, theta, rows, cols, scale, z, G);
}

AVX512_TARGET static inline __attribute__((always_inline)) void
gradient_rows(const block_rows *x, size_t b, const float *delta, size_t rows, size_t cols, double scale, double *grad,
              int fresh, int G)
{
    if (x->bytes)
        gradient_groups(x, ROWS_OF_BYTES, b, delta, rows, cols, scale, grad, fresh, G);
    else if (x->doubles)
        gradient_groups(x, ROWS_OF_DOUBLES, b, delta, rows, cols, scale, grad, fresh, G);
    else
        gradient_groups(x, ROWS_OF_FLOATS, b, delta, rows, cols, scale, grad, fresh, G);
}

/* The two products (narrow.h), a copy per group size and kind of rows. */
AVX512_TARGET void galann_narrow_forward_f32(const block_rows *x, size_t b, const float *theta, size_t rows,
                                             size_t cols, double scale, float *z)
{
    if (rows <= 2)
        forward_rows(x, b, theta, rows, cols, scale, z, 2);
    else if (rows <= 4)
        forward_rows(x, b, theta, rows, cols, scale, z, 4);
    else
        forward_rows(x, b, theta, rows, cols, scale, z, GROUP);
}

AVX512_TARGET void galann_narrow_gradient_f32(const block_rows *x, size_t b, const float *delta, size_t rows,
                                              size_t cols, double scale, double *grad, int fresh)
{
    if (rows <= 2)
        gradient_rows(x, b, delta, rows, cols, scale, grad, fresh, 2);
    else if (rows <= 4)
        gradient_rows(x, b, delta, rows, cols, scale, grad, fresh, 4);
    else
        gradient_rows(x, b, delta, rows, cols, scale, grad, fresh, GROUP);
}
