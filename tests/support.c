/*
 * support.c -- helpers shared by the test programs (see support.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

int temp_folder_make(char *folder, size_t size, const char *name)
{
    int n = snprintf(folder, size, "/tmp/galann-%s-XXXXXX", name);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return mkdtemp(folder) ? 0 : -1;
}

int temp_folder_remove(const char *folder)
{
    char command[4200];
    if (strchr(folder, '\'') || snprintf(command, sizeof command, "rm -rf '%s'", folder) >= (int)sizeof command)
        return -1;
    return system(command) == 0 ? 0 : -1;
}

const char *shared_root(void)
{
    const char *root = getenv("GALANN_SHARED_DIR");
    if (!root || !*root)
        root = getenv("GALANN_TEST_SHARED_DEFAULT");
    if (!root || !*root)
        root = "../shared";
    return root;
}

char *shared_path(const char *relative)
{
    const char *root = shared_root();
    size_t len = strlen(root) + strlen(relative) + 2;
    char *path = malloc(len);
    if (!path)
        return NULL;
    snprintf(path, len, "%s/%s", root, relative);
    if (access(path, R_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

double *read_numbers(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1024, n = 0;
    double *v = malloc(cap * sizeof *v);
    char line[65536];
    while (v && fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *p = line, *end;
        for (;;) {
            double x = strtod(p, &end);
            if (end == p)
                break;
            if (n == cap) {
                cap *= 2;
                double *bigger = realloc(v, cap * sizeof *v);
                if (!bigger) {
                    free(v);
                    v = NULL;
                    break;
                }
                v = bigger;
            }
            v[n++] = x;
            p = end;
        }
    }
    fclose(f);
    *count = n;
    return v;
}

double relative_max_difference(const double *a, const double *b, size_t n)
{
    double diff = 0.0, scale = 1e-300;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return diff / scale;
}

galann_dataset *random_dataset(size_t m, size_t n, size_t k, uint32_t seed)
{
    double *x = malloc(m * n * sizeof *x);
    int32_t *y = malloc(m * sizeof *y);
    galann_dataset *d = NULL;
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    if (x && y) {
        for (size_t i = 0; i < m * n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = (double)(s >> 11) / 9007199254740992.0;
        }
        for (size_t i = 0; i < m; i++)
            y[i] = (int32_t)(i % k);
        galann_dataset_new(x, y, m, n, k, &d);
    }
    free(x);
    free(y);
    return d;
}

static galann_dataset *train_set, *test_set;
static int galaxy_tried;
static char galaxy_error[1024];

static void load_galaxy_file(const char *path, galann_dataset **out)
{
    if (galann_dataset_load_csv(path, out) != GALANN_OK && !galaxy_error[0])
        snprintf(galaxy_error, sizeof galaxy_error, "%s", galann_last_error());
}

static void fail_if_galaxy_did_not_load(void);

static void load_galaxy(void)
{
    if (!galaxy_tried) {
        galaxy_tried = 1;
        galaxy_error[0] = '\0';
        char *train = shared_path("data/galaxy/train.csv");
        char *test = shared_path("data/galaxy/test.csv");
        if (train && test) {
            load_galaxy_file(train, &train_set);
            load_galaxy_file(test, &test_set);
        }
        free(train);
        free(test);
    }
    fail_if_galaxy_did_not_load();
}

const galann_dataset *galaxy_train(void)
{
    load_galaxy();
    return train_set;
}

const galann_dataset *galaxy_test(void)
{
    load_galaxy();
    return test_set;
}

void free_galaxy_data(void)
{
    galann_dataset_free(train_set);
    galann_dataset_free(test_set);
    train_set = test_set = NULL;
    galaxy_tried = 0;
    galaxy_error[0] = '\0';
}

int teardown_galaxy_data(void **state)
{
    (void)state;
    free_galaxy_data();
    return 0;
}

size_t usable_backend_count(void)
{
    size_t count = 0;
    for (size_t i = 0; i < galann_backend_count(); i++)
        count += galann_backend_available(galann_backend_name(i)) == GALANN_OK;
    return count;
}

const char *usable_backend(size_t index)
{
    for (size_t i = 0; i < galann_backend_count(); i++) {
        const char *name = galann_backend_name(i);
        if (galann_backend_available(name) == GALANN_OK && index-- == 0)
            return name;
    }
    return NULL;
}

double summary_number(const char *key)
{
    char *path = shared_path("reference/galaxy/summary.json");
    if (!path)
        return NAN;
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return NAN;
    char text[8192];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char quoted[128];
    snprintf(quoted, sizeof quoted, "\"%s\":", key);
    const char *at = strstr(text, quoted);
    return at ? strtod(at + strlen(quoted), NULL) : NAN;
}

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

void assert_relative_at(double actual, double expected, double tol, const char *what, const char *file, int line)
{
    double scale = fmax(fabs(expected), 1e-300);
    double rel = fabs(actual - expected) / scale;
    if (!(rel <= tol)) {
        print_error("%s: got %.17g, expected %.17g (relative difference %.3g > %.3g)\n", what, actual, expected, rel,
                    tol);
        _fail(file, line);
    }
}

/* The data is there but the library refuses it: that is a failure of the
 * test that asked, never a skip. */
static void fail_if_galaxy_did_not_load(void)
{
    if (galaxy_error[0]) {
        print_error("the galaxy data under %s is there but does not load: %s\n", shared_root(), galaxy_error);
        fail();
    }
}

void expect_status_at(int got, int expected, const char *call, const char *file, int line)
{
    if (got != expected) {
        print_error("%s: status %d (%s), expected %d (%s); message \"%s\"\n", call, got, galann_strerror(got),
                    expected, galann_strerror(expected), galann_last_error());
        _fail(file, line);
    }
    if (expected != GALANN_OK && galann_last_error()[0] == '\0') {
        print_error("%s failed without a message\n", call);
        _fail(file, line);
    }
}

/* ---------------------------------------------------------- honest skips */

static int skipped_tests;

static int env_is_one(const char *name)
{
    const char *v = getenv(name);
    return v && strcmp(v, "1") == 0;
}

int data_required(void)
{
    return env_is_one("GALANN_REQUIRE_DATA");
}

int opencl_required(void)
{
    return env_is_one("GALANN_REQUIRE_OPENCL");
}

/* Fail (when required) or skip the current test; both leave it through
 * cmocka's longjmp, so the reason is formatted before. */
static void skip_or_fail(int required, const char *requirement, const char *file, int line, const char *reason)
{
    if (required) {
        print_error("%s, and %s=1 requires it\n", reason, requirement);
        _fail(file, line);
        return;
    }
    print_message("skipped: %s\n", reason);
    skipped_tests++;
    _skip(file, line);
}

#define FORMAT_REASON(reason, format)                  \
    char reason[1024];                                 \
    do {                                               \
        va_list args;                                  \
        va_start(args, format);                        \
        vsnprintf(reason, sizeof reason, format, args); \
        va_end(args);                                  \
    } while (0)

void skip_test_at(const char *file, int line, const char *format, ...)
{
    FORMAT_REASON(reason, format);
    skip_or_fail(0, NULL, file, line, reason);
}

void skip_without_data_at(const char *file, int line, const char *format, ...)
{
    FORMAT_REASON(reason, format);
    skip_or_fail(data_required(), "GALANN_REQUIRE_DATA", file, line, reason);
}

void skip_without_opencl_at(const char *file, int line, const char *format, ...)
{
    FORMAT_REASON(reason, format);
    skip_or_fail(opencl_required(), "GALANN_REQUIRE_OPENCL", file, line, reason);
}

int tests_exit_status(int failed)
{
    if (failed)
        return 1;
    return skipped_tests ? 77 : 0;
}
