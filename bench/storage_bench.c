/*
 * storage_bench.c -- survey scale: what each storage type (u8, f32, f64)
 * and precision (double, single) costs per cost+gradient, in time and in
 * memory, from the galaxy set's size up to 1000 times it.
 *
 * For each scale, storage and backend a fresh child process (this program
 * again, with --child) builds the dataset, so its peak RSS belongs to that
 * configuration alone. The child:
 *
 *   1. puts the 2 700 galaxy images, in the storage type, into a memfd and
 *      maps it scale times back to back: a scale x 2 700-row array with
 *      only one copy of the data behind it (no double copy is ever made
 *      of u8 or f32 data);
 *   2. builds the dataset from that array (galann_dataset_new_u8, _new_f32
 *      or galann_dataset_new, which copy it), then unmaps the array;
 *   3. resets the peak (VmHWM, through /proc/self/clear_refs) and, per
 *      precision, creates a context, evaluates once (and with --fit runs
 *      galann_fit), and records the peak since the reset: the memory that
 *      training needs, the dataset included;
 *   4. times cost+gradient, interleaving the contexts of every precision
 *      and one read of the data in its storage type (every byte, float or
 *      double summed once, on one thread) repetition by repetition, and
 *      reports medians; a 1024^3 cblas_dgemm and cblas_sgemm just before
 *      and after are the floor's rate in the same window of time.
 *
 * The floor of one evaluation is its FLOPs at a gemm's rate: double
 * against dgemm, single against sgemm. The machine shared with others
 * changes speed from minute to minute, so each row is set against the
 * gemm timed in its own child ("x floor"), and also against the best
 * 2048^3 gemm of the whole run, measured by the parent at the start and
 * after each scale ("x peak"). The peak RSS while the dataset is built
 * (the caller's array and the library's copy both count there) is
 * reported apart from training's: that is the constructors' cost.
 *
 * The CBLAS linked here for the floor is the one the library loads
 * (OpenBLAS's DYNAMIC_ARCH picks its kernel per CPU, OPENBLAS_CORETYPE
 * overrides; the header line says which it took).
 *
 * Not a test: it asserts nothing. Linux only (memfd, /proc). Usage:
 *   storage-bench [--data train.csv] [--scales 1,10,100,1000]
 *                 [--storages u8,f32,f64] [--backends blas,opencl,reference]
 *                 [--precisions double,single] [--threads T] [--reps N]
 *                 [--rounds R] [--fit N] [--fit-storages u8] [--csv FILE]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef GALANN_BENCH_CBLAS
#include <cblas.h>
#endif

#include "galann.h"
#include "bench_util.h"

#define MAX_LIST 8
#define LINE 512

typedef struct options {
    const char *data;
    size_t scales[MAX_LIST];
    int n_scales;
    const char *storages;
    const char *backends;
    const char *precisions;
    int threads;
    int reps;          /* at 1x; fewer at larger scales (reps_at) */
    int rounds;        /* sweeps of the scales up to 10x; one above */
    size_t fit_iterations;
    const char *fit_storages;
    const char *csv;
} options;

static const char *storage_names[] = { "f64", "f32", "u8" }; /* by galann_storage */
static const char *precision_names[] = { "default", "double", "single", "any" };

static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += len) {
        if ((p == list || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
            return 1;
    }
    return 0;
}

static int reps_at(const options *o, size_t scale)
{
    int r = scale >= 1000 ? 3 : scale >= 100 ? 5 : scale >= 10 ? (o->reps + 2) / 3 : o->reps;
    return r < 1 ? 1 : r;
}

/* ------------------------------------------------------------ memory */

/* A field of /proc/self/status in kB ("VmHWM", "VmRSS"); -1 if absent. */
static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t len = strlen(field);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    if (f)
        fclose(f);
    return kb;
}

/* Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0). */
static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static long mem_available_kb(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "MemAvailable:", 13) == 0) {
            kb = strtol(line + 13, NULL, 10);
            break;
        }
    }
    if (f)
        fclose(f);
    return kb;
}

static void print_load(const char *when)
{
    FILE *f = fopen("/proc/loadavg", "r");
    char line[128] = "?";
    if (f) {
        if (!fgets(line, sizeof line, f))
            strcpy(line, "?\n");
        fclose(f);
    }
    printf("# load average (%s): %s", when, line);
}

/* ------------------------------------------------------------ one read */

/* Sum every stored value once, with four vector accumulators (GCC/Clang
 * vector extensions: the compiler does not vectorise a float sum by
 * itself, which would make the read look slower than memory). */
typedef double v4d __attribute__((vector_size(32)));
typedef float v8f __attribute__((vector_size(32)));

static double read_f64(const double *x, size_t count)
{
    v4d s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 }, v;
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        memcpy(&v, x + i, sizeof v);
        s0 += v;
        memcpy(&v, x + i + 4, sizeof v);
        s1 += v;
        memcpy(&v, x + i + 8, sizeof v);
        s2 += v;
        memcpy(&v, x + i + 12, sizeof v);
        s3 += v;
    }
    v4d s = s0 + s1 + s2 + s3;
    double total = s[0] + s[1] + s[2] + s[3];
    for (; i < count; i++)
        total += x[i];
    return total;
}

static double read_f32(const float *x, size_t count)
{
    v8f s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 }, v;
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        memcpy(&v, x + i, sizeof v);
        s0 += v;
        memcpy(&v, x + i + 8, sizeof v);
        s1 += v;
        memcpy(&v, x + i + 16, sizeof v);
        s2 += v;
        memcpy(&v, x + i + 24, sizeof v);
        s3 += v;
    }
    v8f s = s0 + s1 + s2 + s3;
    double total = 0.0;
    for (int j = 0; j < 8; j++)
        total += s[j];
    for (; i < count; i++)
        total += x[i];
    return total;
}

static double read_u8(const uint8_t *x, size_t count)
{
    uint64_t total = 0;
    /* a 32-bit sum of at most 2^24 bytes cannot overflow; the compiler
     * vectorises this inner loop */
    for (size_t i = 0; i < count;) {
        size_t end = count - i > ((size_t)1 << 24) ? i + ((size_t)1 << 24) : count;
        uint32_t s = 0;
        for (; i < end; i++)
            s += x[i];
        total += s;
    }
    return (double)total;
}

static double read_stored(int storage, const void *x, size_t count)
{
    switch (storage) {
    case GALANN_STORAGE_U8: return read_u8(x, count);
    case GALANN_STORAGE_F32: return read_f32(x, count);
    default: return read_f64(x, count);
    }
}

/* ------------------------------------------------------------ the floor */

typedef struct floor_figures {
    double dgemm_gflops, sgemm_gflops;
} floor_figures;

#ifdef GALANN_BENCH_CBLAS
/* GFLOP/s of C = A B for n x n matrices, each of reps timed calls after
 * one warm-up, into gflops[]; OpenBLAS's own threads (all CPUs unless
 * OPENBLAS_NUM_THREADS says). */
static void gemm_gflops(int single, int n, int reps, double *gflops)
{
    size_t count = (size_t)n * (size_t)n;
    size_t bytes = single ? sizeof(float) : sizeof(double);
    void *a = malloc(count * bytes), *b = malloc(count * bytes), *c = malloc(count * bytes);
    for (int r = 0; r < reps; r++)
        gflops[r] = 0.0;
    if (!a || !b || !c)
        goto done;
    for (size_t i = 0; i < count; i++) {
        double v = (double)((i * 2654435761u) % 1000) / 1000.0 - 0.5;
        if (single) {
            ((float *)a)[i] = (float)v;
            ((float *)b)[i] = (float)-v;
        } else {
            ((double *)a)[i] = v;
            ((double *)b)[i] = -v;
        }
    }
    for (int r = -1; r < reps; r++) {
        double start = bench_now_seconds();
        if (single)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
        double t = bench_now_seconds() - start;
        if (r >= 0)
            gflops[r] = 2.0 * n * (double)n * n / t * 1e-9;
    }
done:
    free(a);
    free(b);
    free(c);
}

static double max_of(const double *v, int n)
{
    double best = 0.0;
    for (int i = 0; i < n; i++)
        best = v[i] > best ? v[i] : best;
    return best;
}

/* OpenBLAS's threads spin (sched_yield) for about 2^28 cycles after a
 * call before they sleep: without a pause they would take a core from
 * whatever is timed next. */
static void let_blas_threads_sleep(void)
{
    struct timespec pause = { 0, 250000000 };
    nanosleep(&pause, NULL);
}
#endif

/* The parent's figure: 2048^3, best of 5, printed and folded into *best
 * (the peak is the best figure seen in the run). */
static void measure_floor(const char *when, floor_figures *best)
{
#ifdef GALANN_BENCH_CBLAS
    double g[5];
    floor_figures f;
    gemm_gflops(0, 2048, 5, g);
    f.dgemm_gflops = max_of(g, 5);
    gemm_gflops(1, 2048, 5, g);
    f.sgemm_gflops = max_of(g, 5);
    let_blas_threads_sleep();
    printf("# floor (%s): cblas_dgemm %.1f GFLOP/s, cblas_sgemm %.1f GFLOP/s (2048^3, best of 5)\n", when,
           f.dgemm_gflops, f.sgemm_gflops);
    if (f.dgemm_gflops > best->dgemm_gflops)
        best->dgemm_gflops = f.dgemm_gflops;
    if (f.sgemm_gflops > best->sgemm_gflops)
        best->sgemm_gflops = f.sgemm_gflops;
#else
    (void)when;
    (void)best;
#endif
    fflush(stdout);
}

/* The child's window: 1024^3, 3 calls each of dgemm and sgemm, appended
 * to d[] and s[] (*n entries so far), then the pause. */
static void floor_window(double *d, double *s, int *n)
{
#ifdef GALANN_BENCH_CBLAS
    gemm_gflops(0, 1024, 3, d + *n);
    gemm_gflops(1, 1024, 3, s + *n);
    *n += 3;
    let_blas_threads_sleep();
#else
    (void)d;
    (void)s;
    (void)n;
#endif
}

/* Which CBLAS answers (OpenBLAS says its kernel), when it can tell. */
static void print_cblas(void)
{
#ifdef GALANN_BENCH_CBLAS
    char *(*config)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_config");
    char *(*core)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    printf("# CBLAS linked for the floor: %s%s%s\n", config ? config() : "not OpenBLAS", core ? ", core " : "",
           core ? core() : "");
#endif
}

/* ------------------------------------------------------------ the child */

/* The galaxy images as stored bytes of the storage type: u8 pixels as
 * read, f32 and f64 the exact values p / 255 of the f64 dataset. */
static void *base_as(const galann_dataset *base, int storage, size_t *bytes)
{
    size_t m = galann_dataset_n_samples(base), n = galann_dataset_n_features(base);
    *bytes = m * n * (storage == GALANN_STORAGE_U8 ? 1 : storage == GALANN_STORAGE_F32 ? 4 : 8);
    if (storage == GALANN_STORAGE_U8 && galann_dataset_storage(base) == GALANN_STORAGE_U8) {
        void *p = malloc(*bytes);
        if (p)
            memcpy(p, galann_dataset_stored_features(base), *bytes);
        return p;
    }
    double *x = malloc(m * n * sizeof *x);
    if (!x || galann_dataset_copy_features(base, 0, m, x) != GALANN_OK) {
        free(x);
        return NULL;
    }
    if (storage == GALANN_STORAGE_F64)
        return x;
    if (storage == GALANN_STORAGE_F32) {
        float *f = malloc(m * n * sizeof *f);
        for (size_t i = 0; f && i < m * n; i++)
            f[i] = (float)x[i];
        free(x);
        return f;
    }
    /* u8 from a base that is not u8 (a file with other values): refuse */
    free(x);
    return NULL;
}

/* Map a memfd holding bytes (a multiple of the page size) times copies
 * back to back. *length receives the mapping's size, for munmap. */
static void *replicated_mapping(const void *bytes_in, size_t bytes, size_t times, size_t *length)
{
    long page = sysconf(_SC_PAGESIZE);
    if (bytes % (size_t)page != 0)
        return NULL;
    int fd = memfd_create("galann-bench", 0);
    if (fd < 0)
        return NULL;
    const char *p = bytes_in;
    for (size_t done = 0; done < bytes;) {
        ssize_t w = write(fd, p + done, bytes - done);
        if (w <= 0) {
            close(fd);
            return NULL;
        }
        done += (size_t)w;
    }
    *length = bytes * times;
    char *area = mmap(NULL, *length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) {
        close(fd);
        return NULL;
    }
    for (size_t t = 0; t < times; t++) {
        if (mmap(area + t * bytes, bytes, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
            munmap(area, *length);
            close(fd);
            return NULL;
        }
    }
    close(fd);  /* the mappings keep the memfd alive */
    return area;
}

static galann_dataset *load_base(const char *path, char *source, size_t source_size)
{
    galann_csv_options co;
    galann_csv_options_init(&co);
    co.storage = GALANN_STORAGE_U8;
    galann_dataset *d = NULL;
    if (galann_dataset_load_csv_with(path, &co, &d) == GALANN_OK) {
        snprintf(source, source_size, "%s", path);
        return d;
    }
    fprintf(stderr, "storage-bench: %s; using the built-in synthetic set of the same shape\n", galann_last_error());
    snprintf(source, source_size, "synthetic 2700x1024 (seed 917)");
    return galann_dataset_synthesize(2700, 917, &d) == GALANN_OK ? d : NULL;
}

static double time_one(galann_context *c, const galann_model *m, const galann_dataset *d, double *grad, size_t n,
                       double *cost)
{
    double start = bench_now_seconds();
    int status = galann_cost_gradient(c, m, d, 1.0, cost, grad, n);
    double t = bench_now_seconds() - start;
    return status == GALANN_OK ? t : NAN;
}

/* The child's result lines, read by the parent:
 *   floor <dgemm GFLOP/s> <sgemm GFLOP/s>
 *   skip <precision> <why>   (a precision the backend does not compute in)
 *   row <precision> <ms> <read_ms> <cost> <peak_kB> <fit_s> <fit_iters> <fit_evals> <build_s> <build_peak_kB>
 *   fail <precision> <message> */
static int run_child(const options *o, size_t scale, int storage, const char *backend)
{
    char source[256];
    galann_dataset *base = load_base(o->data, source, sizeof source);
    if (!base) {
        printf("fail - cannot load or synthesise the base data: %s\n", galann_last_error());
        return 1;
    }
    size_t m0 = galann_dataset_n_samples(base), n = galann_dataset_n_features(base);
    size_t k = galann_dataset_n_labels(base), m = m0 * scale;
    double divisor = galann_dataset_divisor(base);
    size_t base_bytes = 0, length = 0;
    void *stored = base_as(base, storage, &base_bytes);
    void *area = stored ? replicated_mapping(stored, base_bytes, scale, &length) : NULL;
    int32_t *y = malloc(m * sizeof *y);
    if (!area || !y) {
        printf("fail - cannot map %zu x the data (%s)\n", scale, strerror(errno));
        return 1;
    }
    for (size_t t = 0; t < scale; t++)
        memcpy(y + t * m0, galann_dataset_labels(base), m0 * sizeof *y);
    free(stored);
    galann_dataset_free(base);

    galann_dataset *d = NULL;
    double start = bench_now_seconds();
    int status = storage == GALANN_STORAGE_U8 ? galann_dataset_new_u8(area, y, m, n, k, divisor, &d)
                 : storage == GALANN_STORAGE_F32 ? galann_dataset_new_f32(area, y, m, n, k, &d)
                 : galann_dataset_new(area, y, m, n, k, &d);
    double build_s = bench_now_seconds() - start;
    munmap(area, length);
    free(y);
    long build_peak_kb = status_kb("VmHWM");  /* before any reset below */
    if (status != GALANN_OK) {
        printf("fail - %s\n", galann_last_error());
        return 1;
    }

    size_t layers[3] = { n, 8, k };
    galann_model *model = NULL;
    if (galann_model_new(layers, 3, &model) != GALANN_OK || galann_model_init_random(model, 917) != GALANN_OK) {
        printf("fail - %s\n", galann_last_error());
        return 1;
    }
    size_t n_params = galann_model_n_params(model);
    double *grad = malloc(n_params * sizeof *grad);

    /* every precision asked for; a backend that does not compute in one
     * refuses it when the context is made (reported, not an error) */
    int precisions[2], n_prec = 0;
    if (listed(o->precisions, "double"))
        precisions[n_prec++] = GALANN_PRECISION_DOUBLE;
    if (listed(o->precisions, "single"))
        precisions[n_prec++] = GALANN_PRECISION_SINGLE;

    long peak_kb[2] = { -1, -1 };
    double fit_s[2] = { 0, 0 };
    size_t fit_iters[2] = { 0, 0 }, fit_evals[2] = { 0, 0 };
    galann_context *ctx[2] = { NULL, NULL };
    int usable[2] = { 0, 0 };
    int fit = o->fit_iterations > 0 && listed(o->fit_storages, storage_names[storage]);

    /* memory: one precision at a time, each from a fresh peak */
    for (int p = 0; p < n_prec; p++) {
        galann_context_options co;
        galann_context_options_init(&co);
        co.threads = strcmp(backend, "blas") == 0 ? o->threads : 0;
        co.precision = precisions[p];
        reset_peak();
        galann_context *c = NULL;
        double cost;
        status = galann_context_new_ex(backend, &co, &c);
        if (status == GALANN_ERR_UNAVAILABLE) {
            printf("skip %s %s\n", precision_names[precisions[p]], galann_last_error());
            continue;
        }
        if (status != GALANN_OK || galann_cost_gradient(c, model, d, 1.0, &cost, grad, n_params) != GALANN_OK) {
            printf("fail %s %s\n", precision_names[precisions[p]], galann_last_error());
            galann_context_free(c);
            continue;
        }
        if (fit) {
            galann_model *trained = NULL;
            galann_fit_options fo;
            galann_fit_options_init(&fo);
            fo.max_iterations = o->fit_iterations;
            galann_fit_report fr;
            galann_fit_report_init(&fr);
            start = bench_now_seconds();
            if (galann_model_copy(model, &trained) != GALANN_OK || galann_fit(c, trained, d, &fo, &fr) != GALANN_OK) {
                printf("fail %s galann_fit: %s\n", precision_names[precisions[p]], galann_last_error());
                galann_model_free(trained);
                galann_context_free(c);
                continue;
            }
            fit_s[p] = bench_now_seconds() - start;
            fit_iters[p] = fr.iterations;
            fit_evals[p] = fr.evaluations;
            galann_model_free(trained);
        }
        peak_kb[p] = status_kb("VmHWM");
        galann_context_free(c);
        usable[p] = 1;
    }

    /* time: every precision's context and the read, interleaved */
    for (int p = 0; p < n_prec; p++) {
        if (!usable[p])
            continue;
        galann_context_options co;
        galann_context_options_init(&co);
        co.threads = strcmp(backend, "blas") == 0 ? o->threads : 0;
        co.precision = precisions[p];
        double cost;
        if (galann_context_new_ex(backend, &co, &ctx[p]) != GALANN_OK ||
            galann_cost_gradient(ctx[p], model, d, 1.0, &cost, grad, n_params) != GALANN_OK) {
            printf("fail %s %s\n", precision_names[precisions[p]], galann_last_error());
            usable[p] = 0;
        }
    }
    int reps = reps_at(o, scale);
    if (strcmp(backend, "reference") == 0)
        reps = (reps + 4) / 5;
    double *t_eval[2], *t_read = malloc((size_t)reps * sizeof *t_read), cost[2] = { NAN, NAN };
    t_eval[0] = malloc((size_t)reps * sizeof *t_eval[0]);
    t_eval[1] = malloc((size_t)reps * sizeof *t_eval[1]);
    volatile double sink = 0.0;
    const void *x = galann_dataset_stored_features(d);
    double floor_d[6], floor_s[6];
    int n_floor = 0;
    floor_window(floor_d, floor_s, &n_floor);
    for (int r = 0; r < reps; r++) {
        start = bench_now_seconds();
        sink += read_stored(storage, x, m * n);
        t_read[r] = bench_now_seconds() - start;
        for (int p = 0; p < n_prec; p++)
            t_eval[p][r] = usable[p] ? time_one(ctx[p], model, d, grad, n_params, &cost[p]) : NAN;
    }
    (void)sink;
    floor_window(floor_d, floor_s, &n_floor);
    if (n_floor)
        printf("floor %.4f %.4f\n", bench_median(floor_d, n_floor), bench_median(floor_s, n_floor));
    double read_s = bench_median(t_read, reps);
    for (int p = 0; p < n_prec; p++) {
        if (!usable[p])
            continue;
        printf("row %s %.6f %.6f %.15g %ld %.4f %zu %zu %.4f %ld\n", precision_names[precisions[p]],
               bench_median(t_eval[p], reps) * 1e3, read_s * 1e3, cost[p], peak_kb[p], fit_s[p], fit_iters[p],
               fit_evals[p], build_s, build_peak_kb);
        galann_context_free(ctx[p]);
    }
    fflush(stdout);
    free(t_read);
    free(t_eval[0]);
    free(t_eval[1]);
    free(grad);
    galann_model_free(model);
    galann_dataset_free(d);
    return 0;
}

/* ------------------------------------------------------------ the parent */

typedef struct result {
    size_t scale;
    int storage;
    char backend[16];
    char precision[16];
    double ms[8], read_ms[8];   /* per round */
    double floor_gflops[8];     /* per round: the child's gemm in its precision */
    int n;
    double cost;
    long peak_kb, build_peak_kb;
    double fit_s, build_s;
    size_t fit_iters, fit_evals;
} result;

static result results[256];
static int n_results;

static result *find_result(size_t scale, int storage, const char *backend, const char *precision)
{
    for (int i = 0; i < n_results; i++) {
        result *r = &results[i];
        if (r->scale == scale && r->storage == storage && strcmp(r->backend, backend) == 0 &&
            strcmp(r->precision, precision) == 0)
            return r;
    }
    if (n_results == (int)(sizeof results / sizeof results[0]))
        return NULL;
    result *r = &results[n_results++];
    memset(r, 0, sizeof *r);
    r->scale = scale;
    r->storage = storage;
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    snprintf(r->precision, sizeof r->precision, "%s", precision);
    return r;
}

/* Run one child and collect its rows. */
static void spawn(const options *o, const char *self, size_t scale, int storage, const char *backend, int round)
{
    char scale_s[32], fit_s[32], threads_s[32], reps_s[32];
    snprintf(scale_s, sizeof scale_s, "%zu", scale);
    snprintf(fit_s, sizeof fit_s, "%zu", o->fit_iterations);
    snprintf(threads_s, sizeof threads_s, "%d", o->threads);
    snprintf(reps_s, sizeof reps_s, "%d", o->reps);
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(self, self, "--child", scale_s, storage_names[storage], backend, "--data", o->data, "--threads",
              threads_s, "--reps", reps_s, "--fit", fit_s, "--fit-storages", o->fit_storages, "--precisions",
              o->precisions, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[LINE];
    double floor_d = 0.0, floor_s = 0.0;
    while (in && fgets(line, sizeof line, in)) {
        char precision[16];
        result row;
        if (sscanf(line, "floor %lf %lf", &floor_d, &floor_s) == 2)
            continue;
        if (strncmp(line, "skip ", 5) == 0) {
            if (round == 0)
                printf("# %zux %s %s: not run: %s", scale, storage_names[storage], backend, line + 5);
            continue;
        }
        if (strncmp(line, "fail ", 5) == 0) {
            printf("# %zux %s %s: did not run: %s", scale, storage_names[storage], backend, line + 5);
            continue;
        }
        if (sscanf(line, "row %15s %lf %lf %lf %ld %lf %zu %zu %lf %ld", precision, &row.ms[0], &row.read_ms[0],
                   &row.cost, &row.peak_kb, &row.fit_s, &row.fit_iters, &row.fit_evals, &row.build_s,
                   &row.build_peak_kb) != 10)
            continue;
        result *r = find_result(scale, storage, backend, precision);
        if (!r || r->n >= 8)
            continue;
        r->ms[r->n] = row.ms[0];
        r->read_ms[r->n] = row.read_ms[0];
        r->floor_gflops[r->n] = strcmp(precision, "single") == 0 ? floor_s : floor_d;
        r->n++;
        r->cost = row.cost;
        r->peak_kb = row.peak_kb > r->peak_kb ? row.peak_kb : r->peak_kb;
        if (row.fit_s > 0) {
            r->fit_s = row.fit_s;
            r->fit_iters = row.fit_iters;
            r->fit_evals = row.fit_evals;
        }
        r->build_s = row.build_s;
        r->build_peak_kb = row.build_peak_kb;
    }
    if (in)
        fclose(in);
    int wstatus = 0;
    if (waitpid(pid, &wstatus, 0) == pid) {
        if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
            printf("# %zux %s %s: the child ended with status %d\n", scale, storage_names[storage], backend,
                   WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus));
    }
}

static double median_of(const double *v, int n)
{
    double copy[8];
    memcpy(copy, v, (size_t)n * sizeof *v);
    return bench_median(copy, n);
}

static double ms_of(const result *r)
{
    return r && r->n ? median_of(r->ms, r->n) : NAN;
}

/* The median over rounds of the time over the floor timed in the same
 * child (its gemm in the row's precision). */
static double x_floor_of(const result *r)
{
    static const size_t layers[3] = { 1024, 8, 3 };
    double flops = bench_flops_per_evaluation(layers, 3, r->scale * 2700), x[8];
    for (int k = 0; k < r->n; k++)
        x[k] = r->floor_gflops[k] > 0 ? r->ms[k] / (flops / (r->floor_gflops[k] * 1e9) * 1e3) : NAN;
    return r->n ? median_of(x, r->n) : NAN;
}

static result *lookup(size_t scale, int storage, const char *backend, const char *precision)
{
    for (int i = 0; i < n_results; i++) {
        result *r = &results[i];
        if (r->scale == scale && r->storage == storage && strcmp(r->backend, backend) == 0 &&
            strcmp(r->precision, precision) == 0 && r->n > 0)
            return r;
    }
    return NULL;
}

static int parse_list(const char *v, size_t *out, int max)
{
    int count = 0;
    for (char *p = (char *)v; *p && count < max;) {
        out[count++] = (size_t)strtoul(p, &p, 10);
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return count;
}

static int parse_args(int argc, char **argv, options *o, int *child, size_t *child_scale, int *child_storage,
                      const char **child_backend)
{
    o->data = "../shared/data/galaxy/train.csv";
    o->scales[0] = 1;
    o->scales[1] = 10;
    o->scales[2] = 100;
    o->scales[3] = 1000;
    o->n_scales = 4;
    o->storages = "u8,f32,f64";
    o->backends = "blas,opencl,reference";
    o->precisions = "double,single";
    o->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    o->reps = 21;
    o->rounds = 3;
    o->fit_iterations = 0;
    o->fit_storages = "u8";
    o->csv = NULL;
    *child = 0;
    int i = 1;
    if (argc >= 5 && strcmp(argv[1], "--child") == 0) {
        *child = 1;
        *child_scale = (size_t)strtoul(argv[2], NULL, 10);
        *child_storage = strcmp(argv[3], "u8") == 0 ? GALANN_STORAGE_U8
                         : strcmp(argv[3], "f32") == 0 ? GALANN_STORAGE_F32 : GALANN_STORAGE_F64;
        *child_backend = argv[4];
        i = 5;
    }
    for (; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            printf("usage: storage-bench [--data train.csv] [--scales 1,10,100,1000] [--storages u8,f32,f64]\n"
                   "                     [--backends blas,opencl,reference] [--precisions double,single]\n"
                   "                     [--threads T] [--reps N] [--rounds R] [--fit N] [--fit-storages u8]\n"
                   "                     [--csv FILE]\n");
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "storage-bench: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--data") == 0)
            o->data = v;
        else if (strcmp(a, "--scales") == 0) {
            o->n_scales = parse_list(v, o->scales, MAX_LIST);
            if (o->n_scales < 1) {
                fprintf(stderr, "storage-bench: bad --scales %s\n", v);
                return 2;
            }
        } else if (strcmp(a, "--storages") == 0)
            o->storages = v;
        else if (strcmp(a, "--backends") == 0)
            o->backends = v;
        else if (strcmp(a, "--precisions") == 0)
            o->precisions = v;
        else if (strcmp(a, "--threads") == 0)
            o->threads = atoi(v);
        else if (strcmp(a, "--reps") == 0)
            o->reps = atoi(v);
        else if (strcmp(a, "--rounds") == 0)
            o->rounds = atoi(v);
        else if (strcmp(a, "--fit") == 0)
            o->fit_iterations = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--fit-storages") == 0)
            o->fit_storages = v;
        else if (strcmp(a, "--csv") == 0)
            o->csv = v;
        else {
            fprintf(stderr, "storage-bench: unknown option %s\n", a);
            return 2;
        }
    }
    if (o->reps < 1)
        o->reps = 1;
    if (o->rounds < 1)
        o->rounds = 1;
    if (o->rounds > 8)
        o->rounds = 8;
    if (o->threads < 1)
        o->threads = 1;
    return 0;
}

/* Which (scale, storage, backend) children to run; the reason when not. */
static const char *skip_reason(size_t scale, int storage, const char *backend, size_t bytes)
{
    static char why[160];
    if (strcmp(backend, "reference") == 0 && scale > 1)
        return "the serial oracle is timed at 1x only";
    if (strcmp(backend, "opencl") == 0 && scale > 100)
        return "timed up to 100x, to keep the run short (on PoCL, the CPU: about 13 s per evaluation at 1000x)";
    if (storage == GALANN_STORAGE_F64 && scale >= 1000)
        return "f64 at 1000x is 22 GB, more than this machine's memory";
    long avail = mem_available_kb();
    /* the dataset, plus its source array while it is built (counted in
     * RSS though one copy of the data backs it), plus 512 MB */
    if (avail > 0 && (double)avail * 1024.0 < 1.15 * (double)bytes + 512e6) {
        snprintf(why, sizeof why, "needs about %.1f GB, %.1f GB available now", (1.15 * (double)bytes + 512e6) * 1e-9,
                 (double)avail * 1024e-9);
        return why;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    options o;
    int child = 0, child_storage = 0;
    size_t child_scale = 1;
    const char *child_backend = NULL;
    int rc = parse_args(argc, argv, &o, &child, &child_scale, &child_storage, &child_backend);
    if (rc)
        return rc;
    if (child)
        return run_child(&o, child_scale, child_storage, child_backend);

    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 1;
    self[len] = '\0';

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("# libgalann %s storage-bench: cost+gradient of 1024-8-3 at the seed-917 weights, data %s\n",
           galann_version(), o.data);
    printf("# %ld CPUs, blas threads %d, reps %d at 1x (fewer above: 1/3 at 10x, 5 at 100x, 3 at 1000x), "
           "rounds %d up to 10x, fit %zu iterations in %s\n", cpus, o.threads, o.reps, o.rounds, o.fit_iterations,
           o.fit_storages);
    print_load("start");
    print_cblas();
    floor_figures best = { 0.0, 0.0 };
    measure_floor("start", &best);

    static const char *backend_order[] = { "blas", "opencl", "reference" };
    static const int storage_order[] = { GALANN_STORAGE_U8, GALANN_STORAGE_F32, GALANN_STORAGE_F64 };
    for (int s = 0; s < o.n_scales; s++) {
        size_t scale = o.scales[s];
        int rounds = scale <= 10 ? o.rounds : 1;
        for (int round = 0; round < rounds; round++) {
            for (int si = 0; si < 3; si++) {
                int storage = storage_order[si];
                if (!listed(o.storages, storage_names[storage]))
                    continue;
                size_t bytes = scale * 2700 * 1024 * (storage == GALANN_STORAGE_U8 ? 1 : storage == GALANN_STORAGE_F32 ? 4 : 8);
                for (int b = 0; b < 3; b++) {
                    const char *backend = backend_order[b];
                    if (!listed(o.backends, backend) || galann_backend_available(backend) != GALANN_OK)
                        continue;
                    const char *why = skip_reason(scale, storage, backend, bytes);
                    if (why) {
                        if (round == 0)
                            printf("# %zux %s %s: not run: %s\n", scale, storage_names[storage], backend, why);
                        continue;
                    }
                    spawn(&o, self, scale, storage, backend, round);
                    fflush(stdout);
                }
            }
        }
        char when[64];
        snprintf(when, sizeof when, "after %zux", scale);
        print_load(when);
        measure_floor(when, &best);
    }
    double dpeak = best.dgemm_gflops, speak = best.sgemm_gflops;
    print_load("end");

    FILE *csv = o.csv ? fopen(o.csv, "w") : NULL;
    if (csv)
        fprintf(csv, "scale,samples,storage,precision,backend,ms,us_per_sample,read_ms,x_read,window_gflops,"
                     "x_window_floor,peak_gflops,x_peak_floor,peak_train_mib,peak_build_mib,cost,fit_s,"
                     "fit_iterations,fit_evaluations,build_s,rounds\n");
    printf("\n%6s %8s %-4s %-6s %-9s %10s %9s %9s %7s %7s %7s %7s %9s %9s %s\n", "scale", "samples", "stor", "prec",
           "backend", "ms", "us/sample", "read ms", "x read", "GF/s", "x floor", "x peak", "peak MiB", "build MiB",
           "galann_fit");
    size_t layers[3] = { 1024, 8, 3 };
    for (int i = 0; i < n_results; i++) {
        result *r = &results[i];
        if (r->n == 0)
            continue;
        size_t samples = r->scale * 2700;
        double flops = bench_flops_per_evaluation(layers, 3, samples);
        double ms = ms_of(r), read_ms = median_of(r->read_ms, r->n);
        double window = median_of(r->floor_gflops, r->n), x_floor = x_floor_of(r);
        double peak = strcmp(r->precision, "single") == 0 ? speak : dpeak;
        double x_peak = peak > 0 ? ms / (flops / (peak * 1e9) * 1e3) : NAN;
        char fit[64] = "";
        if (r->fit_s > 0)
            snprintf(fit, sizeof fit, "%.1f s, %zu it., %zu ev.", r->fit_s, r->fit_iters, r->fit_evals);
        printf("%5zux %8zu %-4s %-6s %-9s %10.3f %9.3f %9.3f %7.2f %7.1f %7.2f %7.2f %9.1f %9.1f %s\n", r->scale,
               samples, storage_names[r->storage], r->precision, r->backend, ms, ms * 1e3 / (double)samples, read_ms,
               ms / read_ms, window, x_floor, x_peak, (double)r->peak_kb / 1024.0, (double)r->build_peak_kb / 1024.0,
               fit);
        if (csv)
            fprintf(csv, "%zu,%zu,%s,%s,%s,%.6f,%.6f,%.6f,%.4f,%.3f,%.4f,%.3f,%.4f,%.1f,%.1f,%.15g,%.4f,%zu,%zu,%.4f,%d\n",
                    r->scale, samples, storage_names[r->storage], r->precision, r->backend, ms,
                    ms * 1e3 / (double)samples, read_ms, ms / read_ms, window, x_floor, peak, x_peak,
                    (double)r->peak_kb / 1024.0, (double)r->build_peak_kb / 1024.0, r->cost, r->fit_s, r->fit_iters,
                    r->fit_evals, r->build_s, r->n);
    }
    if (csv)
        fclose(csv);

    printf("\n# one evaluation is %.1f MFLOP per 2700 samples (bench_util.h); its floor is those FLOPs at a gemm's rate.\n"
           "# GF/s, x floor: cblas_dgemm (double) or cblas_sgemm (single) of 1024^3, timed in the same child just\n"
           "#   before and after its evaluations (median of 6), and the time over the floor at that rate;\n"
           "# x peak: the same against the best 2048^3 figure of the whole run: FP64 %.1f GFLOP/s, FP32 %.1f GFLOP/s\n",
           bench_flops_per_evaluation(layers, 3, 2700) * 1e-6, dpeak, speak);
    printf("# single over double (same child, interleaved): time ratio double / single\n");
    for (int s = 0; s < o.n_scales; s++) {
        for (int b = 0; b < 3; b++) {
            for (int si = 0; si < 3; si++) {
                result *d = lookup(o.scales[s], storage_order[si], backend_order[b], "double");
                result *g = lookup(o.scales[s], storage_order[si], backend_order[b], "single");
                if (d && g)
                    printf("#   %5zux %-4s %-9s %.2fx\n", o.scales[s], storage_names[storage_order[si]],
                           backend_order[b], ms_of(d) / ms_of(g));
            }
        }
    }
    printf("# time per sample against 1x (same storage, precision, backend): as timed, and with each child's\n"
           "#   time divided by the floor timed in that child (x floor against x floor), which takes out the\n"
           "#   machine's own changes of speed between the children\n");
    for (int i = 0; i < n_results; i++) {
        result *r = &results[i], *one = lookup(1, r->storage, r->backend, r->precision);
        if (r->n == 0 || r->scale == 1 || !one)
            continue;
        printf("#   %5zux %-4s %-6s %-9s %.2fx as timed, %.2fx against the floor\n", r->scale,
               storage_names[r->storage], r->precision, r->backend, ms_of(r) / (double)r->scale / ms_of(one),
               x_floor_of(r) / x_floor_of(one));
    }
    printf("# peak MiB: the highest VmHWM from a reset after the dataset was built (its source unmapped) to the end\n"
           "#   of one evaluation, or of galann_fit where a fit is listed; build MiB: the peak up to the end of\n"
           "#   galann_dataset_new*, which counts the caller's source array (mapped from one copy of the data, but\n"
           "#   counted per mapping, as a caller's own array would be) beside the library's copy\n");
    return 0;
}
