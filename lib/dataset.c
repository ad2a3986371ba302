/*
 * dataset.c -- creating, reading and freeing datasets.
 *
 * Parsing CSV text is csv.c's job; this file owns the handle's lifetime and
 * its invariants: finite features, labels in [0, k).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "attachment.h"
#include "error.h"

int galann_dataset_adopt(double *x, int32_t *y, size_t m, size_t n, size_t k, galann_dataset **out)
{
    galann_dataset *d = calloc(1, sizeof *d);
    if (!d) {
        free(x);
        free(y);
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for a dataset");
    }
    if (pthread_mutex_init(&d->attachments_lock, NULL) != 0) {
        free(d);
        free(x);
        free(y);
        return galann_error_set(GALANN_ERR_NOMEM, "cannot create a dataset lock");
    }
    d->m = m;
    d->n = n;
    d->k = k;
    d->x = x;
    d->y = y;
    *out = d;
    return GALANN_OK;
}

GALANN_API int galann_dataset_new(const double *features, const int32_t *labels, size_t n_samples,
                                  size_t n_features, size_t n_labels, galann_dataset **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_new: out is NULL");
    *out = NULL;
    if (n_samples > 0 && (!features || !labels))
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_new: features or labels is NULL");
    if (n_features == 0 || n_labels == 0)
        return galann_error_set(GALANN_ERR_INVALID,
                                "galann_dataset_new: sizes must be positive (samples %zu, features %zu, labels %zu)",
                                n_samples, n_features, n_labels);
    if (n_labels > INT32_MAX)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_new: %zu labels is too many", n_labels);
    if (n_samples > 0 && n_features > SIZE_MAX / sizeof(double) / n_samples)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_new: %zu x %zu features overflow memory",
                                n_samples, n_features);

    for (size_t i = 0; i < n_samples; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= n_labels)
            return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_new: label %ld of sample %zu is not in [0, %zu)",
                                    (long)labels[i], i, n_labels);
    }
    size_t count = n_samples * n_features;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(features[i]))
            return galann_error_set(GALANN_ERR_NONFINITE, "galann_dataset_new: feature %zu of sample %zu is not finite",
                                    i % n_features, i / n_features);
    }

    /* an empty share still owns (one-element) arrays: malloc(0) may be NULL */
    double *x = malloc((count ? count : 1) * sizeof *x);
    int32_t *y = malloc((n_samples ? n_samples : 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for %zu x %zu features", n_samples, n_features);
    }
    if (n_samples > 0) {
        memcpy(x, features, count * sizeof *x);
        memcpy(y, labels, n_samples * sizeof *y);
    }
    return galann_dataset_adopt(x, y, n_samples, n_features, n_labels, out);
}

GALANN_API void galann_dataset_free(galann_dataset *d)
{
    if (!d)
        return;
    galann_attachments_release_dataset(d);
    pthread_mutex_destroy(&d->attachments_lock);
    free(d->x);
    free(d->y);
    free(d);
}

galann_data_view galann_dataset_view(const galann_dataset *d)
{
    galann_data_view v = { NULL, d->m, d->n, d->k, d->x, d->y };
    return v;
}

GALANN_API size_t galann_dataset_n_samples(const galann_dataset *d) { return d ? d->m : 0; }
GALANN_API size_t galann_dataset_n_features(const galann_dataset *d) { return d ? d->n : 0; }
GALANN_API size_t galann_dataset_n_labels(const galann_dataset *d) { return d ? d->k : 0; }
GALANN_API const double *galann_dataset_features(const galann_dataset *d) { return d ? d->x : NULL; }
GALANN_API const int32_t *galann_dataset_labels(const galann_dataset *d) { return d ? d->y : NULL; }
