/*
 * test-narrow.c -- the blas backend's narrow-layer loops (narrow.h) on
 * their own: both products, in double and in single precision, equal a
 * plain computation for every shape of partial vector, row group and
 * block; a sample gets the same bits alone or paired; no loop reads past
 * the last value of its inputs (each input ends at a guard page); and the
 * u8 conversion is used only when it gives the table's bits.
 *
 * Skipped on a CPU without the loops (no AVX-512, or not x86): the
 * backend then sends every layer through dgemm, which test-gradient and
 * test-fixtures cover.
 *
 * Not here: the loops inside whole evaluations (test-gradient against the
 * reference backend, test-storage for u8 against f64, test-reproducible
 * for thread counts).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "narrow.h"

static const galann_narrow_kernels *kernels_or_skip(void)
{
    const galann_narrow_kernels *k = galann_blas_narrow_kernels();
    if (!k) {
        print_message("skipped: this CPU has no narrow-layer loops (they need AVX-512 on x86)\n");
        skip();
    }
    return k;
}

/* Values in [-1, 1) from a 64-bit LCG. */
static double next_value(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return 2.0 * ((double)(*state >> 11) / 9007199254740992.0) - 1.0;
}

static void *zeroed(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    assert_non_null(p);
    memset(p, 0, (bytes + 63) / 64 * 64);
    return p;
}

/* The shapes: widths around the vector lengths (8 doubles, 16 floats),
 * row counts for every group size (1-2, 3-4, 5-8) and two groups (9-16),
 * blocks of one sample, an odd number and a full block. */
static const size_t widths[] = { 1, 7, 8, 9, 16, 17, 37, 300 };
static const size_t row_counts[] = { 1, 2, 3, 5, 8, 9, 16 };
static const size_t blocks[] = { 1, 3, 32 };
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void double_products_equal_a_plain_computation_for_every_shape(void **state)
{
    (void)state;
    const galann_narrow_kernels *k = kernels_or_skip();
    for (size_t wi = 0; wi < COUNT(widths); wi++) {
        for (size_t ri = 0; ri < COUNT(row_counts); ri++) {
            for (size_t bi = 0; bi < COUNT(blocks); bi++) {
                size_t cols = widths[wi], rows = row_counts[ri], b = blocks[bi];
                uint64_t seed = cols * 1000003u + rows * 101u + b;
                double *x = zeroed(b * cols * sizeof *x), *theta = zeroed(rows * (cols + 1) * sizeof *theta);
                double *z = zeroed(b * rows * sizeof *z), *delta = zeroed(b * rows * sizeof *delta);
                double *grad = zeroed(rows * (cols + 1) * sizeof *grad);
                void *scratch = zeroed(k->scratch_bytes(b));
                for (size_t i = 0; i < b * cols; i++)
                    x[i] = next_value(&seed);
                for (size_t i = 0; i < rows * (cols + 1); i++)
                    theta[i] = next_value(&seed);
                for (size_t i = 0; i < b * rows; i++)
                    delta[i] = next_value(&seed);
                k->forward(x, cols, b, theta, rows, cols, z, scratch);
                for (size_t i = 0; i < b; i++) {
                    for (size_t r = 0; r < rows; r++) {
                        long double want = theta[r * (cols + 1)], size = fabsl(want);
                        for (size_t j = 0; j < cols; j++) {
                            want += (long double)x[i * cols + j] * theta[r * (cols + 1) + 1 + j];
                            size += fabsl((long double)x[i * cols + j] * theta[r * (cols + 1) + 1 + j]);
                        }
                        double error = fabs(z[i * rows + r] - (double)want) / (double)size;
                        if (!(error <= 1e-14))
                            fail_msg("forward, %zu x %zu, block %zu: z[%zu][%zu] = %.17g, want %.17g", rows, cols,
                                     b, i, r, z[i * rows + r], (double)want);
                    }
                }
                /* fresh, then added to what is there (a chunk's second block) */
                for (int fresh = 1; fresh >= 0; fresh--) {
                    k->gradient(x, cols, b, delta, rows, cols, grad, fresh);
                    for (size_t r = 0; r < rows; r++) {
                        for (size_t j = 0; j < cols; j++) {
                            long double sum = 0.0L, size = 0.0L;
                            for (size_t i = 0; i < b; i++) {
                                sum += (long double)delta[i * rows + r] * x[i * cols + j];
                                size += fabsl((long double)delta[i * rows + r] * x[i * cols + j]);
                            }
                            long double want = fresh ? sum : 2.0L * sum;
                            double got = grad[r * (cols + 1) + 1 + j];
                            if (!(fabs(got - (double)want) <= 1e-14 * (double)size * (fresh ? 1.0 : 2.0)))
                                fail_msg("gradient (fresh %d), %zu x %zu, block %zu: [%zu][%zu] = %.17g, want %.17g",
                                         fresh, rows, cols, b, r, j, got, (double)want);
                        }
                        /* the bias column is not the loops' to write */
                        assert_true(grad[r * (cols + 1)] == 0.0);
                    }
                }
                free(x);
                free(theta);
                free(z);
                free(delta);
                free(grad);
                free(scratch);
            }
        }
    }
}

static void single_products_equal_a_plain_computation_from_floats_and_bytes(void **state)
{
    (void)state;
    const galann_narrow_kernels *k = kernels_or_skip();
    for (size_t wi = 0; wi < COUNT(widths); wi++) {
        for (size_t ri = 0; ri < COUNT(row_counts); ri++) {
            size_t cols = widths[wi], rows = row_counts[ri], b = 5;
            uint64_t seed = cols * 7919u + rows;
            uint8_t *bytes = zeroed(b * cols);
            double *doubles = zeroed(b * cols * sizeof *doubles);
            float *values = zeroed(b * cols * sizeof *values), *theta = zeroed(rows * (cols + 1) * sizeof *theta);
            float *z = zeroed(b * rows * sizeof *z), *delta = zeroed(b * rows * sizeof *delta);
            double *grad = zeroed(rows * (cols + 1) * sizeof *grad);
            for (size_t i = 0; i < b * cols; i++) {
                bytes[i] = (uint8_t)(seed >> 56);
                next_value(&seed);
                values[i] = (float)bytes[i] / 255.0f;
                doubles[i] = (double)bytes[i] / 255.0;
            }
            for (size_t i = 0; i < rows * (cols + 1); i++)
                theta[i] = (float)next_value(&seed);
            for (size_t i = 0; i < b * rows; i++)
                delta[i] = (float)next_value(&seed);
            /* kind 0: floats, 1: bytes, 2: doubles */
            for (int kind = 0; kind <= 2; kind++) {
                block_rows x = { .values = values, .bytes = kind == 1 ? bytes : NULL,
                                 .doubles = kind == 2 ? doubles : NULL, .ld = cols };
                double scale = kind == 1 ? 1.0 / 255.0 : 1.0;
                k->forward_f32(&x, b, theta, rows, cols, scale, z);
                k->gradient_f32(&x, b, delta, rows, cols, scale, grad, 1);
                for (size_t i = 0; i < b; i++) {
                    for (size_t r = 0; r < rows; r++) {
                        double want = theta[r * (cols + 1)], size = fabs(want);
                        for (size_t j = 0; j < cols; j++) {
                            double p = (double)bytes[i * cols + j] / 255.0 * theta[r * (cols + 1) + 1 + j];
                            want += p;
                            size += fabs(p);
                        }
                        if (!(fabs(z[i * rows + r] - want) <= 4e-6 * size))
                            fail_msg("forward_f32 (kind %d), %zu x %zu: z[%zu][%zu] = %.9g, want %.9g", kind,
                                     rows, cols, i, r, (double)z[i * rows + r], want);
                    }
                }
                for (size_t r = 0; r < rows; r++) {
                    for (size_t j = 0; j < cols; j++) {
                        double want = 0.0, size = 0.0;
                        for (size_t i = 0; i < b; i++) {
                            double p = (double)delta[i * rows + r] * bytes[i * cols + j] / 255.0;
                            want += p;
                            size += fabs(p);
                        }
                        if (!(fabs(grad[r * (cols + 1) + 1 + j] - want) <= 4e-6 * size))
                            fail_msg("gradient_f32 (kind %d), %zu x %zu: [%zu][%zu] = %.9g, want %.9g", kind,
                                     rows, cols, r, j, grad[r * (cols + 1) + 1 + j], want);
                    }
                }
            }
            free(bytes);
            free(doubles);
            free(values);
            free(theta);
            free(z);
            free(delta);
            free(grad);
        }
    }
}

/* The forward product takes samples two at a time: the odd one out of a
 * block, or a sample alone in a block of one, must get the same bits. */
static void a_sample_gets_the_same_bits_alone_or_paired(void **state)
{
    (void)state;
    const galann_narrow_kernels *k = kernels_or_skip();
    size_t cols = 37, rows = 9, b = 3;
    uint64_t seed = 42;
    double *x = zeroed(b * cols * sizeof *x), *theta = zeroed(rows * (cols + 1) * sizeof *theta);
    double *together = zeroed(b * rows * sizeof *together), *alone = zeroed(rows * sizeof *alone);
    void *scratch = zeroed(k->scratch_bytes(b));
    for (size_t i = 0; i < b * cols; i++)
        x[i] = next_value(&seed);
    for (size_t i = 0; i < rows * (cols + 1); i++)
        theta[i] = next_value(&seed);
    k->forward(x, cols, b, theta, rows, cols, together, scratch);
    for (size_t i = 0; i < b; i++) {
        k->forward(x + i * cols, cols, 1, theta, rows, cols, alone, scratch);
        assert_memory_equal(alone, together + i * rows, rows * sizeof *alone);
    }
    free(x);
    free(theta);
    free(together);
    free(alone);
    free(scratch);
}

/* count bytes ending exactly where a page that may not be read begins;
 * *mapping and *length for munmap. */
static void *before_a_guard_page(size_t count, void **mapping, size_t *length)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (count + page - 1) / page + 1;
    *length = pages * page;
    *mapping = mmap(NULL, *length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(*mapping != MAP_FAILED);
    char *guard = (char *)*mapping + (pages - 1) * page;
    assert_int_equal(mprotect(guard, page, PROT_NONE), 0);
    return guard - count;
}

/* Masked loads may not touch the lanes they leave out: a full vector load
 * of a row's last partial vector would read past the dataset's end. Every
 * input here ends at a guard page; a read past it is a crash. */
static void no_loop_reads_past_the_last_value(void **state)
{
    (void)state;
    const galann_narrow_kernels *k = kernels_or_skip();
    size_t cols = 37, rows = 3, b = 3;
    void *maps[6];
    size_t lengths[6];
    double *x = before_a_guard_page(b * cols * sizeof(double), &maps[0], &lengths[0]);
    double *theta = before_a_guard_page(rows * (cols + 1) * sizeof(double), &maps[1], &lengths[1]);
    uint8_t *bytes = before_a_guard_page(b * cols, &maps[2], &lengths[2]);
    float *values = before_a_guard_page(b * cols * sizeof(float), &maps[3], &lengths[3]);
    float *theta_f = before_a_guard_page(rows * (cols + 1) * sizeof(float), &maps[4], &lengths[4]);
    double *delta = before_a_guard_page(b * rows * sizeof(double), &maps[5], &lengths[5]);
    for (size_t i = 0; i < b * cols; i++) {
        x[i] = 0.5;
        bytes[i] = 7;
        values[i] = 0.25f;
    }
    for (size_t i = 0; i < rows * (cols + 1); i++) {
        theta[i] = 0.125;
        theta_f[i] = 0.125f;
    }
    for (size_t i = 0; i < b * rows; i++)
        delta[i] = 1.0;
    double z[9], grad[3 * 38], converted[3 * 37];
    float z_f[9], delta_f[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    void *scratch = zeroed(k->scratch_bytes(b));
    k->forward(x, cols, b, theta, rows, cols, z, scratch);
    k->gradient(x, cols, b, delta, rows, cols, grad, 1);
    k->u8_rows(bytes, b * cols, 255.0, converted);
    for (int kind = 0; kind <= 2; kind++) {
        block_rows rows_in = { .values = values, .bytes = kind == 1 ? bytes : NULL,
                               .doubles = kind == 2 ? x : NULL, .ld = cols };
        k->forward_f32(&rows_in, b, theta_f, rows, cols, 1.0, z_f);
        k->gradient_f32(&rows_in, b, delta_f, rows, cols, 1.0, grad, 1);
    }
    /* and the numbers are right: 37 x 0.5 x 0.125 + 0.125 */
    assert_true(z[8] == 0.125 + 37 * 0.0625);
    assert_true(converted[3 * 37 - 1] == 7.0 / 255.0);
    free(scratch);
    for (int i = 0; i < 6; i++)
        munmap(maps[i], lengths[i]);
}

/* The conversion's arithmetic is used only where it gives the table's
 * bits for every byte: one value a unit in the last place off, or a -0.0
 * where the division gives +0.0, and it is refused. */
static void u8_conversion_is_used_only_where_it_gives_the_table_bits(void **state)
{
    (void)state;
    const galann_narrow_kernels *k = kernels_or_skip();
    double table[256];
    static const double divisors[] = { 255.0, 1.0, 7.0, 0.3, -2.5, 65535.0, 1e-300, 1e300 };
    for (size_t d = 0; d < COUNT(divisors); d++) {
        for (int p = 0; p < 256; p++)
            table[p] = (double)p / divisors[d];
        assert_int_equal(k->u8_exact(table, divisors[d]), 1);
        /* the rows: every byte value, a count that is not a multiple of 8 */
        uint8_t bytes[259];
        double out[259];
        for (int i = 0; i < 259; i++)
            bytes[i] = (uint8_t)(i * 97 % 256);
        k->u8_rows(bytes, 259, divisors[d], out);
        for (int i = 0; i < 259; i++)
            assert_memory_equal(&out[i], &table[bytes[i]], sizeof out[i]);
    }
    for (int p = 0; p < 256; p++)
        table[p] = (double)p / 255.0;
    table[3] = nextafter(table[3], 1.0);
    assert_int_equal(k->u8_exact(table, 255.0), 0);
    table[3] = 3.0 / 255.0;
    table[0] = -0.0;
    assert_int_equal(k->u8_exact(table, 255.0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(double_products_equal_a_plain_computation_for_every_shape),
        cmocka_unit_test(single_products_equal_a_plain_computation_from_floats_and_bytes),
        cmocka_unit_test(a_sample_gets_the_same_bits_alone_or_paired),
        cmocka_unit_test(no_loop_reads_past_the_last_value),
        cmocka_unit_test(u8_conversion_is_used_only_where_it_gives_the_table_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
