/*
 * bench.c -- how fast is cost+gradient, per backend and thread count?
 *
 * Times galann_cost_gradient on the galaxy training set (or synthetic data
 * of the same shape when it is absent) for network 1024-8-3 at the
 * original's initial weights, and reports milliseconds (median of repeats),
 * GFLOP/s, and the ratio to one read of the data matrix measured in the
 * same run; then how the time grows with the number of samples (1x, 10x,
 * 100x the data, replicated). Device backends run with profiling on, and
 * their time is split into weight upload, kernels and result download.
 *
 * Not a test: it asserts nothing. Usage:
 *   bench [--data train.csv] [--reps N] [--scales 1,10,100] [--backends a,b]
 *         [--max-threads T | --threads 1,2,16] [--csv FILE]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "galann.h"
#include "bench_util.h"

/* One read of the matrix: the floor for anything that must touch every
 * sample once. Summing defeats dead-code elimination. */
static double time_one_read(const double *x, size_t count, int reps)
{
    double *t = malloc((size_t)reps * sizeof *t);
    volatile double sink = 0.0;
    for (int r = 0; r < reps; r++) {
        double start = bench_now_seconds(), s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t i = 0;
        for (; i + 4 <= count; i += 4) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
        }
        for (; i < count; i++)
            s0 += x[i];
        sink += s0 + s1 + s2 + s3;
        t[r] = bench_now_seconds() - start;
    }
    (void)sink;
    double med = bench_median(t, reps);
    free(t);
    return med;
}

static galann_dataset *replicate(const galann_dataset *d, size_t times)
{
    size_t m = galann_dataset_n_samples(d), n = galann_dataset_n_features(d);
    double *x = malloc(m * times * n * sizeof *x);
    int32_t *y = malloc(m * times * sizeof *y);
    galann_dataset *out = NULL;
    if (x && y) {
        for (size_t t = 0; t < times; t++) {
            memcpy(x + t * m * n, galann_dataset_features(d), m * n * sizeof *x);
            memcpy(y + t * m, galann_dataset_labels(d), m * sizeof *y);
        }
        galann_dataset_new(x, y, m * times, n, galann_dataset_n_labels(d), &out);
    }
    free(x);
    free(y);
    return out;
}

static galann_dataset *synthetic_galaxy_shape(void)
{
    size_t m = 2700, n = 1024;
    double *x = malloc(m * n * sizeof *x);
    int32_t *y = malloc(m * sizeof *y);
    galann_dataset *d = NULL;
    uint64_t s = 917;
    if (x && y) {
        for (size_t i = 0; i < m * n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = (double)(s >> 56) / 255.0;
        }
        for (size_t i = 0; i < m; i++)
            y[i] = (int32_t)(i % 3);
        galann_dataset_new(x, y, m, n, 3, &d);
    }
    free(x);
    free(y);
    return d;
}

typedef struct bench_options {
    const char *data;
    int reps;
    size_t scales[8];
    int n_scales;
    const char *backends;
    int max_threads;
    int thread_counts[16];  /* --threads LIST; 0 entries = 1..max_threads */
    int n_thread_counts;
    const char *csv;
} bench_options;

/* Device time per evaluation, in ms, for the evaluations timed since *before. */
typedef struct device_split {
    double upload, kernels, download;
    double combine;   /* exact combination (blas), ms per evaluation */
} device_split;

static double time_cost_gradient(galann_context *c, galann_model *m, const galann_dataset *d, int reps,
                                 device_split *split)
{
    size_t n = galann_model_n_params(m);
    double *grad = malloc(n * sizeof *grad), cost;
    double *t = malloc((size_t)reps * sizeof *t);
    /* the first call uploads / prepares the dataset: not timed */
    if (galann_cost_gradient(c, m, d, 1.0, &cost, grad, n) != GALANN_OK) {
        fprintf(stderr, "bench: %s\n", galann_last_error());
        free(grad);
        free(t);
        return NAN;
    }
    galann_profile before = { .struct_size = sizeof before }, after = { .struct_size = sizeof after };
    galann_context_profile(c, &before);
    for (int r = 0; r < reps; r++) {
        double start = bench_now_seconds();
        galann_cost_gradient(c, m, d, 1.0, &cost, grad, n);
        t[r] = bench_now_seconds() - start;
    }
    galann_context_profile(c, &after);
    double per = 1e3 / (double)reps;
    split->upload = (after.upload_seconds - before.upload_seconds) * per;
    split->kernels = (after.kernel_seconds - before.kernel_seconds) * per;
    split->download = (after.download_seconds - before.download_seconds) * per;
    split->combine = (after.combine_seconds - before.combine_seconds) * per;
    double med = bench_median(t, reps);
    free(grad);
    free(t);
    return med;
}

static int backend_selected(const bench_options *o, const char *name)
{
    if (!o->backends)
        return 1;
    const char *p = strstr(o->backends, name);
    size_t len = strlen(name);
    return p && (p == o->backends || p[-1] == ',') && (p[len] == '\0' || p[len] == ',');
}

static int parse_args(int argc, char **argv, bench_options *o)
{
    o->data = "../shared/data/galaxy/train.csv";
    o->reps = 20;
    o->scales[0] = 1;
    o->scales[1] = 10;
    o->scales[2] = 100;
    o->n_scales = 3;
    o->backends = NULL;
    o->max_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    o->csv = NULL;
    o->n_thread_counts = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            printf("usage: bench [--data train.csv] [--reps N] [--scales 1,10,100] [--backends a,b] "
                   "[--max-threads T | --threads 1,2,16] [--csv FILE]\n");
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "bench: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--data") == 0)
            o->data = v;
        else if (strcmp(a, "--reps") == 0)
            o->reps = atoi(v);
        else if (strcmp(a, "--backends") == 0)
            o->backends = v;
        else if (strcmp(a, "--max-threads") == 0)
            o->max_threads = atoi(v);
        else if (strcmp(a, "--csv") == 0)
            o->csv = v;
        else if (strcmp(a, "--threads") == 0) {
            for (char *p = (char *)v; *p && o->n_thread_counts < 16;) {
                o->thread_counts[o->n_thread_counts++] = (int)strtol(p, &p, 10);
                if (*p == ',')
                    p++;
            }
        }
        else if (strcmp(a, "--scales") == 0) {
            o->n_scales = 0;
            for (char *p = (char *)v; *p && o->n_scales < 8;) {
                o->scales[o->n_scales++] = (size_t)strtoul(p, &p, 10);
                if (*p == ',')
                    p++;
            }
        } else {
            fprintf(stderr, "bench: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (o->reps < 1)
        o->reps = 1;
    if (o->max_threads < 1)
        o->max_threads = 1;
    return 0;
}

int main(int argc, char **argv)
{
    bench_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;

    galann_dataset *base = NULL;
    const char *source = o.data;
    double load_times[5];
    int loads = 0;
    for (; loads < 5; loads++) {
        galann_dataset *d = NULL;
        double start = bench_now_seconds();
        if (galann_dataset_load_csv(o.data, &d) != GALANN_OK)
            break;
        load_times[loads] = bench_now_seconds() - start;
        galann_dataset_free(base);
        base = d;
    }
    if (loads == 5) {
        FILE *f = fopen(o.data, "rb");
        long bytes = 0;
        if (f && fseek(f, 0, SEEK_END) == 0)
            bytes = ftell(f);
        if (f)
            fclose(f);
        double t = bench_median(load_times, loads);
        printf("# CSV load of %s: %.1f ms, %.0f MB/s (median of 5)\n", o.data, t * 1e3, (double)bytes / t * 1e-6);
    }
    if (!base) {
        fprintf(stderr, "bench: %s; using synthetic data of the galaxy shape\n", galann_last_error());
        base = synthetic_galaxy_shape();
        source = "synthetic 2700x1024";
    }
    size_t layers[3] = { galann_dataset_n_features(base), 8, galann_dataset_n_labels(base) };
    galann_model *model = NULL;
    if (!base || galann_model_new(layers, 3, &model) != GALANN_OK || galann_model_init_random(model, 917) != GALANN_OK) {
        fprintf(stderr, "bench: %s\n", galann_last_error());
        return 1;
    }

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("# libgalann %s bench: cost+gradient, net %zu-%zu-%zu, data %s, %ld CPUs, median of %d\n",
           galann_version(), layers[0], layers[1], layers[2], source, cpus, o.reps);
    FILE *csv = o.csv ? fopen(o.csv, "w") : NULL;
    if (csv)
        fprintf(csv, "backend,threads,scale,samples,ms,gflops,read_ms,ratio_to_read,upload_ms,kernel_ms,download_ms\n");
    printf("%-10s %7s %6s %9s %10s %8s %9s %8s   %s\n", "backend", "threads", "scale", "samples", "ms", "GFLOP/s",
           "read ms", "x read", "device ms: upload / kernels / download");

    for (int s = 0; s < o.n_scales; s++) {
        size_t scale = o.scales[s];
        galann_dataset *d = scale == 1 ? base : replicate(base, scale);
        if (!d) {
            fprintf(stderr, "bench: cannot build the %zux data set\n", scale);
            continue;
        }
        size_t m = galann_dataset_n_samples(d);
        int reps = scale >= 100 ? (o.reps + 4) / 5 : o.reps;
        double read = time_one_read(galann_dataset_features(d), m * layers[0], reps * 2);
        double flops = bench_flops_per_evaluation(layers, 3, m);
        for (size_t b = 0; b < galann_backend_count(); b++) {
            const char *name = galann_backend_name(b);
            if (!backend_selected(&o, name) || galann_backend_available(name) != GALANN_OK)
                continue;
            /* the serial per-sample oracle is too slow to time at 100x */
            if (strcmp(name, "reference") == 0 && scale > 10)
                continue;
            int threaded = strcmp(name, "blas") == 0;
            int n_runs = !threaded ? 1 : (o.n_thread_counts ? o.n_thread_counts : o.max_threads);
            for (int run = 0; run < n_runs; run++) {
                int threads = !threaded ? 1 : (o.n_thread_counts ? o.thread_counts[run] : run + 1);
                galann_context_options co;
                galann_context_options_init(&co);
                co.threads = threads;
                co.profile = 1;
                galann_context *c = NULL;
                if (galann_context_new_ex(name, &co, &c) != GALANN_OK) {
                    fprintf(stderr, "bench: %s: %s\n", name, galann_last_error());
                    break;
                }
                device_split split = { 0.0, 0.0, 0.0, 0.0 };
                double t = time_cost_gradient(c, model, d, strcmp(name, "reference") == 0 ? (reps + 4) / 5 : reps,
                                              &split);
                if (isnan(t)) {
                    printf("%-10s %7d %5zux %9zu   did not run (see above)\n", name, threads, scale, m);
                    galann_context_free(c);
                    continue;
                }
                printf("%-10s %7d %5zux %9zu %10.3f %8.2f %9.3f %8.2f", name, threads, scale, m, t * 1e3,
                       flops / t * 1e-9, read * 1e3, t / read);
                if (split.kernels > 0.0)
                    printf("   %.3f / %.3f / %.3f", split.upload, split.kernels, split.download);
                if (split.combine > 0.0)
                    printf("   exact combination %.3f ms (%.1f %%)", split.combine, 100.0 * split.combine / (t * 1e3));
                putchar('\n');
                if (csv)
                    fprintf(csv, "%s,%d,%zu,%zu,%.6f,%.4f,%.6f,%.4f,%.6f,%.6f,%.6f\n", name, threads, scale, m,
                            t * 1e3, flops / t * 1e-9, read * 1e3, t / read, split.upload, split.kernels,
                            split.download);
                galann_context_free(c);
            }
        }
        if (d != base)
            galann_dataset_free(d);
    }
    if (csv)
        fclose(csv);
    galann_model_free(model);
    galann_dataset_free(base);
    return 0;
}
