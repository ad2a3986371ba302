/*
 * registry.h -- finding a backend by name.
 */
#ifndef GALANN_REGISTRY_H
#define GALANN_REGISTRY_H

#include "backend.h"

/* The ops of a compiled-in backend, or NULL. */
const galann_backend_ops *galann_backend_find(const char *name);

/* The backend "best available" means: opencl on a usable GPU, else blas,
 * else reference. */
const galann_backend_ops *galann_backend_best(void);

#endif /* GALANN_REGISTRY_H */
