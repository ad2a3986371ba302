/*
 * backend.c -- the registry of compiled-in backends.
 *
 * Adding a backend: declare its ops here and add one line to the table.
 * The build defines GALANN_WITH_<NAME> for each backend it compiles.
 */
#include <string.h>

#include "backend.h"
#include "registry.h"

extern const galann_backend_ops galann_reference_backend;
#ifdef GALANN_WITH_BLAS
extern const galann_backend_ops galann_blas_backend;
#endif
#ifdef GALANN_WITH_OPENCL
extern const galann_backend_ops galann_opencl_backend;
#endif

/* In order of preference for "best available" (the GPU rule aside). */
static const galann_backend_ops *const compiled_backends[] = {
#ifdef GALANN_WITH_OPENCL
    &galann_opencl_backend,
#endif
#ifdef GALANN_WITH_BLAS
    &galann_blas_backend,
#endif
    &galann_reference_backend,
};

#define N_BACKENDS (sizeof compiled_backends / sizeof compiled_backends[0])

GALANN_API size_t galann_backend_count(void)
{
    return N_BACKENDS;
}

GALANN_API const char *galann_backend_name(size_t index)
{
    return index < N_BACKENDS ? compiled_backends[index]->name : NULL;
}

const galann_backend_ops *galann_backend_find(const char *name)
{
    for (size_t i = 0; i < N_BACKENDS; i++) {
        if (strcmp(compiled_backends[i]->name, name) == 0)
            return compiled_backends[i];
    }
    return NULL;
}

const galann_backend_ops *galann_backend_best(void)
{
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const galann_backend_ops *ops = compiled_backends[i];
        if (ops->has_gpu) {
            /* A device-class backend is the best choice only on a GPU;
             * a CPU OpenCL device is for testing. */
            if (ops->has_gpu())
                return ops;
            continue;
        }
        if (!ops->probe || ops->probe() == GALANN_OK)
            return ops;
    }
    return &galann_reference_backend;
}

uint64_t galann_hash64(const void *data, size_t size, uint64_t seed)
{
    /* FNV-1a, 64-bit offset basis and prime */
    const unsigned char *p = data;
    uint64_t h = seed ? seed : 14695981039346656037ull;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}
