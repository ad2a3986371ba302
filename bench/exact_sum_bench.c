/*
 * exact_sum_bench.c -- how much do the exact sums (lib/exact_sum.c) cost
 * where the blas backend uses them?
 *
 * One evaluation of the 1024-8-3 network adds a gradient of 8227 values
 * per chunk of samples into a per-thread accumulator, merges the
 * accumulators and rounds the 8227 sums once. This times each step on
 * gradient-like values (magnitudes 1e-6 .. 1e1 per component, varying
 * from chunk to chunk, mixed signs, a few exact zeros) and prints the
 * median in microseconds per call and nanoseconds per value. Also the span
 * and pack of the transport form, and unpack.
 *
 * Not a test: it asserts nothing. Usage: exact-sum-bench [n] [reps]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "galann.h"
#include "exact_sum.h"

#define CHUNKS 16   /* distinct gradient vectors, cycled through */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t next_random(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = *state;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 32);
}

static double uniform(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * 0x1p-53;
}

/* CHUNKS gradients: component i has a scale 10^U(-6, 1) and, per chunk,
 * a value of that scale within a factor of 4, negative 30 % of the time;
 * one component in 1000 is exactly zero in every chunk. */
static double *gradient_like_chunks(size_t n, uint64_t seed)
{
    double *g = malloc(CHUNKS * n * sizeof *g);
    if (!g)
        return NULL;
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        double scale = pow(10.0, -6.0 + 7.0 * uniform(&state));
        int zero = next_random(&state) % 1000 == 0;
        for (int c = 0; c < CHUNKS; c++) {
            double v = scale * (0.5 + 1.5 * uniform(&state));
            g[c * n + i] = zero ? 0.0 : uniform(&state) < 0.3 ? -v : v;
        }
    }
    return g;
}

/* The median, and the fastest run: this is often a virtual machine whose
 * time is stolen now and then, which the minimum is immune to. */
static void report(const char *what, double *seconds, int reps, size_t n)
{
    double t = median(seconds, reps), fastest = seconds[0];
    printf("%-30s %8.2f us %6.2f ns/value   (fastest %8.2f us %6.2f ns/value)\n", what, 1e6 * t,
           1e9 * t / (double)n, 1e6 * fastest, 1e9 * fastest / (double)n);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 8227;
    int reps = argc > 2 ? atoi(argv[2]) : 2000;
    if (n == 0 || reps <= 0) {
        fprintf(stderr, "usage: exact-sum-bench [n] [reps]\n");
        return 2;
    }
    int rc = 1;
    double *g = gradient_like_chunks(n, 917);
    double *out = malloc(n * sizeof *out);
    double *t = malloc((size_t)reps * sizeof *t);
    int64_t *span = malloc((2 * n + 1) * sizeof *span);
    int64_t *words = NULL;
    galann_exact_sum *a = NULL, *b = NULL;
    if (!g || !out || !t || !span || galann_exact_sum_new(n, &a) != GALANN_OK ||
        galann_exact_sum_new(n, &b) != GALANN_OK) {
        fprintf(stderr, "exact-sum-bench: out of memory\n");
        goto done;
    }
    printf("exact sums: n = %zu, %d repeats, median\n", n, reps);

    /* add: the accumulator of one thread over many chunks */
    for (int r = 0; r < reps; r++) {
        const double *chunk = g + (size_t)(r % CHUNKS) * n;
        double start = now_seconds();
        galann_exact_sum_add(a, 0, chunk, n);
        t[r] = now_seconds() - start;
    }
    report("add (one chunk's gradient)", t, reps, n);

    /* add into fresh accumulators: the first term of every sum opens it */
    for (int r = 0; r < reps; r++) {
        double start = now_seconds();
        galann_exact_sum_clear(b);
        galann_exact_sum_add(b, 0, g + (size_t)(r % CHUNKS) * n, n);
        t[r] = now_seconds() - start;
    }
    report("clear + first add", t, reps, n);

    /* merge: two threads' accumulators that started from different chunks */
    galann_exact_sum_clear(b);
    for (int c = CHUNKS - 1; c >= CHUNKS / 2; c--)
        galann_exact_sum_add(b, 0, g + (size_t)c * n, n);
    for (int r = 0; r < reps; r++) {
        double start = now_seconds();
        galann_exact_sum_merge(a, b, 0, n);
        t[r] = now_seconds() - start;
    }
    report("merge (all sums)", t, reps, n);

    for (int r = 0; r < reps; r++) {
        double start = now_seconds();
        galann_exact_sum_round(a, 0, n, out);
        t[r] = now_seconds() - start;
    }
    report("round (all sums)", t, reps, n);

    for (int r = 0; r < reps; r++) {
        double start = now_seconds();
        galann_exact_sum_span(a, span);
        t[r] = now_seconds() - start;
    }
    report("span", t, reps, n);

    size_t size = galann_exact_sum_pack_size(a, span);
    words = malloc(size * sizeof *words);
    if (!words) {
        fprintf(stderr, "exact-sum-bench: out of memory\n");
        goto done;
    }
    for (int r = 0; r < reps; r++) {
        double start = now_seconds();
        galann_exact_sum_pack(a, span, words);
        t[r] = now_seconds() - start;
    }
    report("pack", t, reps, n);
    printf("%-30s %8zu words (%.2f per sum)\n", "packed size", size, (double)size / (double)n);

    for (int r = 0; r < reps; r++) {
        double start = now_seconds();
        galann_exact_sum_unpack(b, span, words);
        t[r] = now_seconds() - start;
    }
    report("unpack", t, reps, n);

    double check = 0.0;
    for (size_t i = 0; i < n; i++)
        check += out[i];
    printf("(checksum of the rounded sums: %.17g)\n", check);
    rc = 0;
done:
    galann_exact_sum_free(b);
    galann_exact_sum_free(a);
    free(words);
    free(span);
    free(t);
    free(out);
    free(g);
    return rc;
}
