/*
 * npy.h -- the .npy reader on bytes in memory: the entry the fuzzer
 * (fuzz/fuzz-npy.c) and the corpus test (tests/test-npy.c) use, with the
 * checks, messages and datasets of galann_dataset_load_npy_with except
 * that nothing is mapped (the features are always copied).
 */
#ifndef GALANN_NPY_H
#define GALANN_NPY_H

#include <stddef.h>

#include "galann.h"

/* features_size bytes of a features file named features_name in messages;
 * a labels file likewise, or none when labels_name is NULL (then labels
 * may be NULL). opts NULL: the defaults. Statuses as
 * galann_dataset_load_npy_with, less the file system's. */
int galann_npy_load_memory(const void *features, size_t features_size, const char *features_name,
                           const void *labels, size_t labels_size, const char *labels_name,
                           const galann_npy_options *opts, galann_dataset **out);

#endif /* GALANN_NPY_H */
