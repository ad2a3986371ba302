/*
 * context.c -- creating contexts on a backend, their settings, and the
 * environment overrides (GALANN_BACKEND, GALANN_THREADS,
 * GALANN_OPENCL_DEVICE, GALANN_CACHE_DIR, GALANN_PRECISION,
 * GALANN_PROFILE). Which backends exist: registry.c.
 *
 * The environment is consulted only where the caller left a choice open
 * (backend NULL, threads 0, device NULL): an explicit argument always wins.
 *
 * A context serves one call at a time. Every call that uses it claims it
 * (galann_context_enter, an atomic flag): a second call meanwhile, from
 * another thread or from a callback inside the first, returns
 * GALANN_ERR_BUSY at once instead of deadlocking in the backend's thread
 * pool or mixing two evaluations' sums.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "attachment.h"
#include "error.h"
#include "report.h"
#include "registry.h"

#define MAX_THREADS 1024

int galann_context_enter(galann_context *c, const char *who)
{
    if (!c)
        return GALANN_OK;
    if (atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire))
        return galann_error_set(GALANN_ERR_BUSY, "%s: the context is busy with another call (a context serves one "
                                "call at a time: use one context per thread)", who);
    return GALANN_OK;
}

void galann_context_leave(galann_context *c)
{
    if (c)
        atomic_flag_clear_explicit(&c->busy, memory_order_release);
}

GALANN_API void galann_context_options_init_size(galann_context_options *opts, size_t size)
{
    if (!opts || size < sizeof opts->struct_size)
        return;
    /* every default is zero; write no further than the caller's struct */
    memset(opts, 0, size < sizeof *opts ? size : sizeof *opts);
    opts->struct_size = size < sizeof *opts ? size : sizeof *opts;
}

static int parse_thread_count(const char *text, int *threads)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 1 || v > MAX_THREADS)
        return galann_error_set(GALANN_ERR_INVALID, "GALANN_THREADS=\"%s\" is not a thread count in 1..%d", text,
                                MAX_THREADS);
    *threads = (int)v;
    return GALANN_OK;
}

static int default_thread_count(int *threads)
{
    const char *env = getenv("GALANN_THREADS");
    if (env && *env)
        return parse_thread_count(env, threads);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *threads = cpus < 1 ? 1 : (cpus > MAX_THREADS ? MAX_THREADS : (int)cpus);
    return GALANN_OK;
}

/* GALANN_PRECISION: "double", "single" or "any"; unset or empty: double. */
static int precision_from_environment(int *precision)
{
    const char *env = getenv("GALANN_PRECISION");
    *precision = GALANN_PRECISION_DOUBLE;
    if (!env || !*env || strcmp(env, "double") == 0)
        return GALANN_OK;
    if (strcmp(env, "single") == 0)
        *precision = GALANN_PRECISION_SINGLE;
    else if (strcmp(env, "any") == 0)
        *precision = GALANN_PRECISION_ANY;
    else
        return galann_error_set(GALANN_ERR_INVALID, "GALANN_PRECISION=\"%.40s\" is not double, single or any", env);
    return GALANN_OK;
}

static int choose_backend(const char *name, const galann_backend_ops **ops)
{
    if (!name) {
        const char *env = getenv("GALANN_BACKEND");
        if (env && *env)
            name = env;
    }
    if (!name) {
        *ops = galann_registry_best();
        return GALANN_OK;
    }
    return galann_registry_find(name, ops);
}

GALANN_API int galann_context_new_ex(const char *backend, const galann_context_options *opts,
                                     galann_context **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_new: out is NULL");
    *out = NULL;

    galann_context_options o;
    galann_context_options_init(&o);
    if (opts) {
        if (opts->struct_size == 0 || opts->struct_size > sizeof o)
            return galann_error_set(GALANN_ERR_INVALID, "galann_context_new_ex: options.struct_size %zu is not valid "
                                    "(use galann_context_options_init)", opts->struct_size);
        memcpy(&o, opts, opts->struct_size);
    }
    if (o.threads < 0 || o.threads > MAX_THREADS)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_new_ex: %d threads is not in 0..%d", o.threads,
                                MAX_THREADS);
    if (o.precision < GALANN_PRECISION_DEFAULT || o.precision > GALANN_PRECISION_ANY)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_new_ex: precision %d is not a galann_precision",
                                o.precision);
    int status = o.precision == GALANN_PRECISION_DEFAULT ? precision_from_environment(&o.precision) : GALANN_OK;
    if (status != GALANN_OK)
        return status;

    const galann_backend_ops *ops;
    status = choose_backend(backend, &ops);
    if (status != GALANN_OK)
        return status;
    if (o.precision == GALANN_PRECISION_SINGLE && !galann_ops_has_single(ops)) {
        char single[128];
        galann_registry_single_names(single, sizeof single);
        return galann_error_set(GALANN_ERR_UNAVAILABLE, "backend \"%s\" computes in double precision only (%s%s)",
                                ops->name, single[0] ? "single: " : "no backend of this build computes in single",
                                single);
    }
    /* GALANN_THREADS matters only to backends that have threads. */
    if (o.threads == 0 && galann_ops_threaded(ops)) {
        status = default_thread_count(&o.threads);
        if (status != GALANN_OK)
            return status;
    }
    if (!o.device)
        o.device = getenv("GALANN_OPENCL_DEVICE");
    if (!o.cache_dir)
        o.cache_dir = getenv("GALANN_CACHE_DIR");
    if (!o.profile) {
        const char *env = getenv("GALANN_PROFILE");
        o.profile = env && *env && strcmp(env, "0") != 0;
    }

    galann_context *c = calloc(1, sizeof *c);
    if (!c)
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for a context");
    status = galann_attachment_list_init(&c->attachments, "context");
    if (status != GALANN_OK) {
        free(c);
        return status;
    }
    atomic_flag_clear(&c->busy);
    c->ops = ops;
    c->threads = galann_ops_threaded(ops) ? o.threads : 1;
    c->profiling = o.profile;
    galann_backend_config cfg = { c->threads, o.precision, o.device, o.cache_dir, o.profile };
    status = ops->create(&cfg, &c->state);
    if (status != GALANN_OK) {
        galann_attachment_list_destroy(&c->attachments);
        free(c);
        return status;
    }
    *out = c;
    /* "best available" may have probed a backend that failed (CBLAS not
     * loadable): a success leaves no message behind */
    galann_error_clear();
    return GALANN_OK;
}

GALANN_API int galann_context_new(const char *backend, galann_context **out)
{
    return galann_context_new_ex(backend, NULL, out);
}

GALANN_API void galann_context_free(galann_context *c)
{
    if (!c)
        return;
    galann_attachments_release_context(&c->attachments);
    c->ops->destroy(c->state);
    galann_exact_sum_free(c->sums);
    free(c->rounded);
    galann_attachment_list_destroy(&c->attachments);
    free(c);
}

GALANN_API const char *galann_context_backend(const galann_context *c)
{
    return c ? c->ops->name : "none";
}

GALANN_API int galann_context_precision(const galann_context *c)
{
    if (!c)
        return 0;
    return galann_ops_precision(c->ops, c->state);
}

GALANN_API int galann_context_set_threads(galann_context *c, int n)
{
    galann_error_clear();
    if (!c)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_set_threads: context is NULL");
    if (n < 1 || n > MAX_THREADS)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_set_threads: %d threads is not in 1..%d", n,
                                MAX_THREADS);
    /* a serial backend has nothing to change (1) or refuses: no claim */
    if (!galann_ops_threaded(c->ops))
        return galann_ops_set_threads(c->ops, c->state, n);
    int status = galann_context_enter(c, "galann_context_set_threads");
    if (status != GALANN_OK)
        return status;
    status = galann_ops_set_threads(c->ops, c->state, n);
    if (status == GALANN_OK)
        c->threads = n;
    galann_context_leave(c);
    return status;
}

GALANN_API int galann_context_threads(const galann_context *c)
{
    return c ? c->threads : 0;
}

GALANN_API int galann_context_describe(const galann_context *c, char *buf, size_t size)
{
    galann_error_clear();
    if (!c || !buf || size == 0)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_describe: NULL argument or empty buffer");
    /* the backend's profile counters change during a call */
    galann_context *mutable = (galann_context *)c;
    int status = galann_context_enter(mutable, "galann_context_describe");
    if (status != GALANN_OK)
        return status;
    status = galann_ops_describe(c->ops, c->state, buf, size);
    galann_context_leave(mutable);
    return status;
}

GALANN_API int galann_context_profile(const galann_context *c, galann_profile *out)
{
    galann_error_clear();
    if (!c || !out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_context_profile: context or out is NULL");
    int status = galann_report_size_check("galann_context_profile", "galann_profile_init", out->struct_size);
    if (status != GALANN_OK)
        return status;
    /* the counters change during a call */
    galann_context *mutable = (galann_context *)c;
    status = galann_context_enter(mutable, "galann_context_profile");
    if (status != GALANN_OK)
        return status;
    galann_profile p;
    memset(&p, 0, sizeof p);
    p.evaluations = c->evaluations;
    p.seconds = c->evaluate_seconds;
    p.combine_seconds = c->combine_seconds;
    galann_ops_profile(c->ops, c->state, &p);
    galann_context_leave(mutable);
    p.struct_size = sizeof p;
    galann_report_write(out, &p, sizeof p);
    return GALANN_OK;
}
