/*
 * test-alloc-failure.c -- every allocation a workload makes can fail, and
 * the library answers each failure with a status and a message: no crash,
 * no leak, and a call that still succeeds gives exactly the numbers of a
 * run without failures.
 *
 * malloc, calloc, realloc, aligned_alloc and free are interposed by this
 * program (glibc supports replacing them; the library's calls, and the C
 * library's own, come here first) and forwarded to the real ones, except
 * the N-th allocation after the counter is armed, which fails. The
 * workload (load a CSV file, a context, a model, cost and gradient,
 * predictions, three training iterations, save and load the model, save
 * the data) runs once to count its allocations, then once for every N on
 * `reference` and on `blas`. Every block allocated during a run must be
 * freed by its end, whatever failed (the program tracks them itself: the
 * sanitizers own malloc, so this test is not built under them).
 *
 * Not here: what the workload computes (the other tests).
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

/* ---------------------------------------------- the interposed allocator */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void (*real_free)(void *);

/* dlsym may allocate before the real functions are known: from here. */
static _Alignas(16) unsigned char boot[8192];
static size_t boot_used;
static int resolving;

static atomic_int armed;        /* counting allocations */
static atomic_long counted;     /* allocations since armed */
static atomic_long fail_at;     /* the one to fail (1-based); 0: none */

/* Blocks allocated while armed and not yet freed: after a workload, none
 * may be left (a leak on some failure path). Open addressing, guarded by
 * a spin lock (the blas workers allocate too). */
#define LIVE_SLOTS 4096
static void *live[LIVE_SLOTS];
static size_t live_count;
static atomic_flag live_lock = ATOMIC_FLAG_INIT;
static int live_overflow;

static size_t slot_of(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 52) % LIVE_SLOTS;
}

static void live_add(void *p)
{
    while (atomic_flag_test_and_set(&live_lock))
        ;
    if (live_count + 1 >= LIVE_SLOTS) {
        live_overflow = 1;
    } else {
        size_t i = slot_of(p);
        while (live[i])
            i = (i + 1) % LIVE_SLOTS;
        live[i] = p;
        live_count++;
    }
    atomic_flag_clear(&live_lock);
}

/* Remove p if it is there (backward-shift deletion keeps probes whole). */
static void live_remove(const void *p)
{
    while (atomic_flag_test_and_set(&live_lock))
        ;
    if (live_count > 0) {
        size_t i = slot_of(p);
        while (live[i] && live[i] != p)
            i = (i + 1) % LIVE_SLOTS;
        if (live[i]) {
            live[i] = NULL;
            live_count--;
            for (size_t j = (i + 1) % LIVE_SLOTS; live[j]; j = (j + 1) % LIVE_SLOTS) {
                void *q = live[j];
                live[j] = NULL;
                size_t k = slot_of(q);
                while (live[k])
                    k = (k + 1) % LIVE_SLOTS;
                live[k] = q;
            }
        }
    }
    atomic_flag_clear(&live_lock);
}

/* Whether an allocation comes from the dynamic loader: a new thread's TLS
 * block, which the C library keeps with its cache of thread stacks after
 * the thread is joined (counted, and failed in turn, but not a leak). */
static int from_loader(void *caller)
{
    Dl_info info;
    return dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "/ld-linux");
}

/* A block the real allocator returned, recorded when armed. */
static void *track(void *p, void *caller)
{
    if (p && atomic_load(&armed) && !from_loader(caller))
        live_add(p);
    return p;
}

static void resolve(void)
{
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof boot - boot_used)
        return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p;
}

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

/* Whether this allocation is the one to fail. */
static int fails(void)
{
    if (!atomic_load(&armed))
        return 0;
    long n = atomic_fetch_add(&counted, 1) + 1;
    return n == atomic_load(&fail_at);
}

void *malloc(size_t n)
{
    if (!real_malloc) {
        if (resolving)
            return boot_alloc(n);
        resolve();
    }
    return fails() ? NULL : track(real_malloc(n), __builtin_return_address(0));
}

void *calloc(size_t n, size_t size)
{
    if (!real_calloc) {
        if (resolving)
            return boot_alloc(n * size);  /* static: already zero */
        resolve();
    }
    return fails() ? NULL : track(real_calloc(n, size), __builtin_return_address(0));
}

void *realloc(void *p, size_t n)
{
    if (!real_realloc)
        resolve();
    if (is_boot(p)) {
        void *q = real_malloc(n);
        if (q)
            memcpy(q, p, n);  /* boot blocks are never read past the arena */
        return q;
    }
    if (fails())
        return NULL;
    void *q = real_realloc(p, n);
    if (q && p)
        live_remove(p);
    return track(q, __builtin_return_address(0));
}

void *aligned_alloc(size_t alignment, size_t n)
{
    if (!real_aligned_alloc)
        resolve();
    return fails() ? NULL : track(real_aligned_alloc(alignment, n), __builtin_return_address(0));
}

void free(void *p)
{
    if (!p || is_boot(p))
        return;
    if (!real_free)
        resolve();
    live_remove(p);
    real_free(p);
}

/* ------------------------------------------------------------ the workload */

static char folder[64];
static char csv_path[128];

typedef struct outcome {
    int status;
    char message[1024];
    double cost;
    double grad0;
    double trained_cost;
} outcome;

#define CHECK(call)                 \
    do {                            \
        status = (call);            \
        if (status != GALANN_OK)    \
            goto done;              \
    } while (0)

static void workload(const char *backend, outcome *o)
{
    static const size_t sizes[] = { 12, 4, 3 };
    enum { N_PARAMS = 4 * 13 + 3 * 5 };
    galann_dataset *d = NULL;
    galann_context *c = NULL;
    galann_model *m = NULL, *back = NULL;
    double grad[N_PARAMS];
    int32_t labels[40];
    char model_path[160], csv_out[160];
    snprintf(model_path, sizeof model_path, "%s/w.model", folder);
    snprintf(csv_out, sizeof csv_out, "%s/w.csv", folder);
    int status;
    memset(o, 0, sizeof *o);

    CHECK(galann_dataset_load_csv(csv_path, &d));
    galann_context_options opts;
    galann_context_options_init(&opts);
    opts.threads = 2;
    CHECK(galann_context_new_ex(backend, &opts, &c));
    CHECK(galann_model_new(sizes, 3, &m));
    CHECK(galann_model_init_random(m, 917));
    CHECK(galann_cost_gradient(c, m, d, 1.0, &o->cost, grad, N_PARAMS));
    o->grad0 = grad[0];
    CHECK(galann_predict(c, m, d, labels, 40));
    galann_fit_options fit;
    galann_fit_options_init(&fit);
    fit.max_iterations = 3;
    CHECK(galann_fit(c, m, d, &fit, NULL));
    CHECK(galann_model_save(m, model_path));
    CHECK(galann_model_load(model_path, &back));
    CHECK(galann_cost(c, back, d, 1.0, &o->trained_cost));
    CHECK(galann_dataset_save_csv(d, csv_out, 255.0));

done:
    o->status = status;
    snprintf(o->message, sizeof o->message, "%s", galann_last_error());
    galann_model_free(back);
    galann_model_free(m);
    galann_context_free(c);
    galann_dataset_free(d);
}

static long count_allocations(const char *backend, outcome *clean)
{
    atomic_store(&fail_at, 0);
    atomic_store(&counted, 0);
    atomic_store(&armed, 1);
    workload(backend, clean);
    atomic_store(&armed, 0);
    return atomic_load(&counted);
}

static void every_allocation_failure_is_a_status(const char *backend)
{
    outcome clean, o;
    long total = count_allocations(backend, &clean);
    assert_int_equal(clean.status, GALANN_OK);
    assert_int_equal(live_count, 0);
    int failed = 0, succeeded = 0, by_status[16] = { 0 };
    for (long n = 1; n <= total; n++) {
        atomic_store(&counted, 0);
        atomic_store(&fail_at, n);
        atomic_store(&armed, 1);
        workload(backend, &o);
        atomic_store(&armed, 0);
        if (live_count != 0 || live_overflow)
            fail_msg("%s, allocation %ld failing (%s): %zu blocks leaked", backend, n, o.message, live_count);
        if (o.status == GALANN_OK) {
            /* the failure was absorbed: then the numbers are the same */
            succeeded++;
            if (memcmp(&o.cost, &clean.cost, sizeof o.cost) != 0 ||
                memcmp(&o.grad0, &clean.grad0, sizeof o.grad0) != 0 ||
                memcmp(&o.trained_cost, &clean.trained_cost, sizeof o.trained_cost) != 0)
                fail_msg("%s, allocation %ld failing: success with other numbers", backend, n);
            continue;
        }
        failed++;
        by_status[o.status >= 0 && o.status < 16 ? o.status : 15]++;
        if (o.message[0] == '\0')
            fail_msg("%s, allocation %ld failing: status %d without a message", backend, n, o.status);
    }
    print_message("%s: %ld allocations; each failed in turn: %d runs returned an error (%d out of memory, %d "
                  "input/output, %d other), %d still succeeded with the same numbers\n", backend, total, failed,
                  by_status[GALANN_ERR_NOMEM], by_status[GALANN_ERR_IO],
                  failed - by_status[GALANN_ERR_NOMEM] - by_status[GALANN_ERR_IO], succeeded);
    assert_true(failed > 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(folder, sizeof folder, "/tmp/galann-alloc-XXXXXX");
    if (!mkdtemp(folder))
        return -1;
    snprintf(csv_path, sizeof csv_path, "%s/data.csv", folder);
    galann_dataset *d = random_dataset(40, 12, 3, 9);
    int status = d ? galann_dataset_save_csv(d, csv_path, 255.0) : GALANN_ERR_NOMEM;
    galann_dataset_free(d);
    return status == GALANN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    return system(command) == 0 ? 0 : -1;
}

static void reference_answers_every_allocation_failure_with_a_status(void **state)
{
    (void)state;
    every_allocation_failure_is_a_status("reference");
}

static void blas_answers_every_allocation_failure_with_a_status(void **state)
{
    (void)state;
    /* The first blas context loads CBLAS, which then stays for the life of
     * the process (docs/reliability.md §8): loaded here, before counting,
     * as in a host that has used blas before. */
    galann_context *c = NULL;
    if (galann_context_new("blas", &c) == GALANN_OK)
        galann_context_free(c);
    every_allocation_failure_is_a_status("blas");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reference_answers_every_allocation_failure_with_a_status, setup, teardown),
        cmocka_unit_test_setup_teardown(blas_answers_every_allocation_failure_with_a_status, setup, teardown),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
