/*
 * bench_util.h -- the few helpers the benchmarks share: a monotonic clock,
 * the median of repeats, and the FLOP count of one cost+gradient.
 *
 * Header-only (static functions) because each benchmark is one file and
 * none of this belongs in the library.
 */
#ifndef GALANN_BENCH_UTIL_H
#define GALANN_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

static inline double bench_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place. */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Floating-point operations of one cost+gradient over m samples: the
 * forward products and the gradient products, 2 * 2 * s_l * (s_{l-1} + 1)
 * per sample and layer, and the back-propagated deltas,
 * 2 * s_l * s_{l-1} for l >= 2. The activations, the cost and the bias
 * sums are left out: a lower bound. 1024-8-3: 32 956 per sample, 89 MFLOP
 * for the galaxy set's 2 700 samples. */
static inline double bench_flops_per_evaluation(const size_t *sizes, size_t n_layers, size_t m)
{
    double f = 0.0;
    for (size_t l = 1; l < n_layers; l++) {
        f += 2.0 * 2.0 * (double)sizes[l] * (double)(sizes[l - 1] + 1);
        if (l >= 2)
            f += 2.0 * (double)sizes[l] * (double)sizes[l - 1];
    }
    return f * (double)m;
}

#endif
