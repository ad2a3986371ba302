/*
 * test-opencl.c -- the opencl backend: the same numbers as the reference
 * and blas backends for deeper and wider networks, the same bits on every
 * repeat, device selection by index and by name (and refusals with a
 * reason), datasets kept on the device and released in either order, the
 * kernel binary cache, and what happens without any OpenCL platform.
 *
 * Every test skips with a message when this machine has no usable OpenCL
 * device. The no-platform test runs this program again in a child process
 * with OCL_ICD_VENDORS pointing at an empty folder, since an ICD loader
 * reads its vendor list once per process.
 */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

#define AGREEMENT 1e-12
#define NO_PLATFORM_FLAG "--no-platform-child"

static const char *program_path;

/* ------------------------------------------------------------ helpers */

static void expect_message_contains_at(const char *piece, const char *file, int line)
{
    if (!strstr(galann_last_error(), piece)) {
        print_error("message \"%s\" does not contain \"%s\"\n", galann_last_error(), piece);
        _fail(file, line);
    }
}
#define expect_message_contains(piece) expect_message_contains_at(piece, __FILE__, __LINE__)

static void skip_without_opencl(void)
{
    if (galann_backend_available("opencl") != GALANN_OK)
        skip_without_opencl_device("the opencl backend is not usable here: %s", galann_last_error());
}

static int backend_compiled(const char *name)
{
    for (size_t i = 0; i < galann_backend_count(); i++) {
        if (strcmp(galann_backend_name(i), name) == 0)
            return 1;
    }
    return 0;
}

/* A private, empty cache folder per test, so that no test depends on
 * what an earlier run left in ~/.cache. */
typedef struct temp_dir {
    char path[64];
} temp_dir;

static void temp_dir_make(temp_dir *t)
{
    snprintf(t->path, sizeof t->path, "/tmp/galann-opencl-XXXXXX");
    assert_non_null(mkdtemp(t->path));
}

/* rm -r of a folder we made, one level of subfolders deep. */
static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[512];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            struct stat st;
            if (stat(child, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(dir);
    }
    rmdir(path);
}

/* The cache files ("opencl-*.bin") in a folder, and the name of the last. */
static int count_cache_files(const char *path, char *name, size_t size)
{
    int count = 0;
    DIR *dir = opendir(path);
    if (!dir)
        return 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "opencl-", 7) == 0 && len > 4 && strcmp(e->d_name + len - 4, ".bin") == 0) {
            count++;
            if (name)
                snprintf(name, size, "%s/%s", path, e->d_name);
        }
    }
    closedir(dir);
    return count;
}

static galann_context *opencl_context_with(const char *device, const char *cache_dir)
{
    galann_context_options o;
    galann_context_options_init(&o);
    o.device = device;
    o.cache_dir = cache_dir;
    galann_context *c = NULL;
    expect_status(galann_context_new_ex("opencl", &o, &c), GALANN_OK);
    return c;
}

static galann_context *opencl_context(void)
{
    /* "" = no cache: these tests are about the numbers */
    return opencl_context_with(NULL, "");
}

static galann_model *random_model(const size_t *sizes, size_t n_layers, uint32_t seed)
{
    galann_model *m = NULL;
    expect_status(galann_model_new(sizes, n_layers, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, seed), GALANN_OK);
    return m;
}

/* Everything one context computes for a model on a dataset. */
typedef struct results {
    double cost, cost_only;
    double *grad, *grad_only;
    double *proba;
    double accuracy;
    size_t n_params, n_outputs;
} results;

static void compute_results(galann_context *c, const galann_model *m, const galann_dataset *d, double lambda,
                            results *r)
{
    r->n_params = galann_model_n_params(m);
    r->n_outputs = galann_dataset_n_samples(d) * galann_dataset_n_labels(d);
    r->grad = test_malloc(r->n_params * sizeof *r->grad);
    r->grad_only = test_malloc(r->n_params * sizeof *r->grad_only);
    r->proba = test_malloc(r->n_outputs * sizeof *r->proba);
    expect_status(galann_cost_gradient(c, m, d, lambda, &r->cost, r->grad, r->n_params), GALANN_OK);
    expect_status(galann_cost(c, m, d, lambda, &r->cost_only), GALANN_OK);
    expect_status(galann_gradient(c, m, d, lambda, r->grad_only, r->n_params), GALANN_OK);
    expect_status(galann_predict_proba(c, m, d, r->proba, r->n_outputs), GALANN_OK);
    expect_status(galann_accuracy(c, m, d, &r->accuracy), GALANN_OK);
}

static void free_results(results *r)
{
    test_free(r->grad);
    test_free(r->grad_only);
    test_free(r->proba);
}

static void expect_agreement(const results *got, const results *want, const char *what)
{
    char label[128];
    snprintf(label, sizeof label, "%s: cost", what);
    assert_relative(got->cost, want->cost, AGREEMENT, label);
    double diff = relative_max_difference(got->grad, want->grad, got->n_params);
    if (!(diff <= AGREEMENT)) {
        print_error("%s: gradient differs by %.3g (relative max-norm) > %.3g\n", what, diff, AGREEMENT);
        fail();
    }
    diff = relative_max_difference(got->proba, want->proba, got->n_outputs);
    if (!(diff <= AGREEMENT)) {
        print_error("%s: outputs differ by %.3g (relative max-norm) > %.3g\n", what, diff, AGREEMENT);
        fail();
    }
    if (got->accuracy != want->accuracy) {
        print_error("%s: accuracy %.17g, expected %.17g\n", what, got->accuracy, want->accuracy);
        fail();
    }
}

/* Bit-for-bit equality of two arrays, with the first difference printed. */
static void expect_same_bits(const double *a, const double *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            print_error("%s: element %zu is %.17g, then %.17g\n", what, i, a[i], b[i]);
            fail();
        }
    }
}

/* The opencl numbers against the reference backend, and against blas when
 * it is built in. */
static void check_against_cpu_backends(const size_t *sizes, size_t n_layers, size_t m, uint32_t seed, double lambda)
{
    galann_dataset *d = random_dataset(m, sizes[0], sizes[n_layers - 1], seed);
    assert_non_null(d);
    galann_model *model = random_model(sizes, n_layers, seed + 1);
    galann_context *ocl = opencl_context();
    results got;
    compute_results(ocl, model, d, lambda, &got);

    /* cost alone and gradient alone: the same bits as together */
    expect_same_bits(&got.cost_only, &got.cost, 1, "cost alone vs with the gradient");
    expect_same_bits(got.grad_only, got.grad, got.n_params, "gradient alone vs with the cost");

    static const char *const oracles[] = { "reference", "blas" };
    for (size_t i = 0; i < sizeof oracles / sizeof oracles[0]; i++) {
        if (!backend_compiled(oracles[i]))
            continue;
        galann_context *c = NULL;
        expect_status(galann_context_new(oracles[i], &c), GALANN_OK);
        results want;
        compute_results(c, model, d, lambda, &want);
        char what[128];
        snprintf(what, sizeof what, "opencl vs %s, %zu layers, %zu samples", oracles[i], n_layers, m);
        expect_agreement(&got, &want, what);
        free_results(&want);
        galann_context_free(c);
    }
    free_results(&got);
    galann_context_free(ocl);
    galann_model_free(model);
    galann_dataset_free(d);
}

/* -------------------------------------------------------------- tests */

/* Without any platform (an empty vendor folder): unavailable with the
 * reason, and "best available" falls back to the CPU backends. Runs in a
 * child: see main(). */
static int no_platform_child(void)
{
    char dir[] = "/tmp/galann-no-icd-XXXXXX";
    if (!mkdtemp(dir))
        return 10;
    setenv("OCL_ICD_VENDORS", dir, 1);
    unsetenv("OCL_ICD_FILENAMES");
    unsetenv("GALANN_BACKEND");
    int failure = 0;

    int status = galann_backend_available("opencl");
    if (status != GALANN_ERR_UNAVAILABLE || !strstr(galann_last_error(), "no OpenCL platform")) {
        fprintf(stderr, "available: status %d, message \"%s\"\n", status, galann_last_error());
        failure = 1;
    }
    galann_context *c = (galann_context *)(uintptr_t)1; /* must come back NULL */
    status = galann_context_new("opencl", &c);
    if (status != GALANN_ERR_UNAVAILABLE || c != NULL || !strstr(galann_last_error(), "clGetPlatformIDs")) {
        fprintf(stderr, "context_new(opencl): status %d, message \"%s\"\n", status, galann_last_error());
        failure = 2;
    }
    char devices[256];
    status = galann_backend_devices("opencl", devices, sizeof devices);
    if (status != GALANN_ERR_UNAVAILABLE || devices[0] != '\0') {
        fprintf(stderr, "devices(opencl): status %d, \"%s\"\n", status, devices);
        failure = 3;
    }
    const char *expected = backend_compiled("blas") ? "blas" : "reference";
    status = galann_context_new(NULL, &c);
    if (status != GALANN_OK || strcmp(galann_context_backend(c), expected) != 0) {
        fprintf(stderr, "context_new(NULL): status %d, backend %s, expected %s\n", status,
                status == GALANN_OK ? galann_context_backend(c) : "-", expected);
        failure = 4;
    }
    if (status == GALANN_OK && galann_last_error()[0] != '\0') {
        fprintf(stderr, "context_new(NULL) succeeded but left the message \"%s\"\n", galann_last_error());
        failure = 5;
    }
    galann_context_free(status == GALANN_OK ? c : NULL);
    rmdir(dir);
    return failure;
}

static void no_platform_is_unavailable_and_best_falls_back_to_cpu(void **state)
{
    (void)state;
    if (!backend_compiled("opencl")) {
        skip_without_opencl_device("the opencl backend is not built into this libgalann");
    }
    if (!program_path || access(program_path, X_OK) != 0) {
        skip_test("cannot run %s again in a child", program_path ? program_path : "(this program)");
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(program_path, program_path, NO_PLATFORM_FLAG, (char *)NULL);
        _exit(127);
    }
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    if (WEXITSTATUS(wstatus) != 0) {
        print_error("the no-platform child failed with code %d (see its message above)\n", WEXITSTATUS(wstatus));
        fail();
    }
}

static void deep_network_matches_reference_and_blas(void **state)
{
    (void)state;
    skip_without_opencl();
    static const size_t sizes[] = { 30, 12, 9, 5, 4 };
    check_against_cpu_backends(sizes, 5, 203, 11, 0.0);
    check_against_cpu_backends(sizes, 5, 203, 12, 1.5);
}

/* Layers wider than a tile, several chunks of samples and a ragged last
 * tile and chunk. */
static void wide_network_over_many_chunks_matches_reference(void **state)
{
    (void)state;
    skip_without_opencl();
    static const size_t wide[] = { 70, 37, 19, 3 };
    check_against_cpu_backends(wide, 4, 1501, 21, 1.0);
    static const size_t single[] = { 17, 2 };
    check_against_cpu_backends(single, 2, 1, 22, 0.5);
    check_against_cpu_backends(single, 2, 129, 23, 0.5);
}

static void same_inputs_give_the_same_bits(void **state)
{
    (void)state;
    skip_without_opencl();
    static const size_t sizes[] = { 30, 12, 9, 5, 4 };
    galann_dataset *d = random_dataset(777, 30, 4, 31);
    galann_model *m = random_model(sizes, 5, 32);
    galann_context *a = opencl_context(), *b = opencl_context();
    size_t n = galann_model_n_params(m);
    double *g1 = test_malloc(n * sizeof *g1), *g2 = test_malloc(n * sizeof *g2), *g3 = test_malloc(n * sizeof *g3);
    double c1, c2, c3;
    expect_status(galann_cost_gradient(a, m, d, 1.0, &c1, g1, n), GALANN_OK);
    expect_status(galann_cost_gradient(a, m, d, 1.0, &c2, g2, n), GALANN_OK);
    expect_status(galann_cost_gradient(b, m, d, 1.0, &c3, g3, n), GALANN_OK);
    expect_same_bits(&c1, &c2, 1, "cost, second call");
    expect_same_bits(g1, g2, n, "gradient, second call");
    expect_same_bits(&c1, &c3, 1, "cost, second context");
    expect_same_bits(g1, g3, n, "gradient, second context");
    test_free(g1);
    test_free(g2);
    test_free(g3);
    galann_context_free(a);
    galann_context_free(b);
    galann_model_free(m);
    galann_dataset_free(d);
}

static void device_is_chosen_by_index_and_by_name(void **state)
{
    (void)state;
    skip_without_opencl();
    char first[512];
    galann_context *c = opencl_context_with("0", "");
    expect_status(galann_context_describe(c, first, sizeof first), GALANN_OK);
    galann_context_free(c);
    assert_true(strncmp(first, "opencl: ", 8) == 0);

    /* The device name of "opencl: <device> (<platform>, driver <v>)", in
     * the other case: names match whatever their case. */
    char name[256];
    const char *open = strrchr(first, '(');
    assert_non_null(open);
    size_t len = (size_t)(open - first) - 9;
    assert_true(len > 0 && len < sizeof name);
    memcpy(name, first + 8, len);
    name[len] = '\0';
    for (char *p = name; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
    char again[512];
    c = opencl_context_with(name, "");
    expect_status(galann_context_describe(c, again, sizeof again), GALANN_OK);
    galann_context_free(c);
    assert_string_equal(again, first);

    /* and through the environment, where the caller leaves it open */
    setenv("GALANN_OPENCL_DEVICE", "0", 1);
    c = opencl_context_with(NULL, "");
    unsetenv("GALANN_OPENCL_DEVICE");
    expect_status(galann_context_describe(c, again, sizeof again), GALANN_OK);
    galann_context_free(c);
    assert_string_equal(again, first);
}

static void bad_device_selectors_are_unavailable_with_a_reason(void **state)
{
    (void)state;
    skip_without_opencl();
    static const char *const selectors[] = { "99", "nosuchdevice" };
    for (size_t i = 0; i < 2; i++) {
        galann_context_options o;
        galann_context_options_init(&o);
        o.device = selectors[i];
        o.cache_dir = "";
        galann_context *c = (galann_context *)&o;  /* must come back NULL */
        expect_status(galann_context_new_ex("opencl", &o, &c), GALANN_ERR_UNAVAILABLE);
        assert_null(c);
        expect_message_contains(selectors[i]);
        expect_message_contains("opencl");
    }
    setenv("GALANN_OPENCL_DEVICE", "nosuchdevice", 1);
    galann_context *c = NULL;
    int status = galann_context_new("opencl", &c);
    unsetenv("GALANN_OPENCL_DEVICE");
    expect_status(status, GALANN_ERR_UNAVAILABLE);
    expect_message_contains("nosuchdevice");
    assert_null(c);
}

static void devices_are_listed_one_per_line(void **state)
{
    (void)state;
    skip_without_opencl();
    char list[4096];
    expect_status(galann_backend_devices("opencl", list, sizeof list), GALANN_OK);
    size_t lines = 0;
    for (char *line = list, *end; (end = strchr(line, '\n')) != NULL; line = end + 1) {
        *end = '\0';
        char *colon = strchr(line, ':');
        if (!colon || strtoul(line, NULL, 10) != lines || !strstr(line, " / ") ||
            !(strstr(line, ", fp64)") || strstr(line, ", no fp64)"))) {
            print_error("line %zu: \"%s\" is not \"index: platform / device (type, fp64)\"\n", lines, line);
            fail();
        }
        lines++;
    }
    assert_true(lines >= 1);
}

/* A dataset stays on the device across calls, several datasets share a
 * context, several contexts share a dataset, and freeing in either order
 * releases everything (the sanitizer build checks the "everything"). */
static void datasets_are_reused_and_released_in_either_order(void **state)
{
    (void)state;
    skip_without_opencl();
    static const size_t sizes[] = { 30, 12, 9, 5, 4 };
    galann_model *m = random_model(sizes, 5, 41);
    size_t n = galann_model_n_params(m);
    double *g1 = test_malloc(n * sizeof *g1), *g2 = test_malloc(n * sizeof *g2);
    double c1, c2;

    for (int order = 0; order < 2; order++) {
        galann_dataset *small = random_dataset(50, 30, 4, 42);
        galann_dataset *large = random_dataset(900, 30, 4, 43);
        galann_context *a = opencl_context(), *b = opencl_context();
        expect_status(galann_cost_gradient(a, m, small, 1.0, &c1, g1, n), GALANN_OK);
        expect_status(galann_cost_gradient(a, m, large, 1.0, &c2, g2, n), GALANN_OK);  /* buffers grow */
        expect_status(galann_cost_gradient(b, m, small, 1.0, &c2, g2, n), GALANN_OK);  /* second context */
        expect_same_bits(&c1, &c2, 1, "cost of the small set on two contexts");
        expect_status(galann_cost_gradient(a, m, small, 1.0, &c2, g2, n), GALANN_OK);  /* after the large one */
        expect_same_bits(&c1, &c2, 1, "cost of the small set, again");
        expect_same_bits(g1, g2, n, "gradient of the small set, again");
        if (order == 0) {
            galann_dataset_free(small);
            expect_status(galann_cost(a, m, large, 1.0, &c2), GALANN_OK);
            galann_context_free(a);
            galann_context_free(b);
            galann_dataset_free(large);
        } else {
            galann_context_free(a);
            expect_status(galann_cost(b, m, large, 1.0, &c2), GALANN_OK);
            galann_context_free(b);
            galann_dataset_free(small);
            galann_dataset_free(large);
        }
    }
    test_free(g1);
    test_free(g2);
    galann_model_free(m);
}

static void kernel_binaries_are_cached_and_damage_is_survived(void **state)
{
    (void)state;
    skip_without_opencl();
    temp_dir t;
    temp_dir_make(&t);
    char cache[128];
    snprintf(cache, sizeof cache, "%s/deeper/cache", t.path);  /* made on demand */

    static const size_t sizes[] = { 30, 12, 9, 5, 4 };
    galann_dataset *d = random_dataset(100, 30, 4, 51);
    galann_model *m = random_model(sizes, 5, 52);
    size_t n = galann_model_n_params(m);
    double *fresh = test_malloc(n * sizeof *fresh), *cached = test_malloc(n * sizeof *cached);
    double c_fresh, c_cached;

    galann_context *c = opencl_context_with(NULL, cache);
    expect_status(galann_cost_gradient(c, m, d, 1.0, &c_fresh, fresh, n), GALANN_OK);
    galann_context_free(c);
    char file[512];
    assert_int_equal(count_cache_files(cache, file, sizeof file), 1);
    struct stat written;
    assert_int_equal(stat(file, &written), 0);

    /* from the cache: the same program, the same bits */
    c = opencl_context_with(NULL, cache);
    expect_status(galann_cost_gradient(c, m, d, 1.0, &c_cached, cached, n), GALANN_OK);
    galann_context_free(c);
    expect_same_bits(&c_fresh, &c_cached, 1, "cost with the cached kernels");
    expect_same_bits(fresh, cached, n, "gradient with the cached kernels");
    assert_int_equal(count_cache_files(cache, NULL, 0), 1);

    /* a damaged file is ignored and replaced */
    FILE *f = fopen(file, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    fputs("damage", f);
    fclose(f);
    c = opencl_context_with(NULL, cache);
    expect_status(galann_cost_gradient(c, m, d, 1.0, &c_cached, cached, n), GALANN_OK);
    galann_context_free(c);
    expect_same_bits(fresh, cached, n, "gradient after rebuilding from source");
    struct stat rewritten;
    assert_int_equal(stat(file, &rewritten), 0);
    assert_int_equal(rewritten.st_size, written.st_size);
    f = fopen(file, "rb");
    assert_non_null(f);
    char head[48];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    assert_true(memcmp(head + 40, "damage", 6) != 0);

    /* a cache folder that cannot be made is no error */
    c = opencl_context_with(NULL, "/proc/no/such/folder");
    galann_context_free(c);

    /* the default is $XDG_CACHE_HOME/galann; "" disables the cache */
    char xdg[128], defaulted[160];
    snprintf(xdg, sizeof xdg, "%s/xdg", t.path);
    snprintf(defaulted, sizeof defaulted, "%s/galann", xdg);
    char *saved_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    char *saved_dir = getenv("GALANN_CACHE_DIR") ? strdup(getenv("GALANN_CACHE_DIR")) : NULL;
    setenv("XDG_CACHE_HOME", xdg, 1);
    unsetenv("GALANN_CACHE_DIR");
    c = opencl_context_with(NULL, "");
    galann_context_free(c);
    assert_int_equal(count_cache_files(defaulted, NULL, 0), 0);
    c = opencl_context_with(NULL, NULL);
    galann_context_free(c);
    assert_int_equal(count_cache_files(defaulted, NULL, 0), 1);
    if (saved_xdg)
        setenv("XDG_CACHE_HOME", saved_xdg, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    if (saved_dir)
        setenv("GALANN_CACHE_DIR", saved_dir, 1);
    free(saved_xdg);
    free(saved_dir);

    test_free(fresh);
    test_free(cached);
    galann_model_free(m);
    galann_dataset_free(d);
    remove_tree(t.path);
}

static void describe_names_the_device_and_profiles_on_request(void **state)
{
    (void)state;
    skip_without_opencl();
    char text[1024];
    galann_context *c = opencl_context();
    expect_status(galann_context_describe(c, text, sizeof text), GALANN_OK);
    assert_true(strncmp(text, "opencl: ", 8) == 0);
    assert_non_null(strstr(text, ", driver "));
    assert_null(strstr(text, "profile"));
    assert_int_equal(galann_context_threads(c), 1);
    galann_context_free(c);

    galann_context_options o;
    galann_context_options_init(&o);
    o.cache_dir = "";
    o.profile = 1;
    expect_status(galann_context_new_ex("opencl", &o, &c), GALANN_OK);
    static const size_t sizes[] = { 30, 12, 4 };
    galann_dataset *d = random_dataset(64, 30, 4, 61);
    galann_model *m = random_model(sizes, 3, 62);
    double cost;
    expect_status(galann_cost(c, m, d, 1.0, &cost), GALANN_OK);
    galann_profile p = { .struct_size = sizeof p };
    expect_status(galann_context_profile(c, &p), GALANN_OK);
    assert_int_equal(p.evaluations, 1);
    assert_int_equal(p.dataset_uploads, 1);
    /* the device times are parts of the wall time around the evaluation */
    assert_true(p.kernel_seconds > 0.0 && p.upload_seconds > 0.0 && p.download_seconds > 0.0);
    assert_true(p.kernel_seconds + p.upload_seconds + p.download_seconds <= p.seconds);
    expect_status(galann_context_describe(c, text, sizeof text), GALANN_OK);
    if (!strstr(text, "profile of 1 evaluations") || !strstr(text, "kernels ") || !strstr(text, "upload ")) {
        print_error("no profile in \"%s\"\n", text);
        fail();
    }
    /* a short buffer is filled and terminated */
    char small[20];
    expect_status(galann_context_describe(c, small, sizeof small), GALANN_OK);
    assert_int_equal(strlen(small), sizeof small - 1);
    galann_context_free(c);
    galann_model_free(m);
    galann_dataset_free(d);
}

/* The galaxy network on the real data: as the reference (test-fixtures
 * compares every backend with the fixture numbers). */
static void galaxy_network_matches_reference_on_train(void **state)
{
    (void)state;
    skip_without_opencl();
    const galann_dataset *d = galaxy_train();
    if (!d) {
        skip_without_data("the galaxy data is not under %s/data/galaxy", shared_root());
    }
    static const size_t sizes[] = { 1024, 8, 3 };
    galann_model *m = random_model(sizes, 3, 917);
    galann_context *ocl = opencl_context(), *ref = NULL;
    expect_status(galann_context_new("reference", &ref), GALANN_OK);
    results got, want;
    compute_results(ocl, m, d, 1.0, &got);
    compute_results(ref, m, d, 1.0, &want);
    expect_agreement(&got, &want, "galaxy 1024-8-3 on train.csv");
    free_results(&got);
    free_results(&want);
    galann_context_free(ocl);
    galann_context_free(ref);
    galann_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], NO_PLATFORM_FLAG) == 0)
        return no_platform_child();
    program_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_platform_is_unavailable_and_best_falls_back_to_cpu),
        cmocka_unit_test(deep_network_matches_reference_and_blas),
        cmocka_unit_test(wide_network_over_many_chunks_matches_reference),
        cmocka_unit_test(same_inputs_give_the_same_bits),
        cmocka_unit_test(device_is_chosen_by_index_and_by_name),
        cmocka_unit_test(bad_device_selectors_are_unavailable_with_a_reason),
        cmocka_unit_test(devices_are_listed_one_per_line),
        cmocka_unit_test(datasets_are_reused_and_released_in_either_order),
        cmocka_unit_test(kernel_binaries_are_cached_and_damage_is_survived),
        cmocka_unit_test(describe_names_the_device_and_profiles_on_request),
        cmocka_unit_test(galaxy_network_matches_reference_on_train),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, teardown_galaxy_data));
}
