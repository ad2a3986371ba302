/*
 * args.c -- what every subcommand of the galann program uses: its options
 * (--name value, --name=value, --flag), the two kinds of error with their
 * exit statuses, output folders, and the compute context a command runs
 * on. Declared in cli.h; the dispatcher is main.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "distributed.h"

static size_t option_name_length(const char *arg)
{
    const char *eq = strchr(arg, '=');
    return eq ? (size_t)(eq - arg) : strlen(arg);
}

static int matches(const char *arg, const char *name)
{
    size_t len = strlen(name);
    return strncmp(arg, "--", 2) == 0 && option_name_length(arg + 2) == len && strncmp(arg + 2, name, len) == 0;
}

const char *arg_value(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->argc; i++) {
        if (!matches(a->argv[i], name))
            continue;
        const char *eq = strchr(a->argv[i], '=');
        if (eq)
            return eq + 1;
        return i + 1 < a->argc ? a->argv[i + 1] : "";
    }
    return NULL;
}

int arg_flag(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->argc; i++) {
        if (matches(a->argv[i], name))
            return 1;
    }
    return 0;
}

static int in_list(const char *arg, const char *const *names)
{
    for (; names && *names; names++) {
        if (matches(arg, *names))
            return 1;
    }
    return 0;
}

int check_known_options(const cli_args *a, const char *const *with_value, const char *const *flags)
{
    for (int i = 0; i < a->argc; i++) {
        const char *arg = a->argv[i];
        if (in_list(arg, with_value)) {
            if (!strchr(arg, '=')) {
                if (i + 1 >= a->argc)
                    return usage_error(a, "%s needs a value", arg);
                i++;
            }
            continue;
        }
        if (in_list(arg, flags))
            continue;
        return usage_error(a, "unknown option '%s'", arg);
    }
    return EXIT_OK;
}

int usage_error(const cli_args *a, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "galann %s: ", a->command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'galann %s --help' for usage.\n", a->command);
    return EXIT_USAGE;
}

int runtime_error(const cli_args *a, const char *what)
{
    fprintf(stderr, "galann %s: %s: %s\n", a->command, what, galann_last_error());
    return EXIT_RUNTIME;
}

int parse_size_option(const cli_args *a, const char *name, size_t *out, size_t min)
{
    const char *v = arg_value(a, name);
    if (!v)
        return EXIT_OK;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x < min)
        return usage_error(a, "--%s '%s' is not a whole number >= %zu", name, v, min);
    *out = (size_t)x;
    return EXIT_OK;
}

int parse_double_option(const cli_args *a, const char *name, double *out)
{
    const char *v = arg_value(a, name);
    if (!v)
        return EXIT_OK;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end)
        return usage_error(a, "--%s '%s' is not a number", name, v);
    *out = x;
    return EXIT_OK;
}

int parse_u32_option(const cli_args *a, const char *name, uint32_t *out)
{
    size_t v = *out;
    int rc = parse_size_option(a, name, &v, 0);
    if (rc == EXIT_OK && v > 0xffffffffu)
        return usage_error(a, "--%s %zu does not fit in 32 bits", name, v);
    *out = (uint32_t)v;
    return rc;
}

int check_writable_folder(const cli_args *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    char folder[4096];
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else if (slash == path)
        snprintf(folder, sizeof folder, "/");
    else
        snprintf(folder, sizeof folder, "%.*s", (int)(slash - path), path);
    if (access(folder, W_OK | X_OK) != 0) {
        fprintf(stderr, "galann %s: cannot write %s: folder %s: %s\n", a->command, path, folder, strerror(errno));
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int open_context(const cli_args *a, galann_context **out)
{
    galann_context_options o;
    galann_context_options_init(&o);
    size_t threads = 0;
    int rc = parse_size_option(a, "threads", &threads, 1);
    if (rc == EXIT_OK && threads > 1024)
        rc = usage_error(a, "--threads %zu is more than 1024", threads);
    if (rc != EXIT_OK)
        return rc;
    o.threads = (int)threads;
    const char *precision = arg_value(a, "precision");
    if (precision && strcmp(precision, "double") == 0)
        o.precision = GALANN_PRECISION_DOUBLE;
    else if (precision && strcmp(precision, "single") == 0)
        o.precision = GALANN_PRECISION_SINGLE;
    else if (precision && strcmp(precision, "any") == 0)
        o.precision = GALANN_PRECISION_ANY;
    else if (precision)
        return usage_error(a, "--precision '%s' is not double, single or any", precision);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (threads > 0 && cpus > 0 && threads > (size_t)cpus && distributed_is_leader())
        fprintf(stderr, "galann %s: warning: --threads %zu is more than the %ld CPUs online: the extra threads "
                "only take turns (the numbers are the same on any thread count)\n", a->command, threads, cpus);
    if (galann_context_new_ex(arg_value(a, "backend"), &o, out) != GALANN_OK)
        return runtime_error(a, "cannot create a compute context");
    return EXIT_OK;
}
