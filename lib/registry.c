/*
 * registry.c -- the one place that knows the backends: their names, in
 * order of preference, and which are compiled in; "best available"; the
 * public galann_backend_* functions; and one wrapper per optional hook of
 * galann_backend_ops, so that no caller tests a hook itself.
 *
 * Not here: contexts (context.c), which find their backend through
 * galann_registry_find and galann_registry_best.
 */
#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "report.h"

/* The ops structs the backend folders define. The build compiles a
 * backend's folder only when that backend is enabled; a weak reference to
 * one it left out is NULL, which the table reads as "known, not compiled
 * in". (ELF weak symbols: GCC and Clang on Linux, which the build targets.)
 * reference is always built. */
extern const galann_backend_ops galann_opencl_backend __attribute__((weak));
extern const galann_backend_ops galann_blas_backend __attribute__((weak));
extern const galann_backend_ops galann_reference_backend;

typedef struct registry_entry {
    const char *name;
    const galann_backend_ops *ops;  /* NULL: known, but not compiled in */
} registry_entry;

/* THE TABLE: one line per backend, in order of preference (the order of
 * galann_backend_name, of "best available" and of the messages). Adding a
 * backend: its folder and ops struct, a weak declaration above and one
 * line here. */
static const registry_entry table[] = {
    { "opencl", &galann_opencl_backend },
    { "blas", &galann_blas_backend },
    { "reference", &galann_reference_backend },
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

/* ------------------------------------------------------------ the table */

/* names of the entries that pass keep (every entry when keep is NULL),
 * joined by separator, into buf */
static void join_names(char *buf, size_t size, const char *separator, int (*keep)(const registry_entry *))
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < TABLE_SIZE && used < size; i++) {
        if (keep && !keep(&table[i]))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? separator : "", table[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int galann_registry_find(const char *name, const galann_backend_ops **ops)
{
    *ops = NULL;
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (strcmp(table[i].name, name) != 0)
            continue;
        if (!table[i].ops)
            return galann_error_set(GALANN_ERR_UNAVAILABLE, "backend \"%s\" is not built into this libgalann", name);
        *ops = table[i].ops;
        return GALANN_OK;
    }
    char known[256];
    join_names(known, sizeof known, ", ", NULL);
    return galann_error_set(GALANN_ERR_INVALID, "unknown backend \"%s\" (known: %s)", name, known);
}

const galann_backend_ops *galann_registry_best(void)
{
    /* A GPU anywhere beats every CPU; among equals, the table's order. */
    static const int preferred[] = { GALANN_DEVICE_GPU, GALANN_DEVICE_CPU };
    const galann_backend_ops *last = NULL;
    for (size_t p = 0; p < sizeof preferred / sizeof preferred[0]; p++) {
        for (size_t i = 0; i < TABLE_SIZE; i++) {
            if (!table[i].ops)
                continue;
            if (galann_ops_has_device(table[i].ops, preferred[p]))
                return table[i].ops;
            last = table[i].ops;
        }
    }
    /* not reached while reference (always usable on the CPU) is built */
    return last;
}

static int computes_single(const registry_entry *e)
{
    return e->ops && galann_ops_has_single(e->ops);
}

void galann_registry_single_names(char *buf, size_t size)
{
    join_names(buf, size, " or ", computes_single);
}

/* --------------------------------------------------- the public functions */

GALANN_API size_t galann_backend_count(void)
{
    size_t count = 0;
    for (size_t i = 0; i < TABLE_SIZE; i++)
        count += table[i].ops != NULL;
    return count;
}

GALANN_API const char *galann_backend_name(size_t index)
{
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (table[i].ops && index-- == 0)
            return table[i].name;
    }
    return NULL;
}

GALANN_API int galann_backend_available(const char *backend)
{
    galann_error_clear();
    if (!backend)
        return galann_error_set(GALANN_ERR_INVALID, "galann_backend_available: backend is NULL");
    const galann_backend_ops *ops;
    int status = galann_registry_find(backend, &ops);
    if (status != GALANN_OK)
        return status;
    return galann_ops_probe(ops);
}

GALANN_API int galann_backend_devices(const char *backend, char *buf, size_t size)
{
    galann_error_clear();
    if (!backend || !buf || size == 0)
        return galann_error_set(GALANN_ERR_INVALID, "galann_backend_devices: NULL argument or empty buffer");
    const galann_backend_ops *ops;
    int status = galann_registry_find(backend, &ops);
    if (status != GALANN_OK)
        return status;
    return galann_ops_list_devices(ops, buf, size);
}

GALANN_API void galann_device_init_size(galann_device *device, size_t size)
{
    galann_report_init(device, size, sizeof *device);
}

GALANN_API int galann_backend_device_count(const char *backend, size_t *count)
{
    galann_error_clear();
    if (!backend || !count)
        return galann_error_set(GALANN_ERR_INVALID, "galann_backend_device_count: backend or count is NULL");
    *count = 0;
    const galann_backend_ops *ops;
    int status = galann_registry_find(backend, &ops);
    if (status != GALANN_OK)
        return status;
    size_t n = 0;
    status = galann_ops_device_count(ops, &n);
    if (status == GALANN_OK)
        *count = n;
    return status;
}

GALANN_API int galann_backend_device(const char *backend, size_t index, galann_device *out)
{
    galann_error_clear();
    if (!backend || !out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_backend_device: backend or out is NULL");
    int status = galann_report_size_check("galann_backend_device", "galann_device_init", out->struct_size);
    if (status != GALANN_OK)
        return status;
    const galann_backend_ops *ops;
    status = galann_registry_find(backend, &ops);
    if (status != GALANN_OK)
        return status;
    size_t count = 0;
    status = galann_ops_device_count(ops, &count);
    if (status != GALANN_OK)
        return status;
    if (index >= count)
        return galann_error_set(GALANN_ERR_INVALID, "galann_backend_device: backend \"%s\" has %zu device%s (0..%zu), "
                                "not %zu", backend, count, count == 1 ? "" : "s", count ? count - 1 : 0, index);
    galann_device full;
    memset(&full, 0, sizeof full);
    full.struct_size = sizeof full;
    status = galann_ops_device_get(ops, index, &full);
    if (status != GALANN_OK)
        return status;
    full.name[sizeof full.name - 1] = '\0';
    galann_report_write(out, &full, sizeof full);
    return GALANN_OK;
}

/* ------------------------------------------------------- hook wrappers */

int galann_ops_probe(const galann_backend_ops *ops)
{
    return ops->probe ? ops->probe() : GALANN_OK;
}

int galann_ops_has_device(const galann_backend_ops *ops, int type)
{
    if (ops->has_device)
        return ops->has_device(type) != 0;
    if (type != GALANN_DEVICE_CPU)
        return 0;
    /* "no" is an answer, not a failure of the caller's call */
    if (galann_ops_probe(ops) != GALANN_OK) {
        galann_error_clear();
        return 0;
    }
    return 1;
}

int galann_ops_threaded(const galann_backend_ops *ops)
{
    return ops->set_threads != NULL;
}

int galann_ops_set_threads(const galann_backend_ops *ops, void *state, int threads)
{
    if (ops->set_threads)
        return ops->set_threads(state, threads);
    if (threads != 1)
        return galann_error_set(GALANN_ERR_INVALID, "backend \"%s\" is serial: it runs 1 thread, not %d", ops->name,
                                threads);
    return GALANN_OK;
}

int galann_ops_describe(const galann_backend_ops *ops, void *state, char *buf, size_t size)
{
    if (ops->describe)
        return ops->describe(state, buf, size);
    snprintf(buf, size, "%s", ops->name);
    return GALANN_OK;
}

int galann_ops_device_count(const galann_backend_ops *ops, size_t *count)
{
    return ops->device_count ? ops->device_count(count) : galann_host_cpu_device_count(count);
}

int galann_ops_device_get(const galann_backend_ops *ops, size_t index, galann_device *out)
{
    return ops->device_get ? ops->device_get(index, out) : galann_host_cpu_device(index, out);
}

static const char *device_type_name(int type)
{
    switch (type) {
    case GALANN_DEVICE_CPU: return "CPU";
    case GALANN_DEVICE_GPU: return "GPU";
    case GALANN_DEVICE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
}

int galann_ops_list_devices(const galann_backend_ops *ops, char *buf, size_t size)
{
    if (ops->list_devices)
        return ops->list_devices(buf, size);
    buf[0] = '\0';
    size_t count = 0, used = 0;
    int status = galann_ops_device_count(ops, &count);
    for (size_t i = 0; status == GALANN_OK && i < count && used < size; i++) {
        galann_device d;
        memset(&d, 0, sizeof d);
        d.struct_size = sizeof d;
        status = galann_ops_device_get(ops, i, &d);
        if (status != GALANN_OK)
            break;
        d.name[sizeof d.name - 1] = '\0';
        int n = snprintf(buf + used, size - used, "%zu: %s (%s, %s)\n", i, d.name, device_type_name(d.type),
                         d.fp64 ? "fp64" : "no fp64");
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (status != GALANN_OK)
        buf[0] = '\0';
    return status;
}

void galann_ops_profile(const galann_backend_ops *ops, void *state, galann_profile *out)
{
    if (ops->profile)
        ops->profile(state, out);
}

int galann_ops_has_single(const galann_backend_ops *ops)
{
    return ops->precision != NULL;
}

int galann_ops_precision(const galann_backend_ops *ops, void *state)
{
    return ops->precision ? ops->precision(state) : GALANN_PRECISION_DOUBLE;
}

int galann_ops_keeps_datasets(const galann_backend_ops *ops)
{
    return ops->prepare_dataset != NULL;
}

int galann_ops_prepare_dataset(const galann_backend_ops *ops, void *state, const galann_data_view *data,
                               void **attachment)
{
    *attachment = NULL;
    return ops->prepare_dataset ? ops->prepare_dataset(state, data, attachment) : GALANN_OK;
}

void galann_ops_release_dataset(const galann_backend_ops *ops, void *state, void *attachment)
{
    if (ops->release_dataset)
        ops->release_dataset(state, attachment);
}
