/*
 * synth.c -- `galann synth` (write the built-in data set as CSV) and
 * `galann info` (what this build can run on).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char synth_help[] =
    "usage: galann synth --out DIR [--train N] [--test N] [--seed S]\n"
    "\n"
    "Write the built-in synthetic galaxy set as DIR/train.csv and DIR/test.csv\n"
    "(defaults: 2700 and 675 images, seed 1: the set 'galann train' uses without\n"
    "--train). The test set is drawn with seed S+1.\n";

static const char info_help[] =
    "usage: galann info\n"
    "\n"
    "Print the library version, the compiled-in backends, whether each can run\n"
    "here (and why not), and their devices.\n";

static int write_set(const cli_args *a, const char *dir, const char *name, size_t n, uint32_t seed)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    galann_dataset *d = NULL;
    int rc = EXIT_OK;
    if (!path)
        return EXIT_RUNTIME;
    snprintf(path, len, "%s/%s", dir, name);
    if (galann_dataset_synthesize(n, seed, &d) != GALANN_OK || galann_dataset_save_csv(d, path, 255.0) != GALANN_OK)
        rc = runtime_error(a, path);
    else
        printf("wrote %s (%zu images, seed %u)\n", path, n, seed);
    galann_dataset_free(d);
    free(path);
    return rc;
}

/* mkdir -p: dir and every missing folder above it. */
static int make_folders(const cli_args *a, const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);
    if (len >= sizeof path) {
        fprintf(stderr, "galann %s: the folder name %.40s... is too long\n", a->command, dir);
        return EXIT_RUNTIME;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        struct stat st;
        if (mkdir(path, 0777) != 0 && !(errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
            fprintf(stderr, "galann %s: cannot create the folder %s: %s\n", a->command, path,
                    errno == EEXIST ? "a file of that name is in the way" : strerror(errno));
            return EXIT_RUNTIME;
        }
        path[i] = saved;
    }
    return EXIT_OK;
}

int command_synth(const cli_args *a)
{
    static const char *const with_value[] = { "out", "train", "test", "seed", NULL };
    static const char *const flags[] = { "help", NULL };
    if (arg_flag(a, "help")) {
        fputs(synth_help, stdout);
        return EXIT_OK;
    }
    size_t n_train = SYNTH_DEFAULT_TRAIN, n_test = SYNTH_DEFAULT_TEST;
    uint32_t seed = SYNTH_DEFAULT_SEED;
    int rc = check_known_options(a, with_value, flags);
    if (rc == EXIT_OK)
        rc = parse_size_option(a, "train", &n_train, 1);
    if (rc == EXIT_OK)
        rc = parse_size_option(a, "test", &n_test, 1);
    if (rc == EXIT_OK)
        rc = parse_u32_option(a, "seed", &seed);
    const char *dir = arg_value(a, "out");
    if (rc == EXIT_OK && (!dir || !*dir))
        rc = usage_error(a, "--out DIR is required");
    if (rc != EXIT_OK)
        return rc;
    rc = make_folders(a, dir);
    if (rc != EXIT_OK)
        return rc;
    rc = write_set(a, dir, "train.csv", n_train, seed);
    if (rc == EXIT_OK)
        rc = write_set(a, dir, "test.csv", n_test, seed + 1);
    return rc;
}

/* One line of galann_backend_devices, with the device's memory when the
 * backend knows it. */
static void print_device(const char *backend, size_t index, const char *line)
{
    galann_device device;
    galann_device_init(&device);
    if (galann_backend_device(backend, index, &device) == GALANN_OK && device.memory_bytes > 0)
        printf("    %s, %.1f GiB\n", line, (double)device.memory_bytes / (1024.0 * 1024.0 * 1024.0));
    else
        printf("    %s\n", line);
}

/* Whether backend lists a GPU with double precision among its devices:
 * the kind of device "best available" looks for first (galann.h,
 * galann_context_new). */
static int has_fp64_gpu(const char *backend)
{
    size_t count = 0;
    if (galann_backend_device_count(backend, &count) != GALANN_OK)
        return 0;
    for (size_t i = 0; i < count; i++) {
        galann_device device;
        galann_device_init(&device);
        if (galann_backend_device(backend, i, &device) == GALANN_OK && device.type == GALANN_DEVICE_GPU &&
            device.fp64)
            return 1;
    }
    return 0;
}

/* The compiled-in backends in the library's order of preference
 * ("opencl, blas, reference") into order; returns the first available one
 * with a GPU with fp64, NULL when none has one. */
static const char *first_with_fp64_gpu(char *order, size_t size)
{
    const char *found = NULL;
    size_t used = 0;
    order[0] = '\0';
    for (size_t i = 0; i < galann_backend_count(); i++) {
        const char *name = galann_backend_name(i);
        int n = snprintf(order + used, size - used, "%s%s", used ? ", " : "", name);
        if (n > 0 && (size_t)n < size - used)
            used += (size_t)n;
        if (!found && galann_backend_available(name) == GALANN_OK && has_fp64_gpu(name))
            found = name;
    }
    return found;
}

/* Why a command without --backend gets chosen (NULL: it gets none): the
 * rule of galann_context_new, told with this machine's facts as the
 * library gives them (its backends in order of preference, their devices,
 * its pick), never a sentence that names backends of its own. */
static void explain_best_available(const char *chosen, char *why, size_t size)
{
    char order[256];
    const char *gpu = first_with_fp64_gpu(order, sizeof order);
    if (chosen && gpu && strcmp(gpu, chosen) == 0)
        snprintf(why, size, "best available: %s is the first of %s with a GPU with fp64", chosen, order);
    else if (chosen && !gpu)
        snprintf(why, size, "best available: none of %s has a GPU with fp64 here, so the first with a usable CPU: %s",
                 order, chosen);
    else
        snprintf(why, size, "best available: the first of %s with a usable GPU, else the first with a usable CPU%s%s",
                 order, chosen ? ": " : "", chosen ? chosen : "");
}

int command_info(const cli_args *a)
{
    static const char *const flags[] = { "help", NULL };
    if (arg_flag(a, "help")) {
        fputs(info_help, stdout);
        return EXIT_OK;
    }
    int rc = check_known_options(a, NULL, flags);
    if (rc != EXIT_OK)
        return rc;
    printf("libgalann %s\n", galann_version());
    for (size_t i = 0; i < galann_backend_count(); i++) {
        const char *name = galann_backend_name(i);
        if (galann_backend_available(name) != GALANN_OK) {
            printf("backend %-10s unavailable: %s\n", name, galann_last_error());
            continue;
        }
        char devices[4096];
        printf("backend %-10s available\n", name);
        if (galann_backend_devices(name, devices, sizeof devices) == GALANN_OK) {
            size_t index = 0;
            for (char *line = strtok(devices, "\n"); line; line = strtok(NULL, "\n"), index++)
                print_device(name, index, line);
        }
    }
    /* what a command without --backend gets, and why */
    const char *env = getenv("GALANN_BACKEND");
    galann_context *ctx = NULL;
    char failure[256] = "";
    if (galann_context_new(NULL, &ctx) != GALANN_OK)
        snprintf(failure, sizeof failure, "%s", galann_last_error());
    char why[512];
    if (env && *env)
        snprintf(why, sizeof why, "chosen by the environment variable GALANN_BACKEND=%.60s", env);
    else
        explain_best_available(ctx ? galann_context_backend(ctx) : NULL, why, sizeof why);
    if (ctx) {
        char what[256];
        galann_context_describe(ctx, what, sizeof what);
        printf("default backend: %s\n    (%s; --backend NAME overrides)\n", what, why);
        galann_context_free(ctx);
    } else {
        printf("default backend: none: %s\n    (%s)\n", failure, why);
    }
    return EXIT_OK;
}
