/*
 * narrow.h -- the blas backend's own loops for narrow layers (at most
 * NARROW_ROWS outputs: 8 and 3 in 1024-8-3), as a table of functions that
 * exists only where the CPU runs them. galann_blas_narrow_kernels() gives
 * this CPU's table, or NULL (an x86 CPU without AVX-512, or another
 * architecture), and the backend then sends every layer through dgemm or
 * sgemm.
 *
 * x86 builds: narrow.c (the double products and the table),
 * narrow_single.c (the float products) and convert.c (u8 rows to exact
 * doubles), all compiled for AVX-512 and chosen at run time. Other
 * architectures: narrow_none.c, whose table is always NULL.
 */
#ifndef GALANN_BLAS_NARROW_H
#define GALANN_BLAS_NARROW_H

#include <stddef.h>
#include <stdint.h>

/* Layers with at most this many outputs use the table's products. */
#define NARROW_ROWS 16

/* A block's first-layer inputs in single precision, row i at i * ld:
 * floats (values), or, when one of them is set, u8 bytes or doubles,
 * which the loops turn into floats in registers. */
typedef struct block_rows {
    const float *values;
    const uint8_t *bytes;
    const double *doubles;
    size_t ld;
} block_rows;

typedef struct galann_narrow_kernels {
    /* The bytes of 64-byte aligned scratch forward needs for a block. */
    size_t (*scratch_bytes)(size_t block);
    /* z[i][r] = Theta[r][0] + sum_j x[i][j] Theta[r][1 + j] for the
     * block's b samples (x row i at x + i ldx; theta row-major, cols + 1
     * per row; z b x rows). */
    void (*forward)(const double *x, size_t ldx, size_t b, const double *theta, size_t rows, size_t cols,
                    double *z, void *scratch);
    /* grad[r][1 + j] = sum_i delta[i][r] x[i][j] over the block's samples
     * in order (fresh), or that sum added to it; grad row-major, cols + 1
     * per row, delta b x rows. */
    void (*gradient)(const double *x, size_t ldx, size_t b, const double *delta, size_t rows, size_t cols,
                     double *grad, int fresh);
    /* The same two in single precision, the sums of the first layer's
     * products multiplied by scale (1 / divisor for u8 bytes, else 1),
     * and the gradient added in double. */
    void (*forward_f32)(const block_rows *x, size_t b, const float *theta, size_t rows, size_t cols, double scale,
                        float *z);
    void (*gradient_f32)(const block_rows *x, size_t b, const float *delta, size_t rows, size_t cols, double scale,
                         double *grad, int fresh);
    /* Whether u8_rows gives exactly table[p] = (double)p / divisor for
     * every byte p (convert.c). */
    int (*u8_exact)(const double *table, double divisor);
    /* values bytes as the doubles p / divisor (only where u8_exact said). */
    void (*u8_rows)(const uint8_t *bytes, size_t values, double divisor, double *out);
} galann_narrow_kernels;

/* This CPU's table, or NULL. */
const galann_narrow_kernels *galann_blas_narrow_kernels(void);

/* The AVX-512 implementations the table of narrow.c points to (x86 only). */
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
void galann_narrow_forward_f32(const block_rows *x, size_t b, const float *theta, size_t rows, size_t cols,
                               double scale, float *z);
void galann_narrow_gradient_f32(const block_rows *x, size_t b, const float *delta, size_t rows, size_t cols,
                                double scale, double *grad, int fresh);
int galann_narrow_u8_exact(const double *table, double divisor);
void galann_narrow_u8_rows(const uint8_t *bytes, size_t values, double divisor, double *out);

/* Row g of the group of rows starting at r0, past the last row the last
 * again (computed, never stored): how the loops fill a partial group. */
static inline size_t galann_narrow_group_row(size_t r0, int g, size_t rows)
{
    return r0 + (size_t)g < rows ? r0 + (size_t)g : rows - 1;
}

#endif /* GALANN_BLAS_NARROW_H */
