/*
 * dataset.h -- the dataset handle's layout, shared by the core files.
 *
 * Features are kept in one of three storage types (galann_storage): f64
 * as given, f32, or u8 pixels with a divisor (the value of byte p is
 * exactly p / divisor, read from a 256-entry table, so a u8 dataset and
 * the f64 dataset of the same file hold the same numbers). Backends read
 * any storage through the data view (backend.h), a block of rows at a
 * time; nothing converts a whole dataset to doubles unless a caller asks
 * for galann_dataset_features of a non-f64 dataset.
 */
#ifndef GALANN_DATASET_H
#define GALANN_DATASET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "galann.h"
#include "attachment.h"
#include "backend.h"

struct galann_dataset {
    size_t m;          /* samples */
    size_t n;          /* features */
    size_t k;          /* labels */
    int storage;       /* GALANN_STORAGE_F64, _F32 or _U8 */
    void *features;    /* m x n values of the storage type, row-major */
    double divisor;    /* u8: a byte p means p / divisor; 1 otherwise */
    double u8_values[256]; /* u8: p / divisor for every byte */
    int32_t *y;        /* m */
    /* Non-NULL: features point into this read-only file mapping (a .npy
     * file, npy.c), which galann_dataset_free unmaps instead of freeing
     * features. */
    void *mapping;
    size_t mapping_size;
    /* What backends derived from this dataset, per context, and the
     * double copy galann_dataset_features makes of a u8 or f32 dataset.
     * The samples never change; only these do, under the list's lock. */
    galann_attachment_list attachments;
    double *double_copy;
};

/* Bytes per stored value of a storage type (0 for an unknown one). */
size_t galann_storage_bytes(int storage);

/* Wrap arrays the caller allocated with malloc: features of the given
 * storage (divisor for u8, else 1). The dataset owns them from then on,
 * also on failure. */
int galann_dataset_adopt_stored(int storage, void *features, double divisor, int32_t *y, size_t m, size_t n,
                                size_t k, galann_dataset **out);
/* The same for features at offset bytes into a read-only mmap of
 * mapping_size bytes: the dataset owns the mapping from then on, also on
 * failure (it is unmapped). */
int galann_dataset_adopt_mapped(int storage, void *mapping, size_t mapping_size, size_t offset, double divisor,
                                int32_t *y, size_t m, size_t n, size_t k, galann_dataset **out);
/* The f64 form of galann_dataset_adopt_stored. */
int galann_dataset_adopt(double *x, int32_t *y, size_t m, size_t n, size_t k, galann_dataset **out);

/* The backend's view of a dataset (attachment left NULL). */
galann_data_view galann_dataset_view(const galann_dataset *d);

#endif /* GALANN_DATASET_H */
