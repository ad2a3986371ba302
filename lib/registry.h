/*
 * registry.h -- the backends this library knows, and the one wrapper per
 * optional hook through which the core calls them.
 *
 * lib/registry.c holds the table: every backend's name, in order of
 * preference, with its ops when it is compiled in. Nothing else in lib/
 * names a backend: messages, "best available" and the public
 * galann_backend_* functions all read the table.
 */
#ifndef GALANN_REGISTRY_H
#define GALANN_REGISTRY_H

#include <stddef.h>

#include "backend.h"

/* The ops of backend name: GALANN_OK, else GALANN_ERR_INVALID ('unknown
 * backend "x" (known: opencl, blas, reference)', the table's names in its
 * order) or GALANN_ERR_UNAVAILABLE ('backend "x" is not built into this
 * libgalann'), with the message set. */
int galann_registry_find(const char *name, const galann_backend_ops **ops);

/* "Best available": the first compiled-in backend, in table order, that
 * has a usable GPU, else the first that has a usable CPU. */
const galann_backend_ops *galann_registry_best(void);

/* The names of the compiled-in backends that can compute in single
 * precision, joined by " or ", into buf ("" when none). */
void galann_registry_single_names(char *buf, size_t size);

/* ---- the hooks, each behind one wrapper that supplies its default ---- */

/* probe, or GALANN_OK. */
int galann_ops_probe(const galann_backend_ops *ops);
/* has_device(type), or: type is GALANN_DEVICE_CPU and probe succeeds. */
int galann_ops_has_device(const galann_backend_ops *ops, int type);
/* Whether the backend has threads to set (set_threads is there). */
int galann_ops_threaded(const galann_backend_ops *ops);
/* set_threads; a serial backend accepts 1 only (GALANN_ERR_INVALID). */
int galann_ops_set_threads(const galann_backend_ops *ops, void *state, int threads);
/* describe, or the backend's name. */
int galann_ops_describe(const galann_backend_ops *ops, void *state, char *buf, size_t size);
/* device_count / device_get, or the host CPU as the one device. out is
 * a zeroed galann_device of the library's size. */
int galann_ops_device_count(const galann_backend_ops *ops, size_t *count);
int galann_ops_device_get(const galann_backend_ops *ops, size_t index, galann_device *out);
/* list_devices, or one line per device from the two above. */
int galann_ops_list_devices(const galann_backend_ops *ops, char *buf, size_t size);
/* profile, or nothing added. */
void galann_ops_profile(const galann_backend_ops *ops, void *state, galann_profile *out);
/* Whether the backend can compute in single precision (precision is there). */
int galann_ops_has_single(const galann_backend_ops *ops);
/* precision, or GALANN_PRECISION_DOUBLE. */
int galann_ops_precision(const galann_backend_ops *ops, void *state);
/* Whether the backend derives data from datasets (prepare_dataset is there). */
int galann_ops_keeps_datasets(const galann_backend_ops *ops);
/* prepare_dataset, or *attachment = NULL; release_dataset, or nothing. */
int galann_ops_prepare_dataset(const galann_backend_ops *ops, void *state, const galann_data_view *data,
                               void **attachment);
void galann_ops_release_dataset(const galann_backend_ops *ops, void *state, void *attachment);

#endif /* GALANN_REGISTRY_H */
