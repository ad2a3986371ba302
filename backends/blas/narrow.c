/*
 * narrow.c -- the blas backend's products for narrow layers in double
 * precision, on a CPU with AVX-512 (x86 builds), and the table of
 * narrow.h that offers them, with narrow_single.c's and convert.c's, to a
 * CPU that runs them: a layer of at most NARROW_ROWS outputs (8 and 3 in
 * 1024-8-3) then skips cblas_dgemm.
 *
 * A 32 x 1024 x 8 product is too small for a BLAS to pay for its packing
 * and calls; the 1024-8-3 network spends nearly all its FLOPs in two
 * such products per block (the first layer forward and its gradient), and
 * the OpenBLAS that Debian ships may not even know the CPU (it then runs
 * SSE3 kernels on an AVX-512 machine). Here the products are written for
 * the shape:
 *
 * - forward, z[i][r] = bias_r + sum_j x[i][j] W[r][j]: two samples at a
 *   time against a group of up to 8 rows, one 8-double vector of partial
 *   dot products per (sample, row) in registers, so a vector of weights
 *   is loaded once for two samples. The inputs are walked in tiles of
 *   TILE columns over the whole block, the partial vectors kept in memory
 *   between tiles, so a tile of the weights (8 rows x TILE doubles) stays
 *   in L1 while the block's samples pass over it;
 * - gradient, G[r][j] (+)= sum_i delta[i][r] x[i][j]: for two vectors of
 *   columns, one vector of gradient entries per row over the block's
 *   samples, each delta broadcast from the block's deltas.
 *
 * Every sum has a written-out order that no tiling, grouping or thread
 * count changes: a (sample, row) dot product is eight lane sums, each in
 * column order, then a fixed tree over the lanes; a gradient entry is a
 * sum over the block's samples in order. Products are fused (FMA, one
 * rounding): these loops are this backend's, on this CPU kind, and give
 * the same bits on every run of it. CPUs without AVX-512, and wider
 * layers, use cblas_dgemm (blas.c), whose sums are ordered otherwise: the
 * two paths agree to rounding, not to the bit.
 */
#include <immintrin.h>
#include <stddef.h>

#include "narrow.h"

/* Doubles per vector. */
#define LANES 8
/* Rows per group: 2 samples x 8 rows of accumulators, 2 inputs and a
 * weight vector fit AVX-512's 32 registers. */
#define GROUP 8
/* Columns per tile of the forward product: 8 rows x 256 doubles = 16 KiB
 * of weights, half of the smallest L1 with AVX-512. A whole number of
 * vectors, so a column keeps its lane from tile to tile. */
#define TILE 256
_Static_assert(TILE % LANES == 0, "a tile is a whole number of vectors");

/* The lanes to use of the vector starting at column j of cols. */
AVX512_TARGET static inline __mmask8 lanes_at(size_t j, size_t cols)
{
    size_t left = cols > j ? cols - j : 0;
    return left >= LANES ? (__mmask8)0xff : (__mmask8)((1u << left) - 1u);
}

/* The sum of the lanes: lane k + lane k+4, then +2, then +1. */
AVX512_TARGET static inline double lanes_sum(__m512d v)
{
    __m256d four = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d two = _mm_add_pd(_mm256_castpd256_pd128(four), _mm256_extractf128_pd(four, 1));
    return _mm_cvtsd_f64(_mm_add_sd(two, _mm_unpackhi_pd(two, two)));
}

/* One tile, columns [j0, j1), of the partial dot products of samples
 * (i, i + S - 1) with the G rows of the group at r0; partial[s][g] are
 * the running lane sums, in and out. */
AVX512_TARGET static inline __attribute__((always_inline)) void
forward_tile(const double *x, size_t ldx, size_t i, int S, const double *theta, size_t rows, size_t cols, size_t r0,
             int G, size_t j0, size_t j1, __m512d *partial)
{
    const double *w[GROUP];
    __m512d acc[2][GROUP];
    for (int g = 0; g < G; g++) {
        w[g] = theta + galann_narrow_group_row(r0, g, rows) * (cols + 1) + 1;
        for (int s = 0; s < S; s++)
            acc[s][g] = partial[s * GROUP + g];
    }
    for (size_t j = j0; j < j1; j += LANES) {
        __mmask8 m = lanes_at(j, cols);
        __m512d xv[2];
        for (int s = 0; s < S; s++)
            xv[s] = _mm512_maskz_loadu_pd(m, x + (i + (size_t)s) * ldx + j);
        for (int g = 0; g < G; g++) {
            __m512d wv = _mm512_maskz_loadu_pd(m, w[g] + j);
            for (int s = 0; s < S; s++)
                acc[s][g] = _mm512_mask3_fmadd_pd(xv[s], wv, acc[s][g], m);
        }
    }
    for (int g = 0; g < G; g++) {
        for (int s = 0; s < S; s++)
            partial[s * GROUP + g] = acc[s][g];
    }
}

/* The forward product for rows in groups of G (a constant of each
 * inlined copy). partial holds 2 x GROUP vectors per pair of samples. */
AVX512_TARGET static inline __attribute__((always_inline)) void
forward_groups(const double *x, size_t ldx, size_t b, const double *theta, size_t rows, size_t cols, double *z,
               __m512d *partial, int G)
{
    size_t pairs = (b + 1) / 2;
    for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
        for (size_t p = 0; p < pairs * 2 * GROUP; p++)
            partial[p] = _mm512_setzero_pd();
        for (size_t j0 = 0; j0 < cols; j0 += TILE) {
            size_t j1 = j0 + TILE < cols ? j0 + TILE : cols;
            for (size_t i = 0; i + 1 < b; i += 2)
                forward_tile(x, ldx, i, 2, theta, rows, cols, r0, G, j0, j1, partial + i * GROUP);
            if (b % 2)
                forward_tile(x, ldx, b - 1, 1, theta, rows, cols, r0, G, j0, j1, partial + (b - 1) * GROUP);
        }
        for (size_t i = 0; i < b; i++) {
            const __m512d *mine = partial + (i / 2) * 2 * GROUP + (i % 2) * GROUP;
            for (int g = 0; g < G && r0 + (size_t)g < rows; g++) {
                size_t r = r0 + (size_t)g;
                z[i * rows + r] = theta[r * (cols + 1)] + lanes_sum(mine[g]);
            }
        }
    }
}

AVX512_TARGET static void forward(const double *x, size_t ldx, size_t b, const double *theta, size_t rows,
                                  size_t cols, double *z, void *scratch)
{
    __m512d *partial = scratch;
    if (rows <= 2)
        forward_groups(x, ldx, b, theta, rows, cols, z, partial, 2);
    else if (rows <= 4)
        forward_groups(x, ldx, b, theta, rows, cols, z, partial, 4);
    else
        forward_groups(x, ldx, b, theta, rows, cols, z, partial, GROUP);
}

/* pairs of samples x 2 x GROUP vectors (a multiple of 64 bytes) */
static size_t scratch_bytes(size_t block)
{
    return ((block + 1) / 2) * 2 * GROUP * sizeof(__m512d);
}

/* The block's gradient for rows in groups of G. */
AVX512_TARGET static inline __attribute__((always_inline)) void
gradient_groups(const double *x, size_t ldx, size_t b, const double *delta, size_t rows, size_t cols, double *grad,
                int fresh, int G)
{
    for (size_t j = 0; j < cols; j += 2 * LANES) {
        __mmask8 m0 = lanes_at(j, cols), m1 = lanes_at(j + LANES, cols);
        for (size_t r0 = 0; r0 < rows; r0 += (size_t)G) {
            size_t dr[GROUP];
            __m512d acc0[GROUP], acc1[GROUP];
            for (int g = 0; g < G; g++) {
                dr[g] = galann_narrow_group_row(r0, g, rows);
                acc0[g] = _mm512_setzero_pd();
                acc1[g] = _mm512_setzero_pd();
            }
            for (size_t i = 0; i < b; i++) {
                const double *xi = x + i * ldx + j;
                __m512d x0 = _mm512_maskz_loadu_pd(m0, xi);
                __m512d x1 = _mm512_maskz_loadu_pd(m1, xi + LANES);
                const double *d = delta + i * rows;
                for (int g = 0; g < G; g++) {
                    __m512d dv = _mm512_set1_pd(d[dr[g]]);
                    acc0[g] = _mm512_fmadd_pd(dv, x0, acc0[g]);
                    acc1[g] = _mm512_fmadd_pd(dv, x1, acc1[g]);
                }
            }
            for (int g = 0; g < G && r0 + (size_t)g < rows; g++) {
                double *out = grad + (r0 + (size_t)g) * (cols + 1) + 1 + j;
                if (!fresh) {
                    acc0[g] = _mm512_add_pd(_mm512_maskz_loadu_pd(m0, out), acc0[g]);
                    acc1[g] = _mm512_add_pd(_mm512_maskz_loadu_pd(m1, out + LANES), acc1[g]);
                }
                _mm512_mask_storeu_pd(out, m0, acc0[g]);
                _mm512_mask_storeu_pd(out + LANES, m1, acc1[g]);
            }
        }
    }
}

AVX512_TARGET static void gradient(const double *x, size_t ldx, size_t b, const double *delta, size_t rows,
                                   size_t cols, double *grad, int fresh)
{
    if (rows <= 2)
        gradient_groups(x, ldx, b, delta, rows, cols, grad, fresh, 2);
    else if (rows <= 4)
        gradient_groups(x, ldx, b, delta, rows, cols, grad, fresh, 4);
    else
        gradient_groups(x, ldx, b, delta, rows, cols, grad, fresh, GROUP);
}

static const galann_narrow_kernels avx512 = {
    .scratch_bytes = scratch_bytes,
    .forward = forward,
    .gradient = gradient,
    .forward_f32 = galann_narrow_forward_f32,
    .gradient_f32 = galann_narrow_gradient_f32,
    .u8_exact = galann_narrow_u8_exact,
    .u8_rows = galann_narrow_u8_rows,
};

const galann_narrow_kernels *galann_blas_narrow_kernels(void)
{
    __builtin_cpu_init();
    int runs = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
    return runs ? &avx512 : NULL;
}
