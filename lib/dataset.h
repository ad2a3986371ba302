/*
 * dataset.h -- the dataset handle's layout, shared by the core files.
 */
#ifndef GALANN_DATASET_H
#define GALANN_DATASET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "galann.h"
#include "backend.h"

struct galann_attachment;

struct galann_dataset {
    size_t m;          /* samples */
    size_t n;          /* features */
    size_t k;          /* labels */
    double *x;         /* m x n, row-major */
    int32_t *y;        /* m */
    /* What backends derived from this dataset, per context. The samples
     * never change; only this cache does, under the lock. */
    pthread_mutex_t attachments_lock;
    struct galann_attachment *attachments;
};

/* Wrap arrays the caller allocated with malloc; the dataset owns them from
 * then on, also on failure. */
int galann_dataset_adopt(double *x, int32_t *y, size_t m, size_t n, size_t k, galann_dataset **out);

/* The backend's view of a dataset (attachment left NULL). */
galann_data_view galann_dataset_view(const galann_dataset *d);

#endif /* GALANN_DATASET_H */
