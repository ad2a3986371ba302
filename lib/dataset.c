/*
 * dataset.c -- creating, reading and freeing datasets, in any storage
 * type (dataset.h): f64, f32, or u8 pixels with a divisor.
 *
 * Parsing CSV text is csv.c's job; this file owns the handle's lifetime and
 * its invariants: finite features, labels in [0, k).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dataset.h"
#include "attachment.h"
#include "error.h"

size_t galann_storage_bytes(int storage)
{
    switch (storage) {
    case GALANN_STORAGE_F64: return sizeof(double);
    case GALANN_STORAGE_F32: return sizeof(float);
    case GALANN_STORAGE_U8: return 1;
    default: return 0;
    }
}

int galann_dataset_adopt_stored(int storage, void *features, double divisor, int32_t *y, size_t m, size_t n,
                                size_t k, galann_dataset **out)
{
    galann_dataset *d = calloc(1, sizeof *d);
    if (!d) {
        free(features);
        free(y);
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for a dataset");
    }
    int status = galann_attachment_list_init(&d->attachments, "dataset");
    if (status != GALANN_OK) {
        free(d);
        free(features);
        free(y);
        return status;
    }
    d->m = m;
    d->n = n;
    d->k = k;
    d->storage = storage;
    d->features = features;
    d->divisor = storage == GALANN_STORAGE_U8 ? divisor : 1.0;
    for (int p = 0; p < 256; p++)
        d->u8_values[p] = (double)p / d->divisor;
    d->y = y;
    *out = d;
    return GALANN_OK;
}

int galann_dataset_adopt_mapped(int storage, void *mapping, size_t mapping_size, size_t offset, double divisor,
                                int32_t *y, size_t m, size_t n, size_t k, galann_dataset **out)
{
    /* no features yet: nothing for a failure to free but y */
    int status = galann_dataset_adopt_stored(storage, NULL, divisor, y, m, n, k, out);
    if (status != GALANN_OK) {
        munmap(mapping, mapping_size);
        return status;
    }
    (*out)->features = (unsigned char *)mapping + offset;
    (*out)->mapping = mapping;
    (*out)->mapping_size = mapping_size;
    return GALANN_OK;
}

int galann_dataset_adopt(double *x, int32_t *y, size_t m, size_t n, size_t k, galann_dataset **out)
{
    return galann_dataset_adopt_stored(GALANN_STORAGE_F64, x, 1.0, y, m, n, k, out);
}

/* The checks every constructor makes of sizes and labels. */
static int check_shape(const char *who, const void *features, const int32_t *labels, size_t n_samples,
                       size_t n_features, size_t n_labels, size_t value_bytes, galann_dataset **out)
{
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "%s: out is NULL", who);
    *out = NULL;
    if (n_samples > 0 && (!features || !labels))
        return galann_error_set(GALANN_ERR_INVALID, "%s: features or labels is NULL", who);
    if (n_features == 0 || n_labels == 0)
        return galann_error_set(GALANN_ERR_INVALID, "%s: sizes must be positive (samples %zu, features %zu, labels %zu)",
                                who, n_samples, n_features, n_labels);
    if (n_labels > INT32_MAX)
        return galann_error_set(GALANN_ERR_INVALID, "%s: %zu labels is too many", who, n_labels);
    if (n_samples > 0 && n_features > SIZE_MAX / value_bytes / n_samples)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: %zu x %zu features overflow memory", who, n_samples,
                                n_features);
    for (size_t i = 0; i < n_samples; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= n_labels)
            return galann_error_set(GALANN_ERR_INVALID, "%s: label %ld of sample %zu is not in [0, %zu)", who,
                                    (long)labels[i], i, n_labels);
    }
    return GALANN_OK;
}

/* Copies of the arrays (one-element arrays for an empty share: malloc(0)
 * may be NULL), then the dataset. */
static int copy_and_adopt(int storage, const void *features, double divisor, const int32_t *labels, size_t m,
                          size_t n, size_t k, galann_dataset **out)
{
    size_t bytes = m * n * galann_storage_bytes(storage);
    void *x = malloc(bytes ? bytes : 1);
    int32_t *y = malloc((m ? m : 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for %zu x %zu features", m, n);
    }
    if (m > 0) {
        memcpy(x, features, bytes);
        memcpy(y, labels, m * sizeof *y);
    }
    return galann_dataset_adopt_stored(storage, x, divisor, y, m, n, k, out);
}

GALANN_API int galann_dataset_new(const double *features, const int32_t *labels, size_t n_samples,
                                  size_t n_features, size_t n_labels, galann_dataset **out)
{
    galann_error_clear();
    int status = check_shape("galann_dataset_new", features, labels, n_samples, n_features, n_labels,
                             sizeof(double), out);
    if (status != GALANN_OK)
        return status;
    size_t count = n_samples * n_features;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(features[i]))
            return galann_error_set(GALANN_ERR_NONFINITE, "galann_dataset_new: feature %zu of sample %zu is not finite",
                                    i % n_features, i / n_features);
    }
    return copy_and_adopt(GALANN_STORAGE_F64, features, 1.0, labels, n_samples, n_features, n_labels, out);
}

GALANN_API int galann_dataset_new_f32(const float *features, const int32_t *labels, size_t n_samples,
                                      size_t n_features, size_t n_labels, galann_dataset **out)
{
    galann_error_clear();
    int status = check_shape("galann_dataset_new_f32", features, labels, n_samples, n_features, n_labels,
                             sizeof(float), out);
    if (status != GALANN_OK)
        return status;
    size_t count = n_samples * n_features;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(features[i]))
            return galann_error_set(GALANN_ERR_NONFINITE,
                                    "galann_dataset_new_f32: feature %zu of sample %zu is not finite", i % n_features,
                                    i / n_features);
    }
    return copy_and_adopt(GALANN_STORAGE_F32, features, 1.0, labels, n_samples, n_features, n_labels, out);
}

GALANN_API int galann_dataset_new_u8(const uint8_t *pixels, const int32_t *labels, size_t n_samples,
                                     size_t n_features, size_t n_labels, double divisor, galann_dataset **out)
{
    galann_error_clear();
    int status = check_shape("galann_dataset_new_u8", pixels, labels, n_samples, n_features, n_labels, 1, out);
    if (status != GALANN_OK)
        return status;
    if (!(divisor != 0.0) || !isfinite(divisor) || !isfinite(255.0 / divisor))
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_new_u8: divisor %g is not usable", divisor);
    return copy_and_adopt(GALANN_STORAGE_U8, pixels, divisor, labels, n_samples, n_features, n_labels, out);
}

GALANN_API int galann_dataset_with_labels(const galann_dataset *d, size_t n_labels, galann_dataset **out)
{
    galann_error_clear();
    if (out)
        *out = NULL;
    if (!d)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_with_labels: dataset is NULL");
    int status = check_shape("galann_dataset_with_labels", d->features, d->y, d->m, d->n, n_labels,
                             galann_storage_bytes(d->storage), out);
    if (status != GALANN_OK)
        return status;
    return copy_and_adopt(d->storage, d->features, d->divisor, d->y, d->m, d->n, n_labels, out);
}

GALANN_API int galann_dataset_slice(const galann_dataset *d, size_t first_row, size_t n_rows, galann_dataset **out)
{
    galann_error_clear();
    if (!d || !out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_slice: dataset or out is NULL");
    *out = NULL;
    if (first_row > d->m || n_rows > d->m - first_row)
        return galann_error_set(GALANN_ERR_DIMENSION, "galann_dataset_slice: rows [%zu, +%zu) are not in the "
                                "dataset's %zu", first_row, n_rows, d->m);
    size_t row_bytes = d->n * galann_storage_bytes(d->storage);
    return copy_and_adopt(d->storage, (const unsigned char *)d->features + first_row * row_bytes, d->divisor,
                          d->y + first_row, n_rows, d->n, d->k, out);
}

GALANN_API void galann_dataset_free(galann_dataset *d)
{
    if (!d)
        return;
    galann_attachments_release_dataset(&d->attachments);
    galann_attachment_list_destroy(&d->attachments);
    if (d->mapping)
        munmap(d->mapping, d->mapping_size);
    else
        free(d->features);
    free(d->double_copy);
    free(d->y);
    free(d);
}

galann_data_view galann_dataset_view(const galann_dataset *d)
{
    galann_data_view v = { NULL, d->m, d->n, d->k, d->storage, d->features, d->u8_values, d->divisor, d->y };
    return v;
}

const double *galann_data_view_f64(const galann_data_view *v)
{
    return v->storage == GALANN_STORAGE_F64 ? v->features : NULL;
}

void galann_data_view_rows(const galann_data_view *v, size_t first, size_t count, double *out)
{
    size_t start = first * v->n, values = count * v->n;
    if (v->storage == GALANN_STORAGE_U8) {
        const uint8_t *p = (const uint8_t *)v->features + start;
        for (size_t i = 0; i < values; i++)
            out[i] = v->u8_values[p[i]];
    } else if (v->storage == GALANN_STORAGE_F32) {
        const float *f = (const float *)v->features + start;
        for (size_t i = 0; i < values; i++)
            out[i] = (double)f[i];
    } else {
        memcpy(out, (const double *)v->features + start, values * sizeof *out);
    }
}

void galann_data_view_rows_f32(const galann_data_view *v, size_t first, size_t count, float *out)
{
    size_t start = first * v->n, values = count * v->n;
    if (v->storage == GALANN_STORAGE_U8) {
        const uint8_t *p = (const uint8_t *)v->features + start;
        for (size_t i = 0; i < values; i++)
            out[i] = (float)v->u8_values[p[i]];
    } else if (v->storage == GALANN_STORAGE_F32) {
        memcpy(out, (const float *)v->features + start, values * sizeof *out);
    } else {
        const double *x = (const double *)v->features + start;
        for (size_t i = 0; i < values; i++)
            out[i] = (float)x[i];
    }
}

GALANN_API size_t galann_dataset_n_samples(const galann_dataset *d) { return d ? d->m : 0; }
GALANN_API size_t galann_dataset_n_features(const galann_dataset *d) { return d ? d->n : 0; }
GALANN_API size_t galann_dataset_n_labels(const galann_dataset *d) { return d ? d->k : 0; }
GALANN_API const int32_t *galann_dataset_labels(const galann_dataset *d) { return d ? d->y : NULL; }
GALANN_API int galann_dataset_storage(const galann_dataset *d) { return d ? d->storage : -1; }
GALANN_API double galann_dataset_divisor(const galann_dataset *d) { return d ? d->divisor : 0.0; }
GALANN_API const void *galann_dataset_stored_features(const galann_dataset *d) { return d ? d->features : NULL; }

GALANN_API int galann_dataset_copy_features(const galann_dataset *d, size_t first_row, size_t n_rows, double *out)
{
    galann_error_clear();
    if (!d || (!out && n_rows > 0))
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_copy_features: dataset or out is NULL");
    if (first_row > d->m || n_rows > d->m - first_row)
        return galann_error_set(GALANN_ERR_DIMENSION, "galann_dataset_copy_features: rows [%zu, +%zu) are not in "
                                "the dataset's %zu", first_row, n_rows, d->m);
    galann_data_view v = galann_dataset_view(d);
    galann_data_view_rows(&v, first_row, n_rows, out);
    return GALANN_OK;
}

/* f64: the array itself. Otherwise a double copy, made once (under the
 * lock: two threads may ask at once) and kept until the dataset is freed. */
GALANN_API const double *galann_dataset_features(const galann_dataset *d)
{
    if (!d)
        return NULL;
    if (d->storage == GALANN_STORAGE_F64)
        return d->features;
    galann_dataset *mutable = (galann_dataset *)d;
    pthread_mutex_lock(&mutable->attachments.lock);
    if (!mutable->double_copy && d->m * d->n > 0) {
        double *copy = malloc(d->m * d->n * sizeof *copy);
        if (copy) {
            galann_data_view v = galann_dataset_view(d);
            galann_data_view_rows(&v, 0, d->m, copy);
        }
        mutable->double_copy = copy;
    }
    const double *x = mutable->double_copy;
    pthread_mutex_unlock(&mutable->attachments.lock);
    return x;
}
