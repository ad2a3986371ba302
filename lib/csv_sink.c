/*
 * csv_sink.c -- where the CSV readers put the rows they parse: features
 * of the storage type asked for (u8, f32 or f64), or, when asked for
 * "auto", u8 for as long as every value is a whole number 0..255 and f64
 * from the first row that is not (the rows stored so far are widened
 * then, exactly). So a file of 8-bit pixels costs one byte per value, and
 * any other file loses nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "error.h"

int galann_csv_sink_open(csv_sink *s, const csv_layout *l, size_t m, size_t n, const char *name)
{
    memset(s, 0, sizeof *s);
    s->wanted = l->storage;
    s->storage = l->storage == GALANN_STORAGE_AUTO ? GALANN_STORAGE_U8 : l->storage;
    s->divisor = l->divisor;
    s->m = m;
    s->n = n;
    s->labelled = l->labelled;
    s->name = name;
    for (int p = 0; p < 256; p++)
        s->u8_values[p] = (double)p / s->divisor;
    size_t bytes = galann_storage_bytes(s->storage);
    if (bytes == 0)
        return galann_error_set(GALANN_ERR_INVALID, "%s: storage %d is not a galann_storage", name, l->storage);
    if (n > 0 && m > SIZE_MAX / bytes / n)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: %zu x %zu features overflow memory", name, m, n);
    size_t total = m * n * bytes;
    s->features = malloc(total ? total : 1);
    s->y = malloc((m ? m : 1) * sizeof *s->y);
    if (!s->features || !s->y) {
        galann_csv_sink_abandon(s);
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %zu x %zu features", name, m, n);
    }
    return GALANN_OK;
}

/* From u8 to f64: every row stored so far, exactly (p / divisor). */
static int widen_to_f64(csv_sink *s, size_t rows_stored)
{
    double *x = malloc(s->m * s->n * sizeof *x);
    if (!x)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %zu x %zu features", s->name, s->m, s->n);
    const uint8_t *p = s->features;
    for (size_t i = 0; i < rows_stored * s->n; i++)
        x[i] = s->u8_values[p[i]];
    free(s->features);
    s->features = x;
    s->storage = GALANN_STORAGE_F64;
    return GALANN_OK;
}

/* A value a byte holds exactly: a whole number 0..255, and not -0 (whose
 * sign a byte would lose). */
static int is_byte(double v)
{
    return v >= 0.0 && v <= 255.0 && v == floor(v) && !signbit(v);
}

int galann_csv_sink_store(csv_sink *s, size_t i, const double *raw, int32_t label, size_t line)
{
    size_t n = s->n;
    if (s->storage == GALANN_STORAGE_U8) {
        size_t j = 0;
        while (j < n && is_byte(raw[j]))
            j++;
        if (j < n && s->wanted == GALANN_STORAGE_U8)
            return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: field %zu (%g) is not a whole number 0..255, as u8 "
                                    "storage needs", s->name, line, j + 1 + (s->labelled ? 1 : 0), raw[j]);
        if (j < n) {
            int status = widen_to_f64(s, i);
            if (status != GALANN_OK)
                return status;
        } else {
            uint8_t *row = (uint8_t *)s->features + i * n;
            for (j = 0; j < n; j++)
                row[j] = (uint8_t)raw[j];
        }
    }
    if (s->storage != GALANN_STORAGE_U8) {
        for (size_t j = 0; j < n; j++) {
            double v = raw[j] / s->divisor;
            if (!isfinite(v))
                return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: field %zu is out of range once divided by %g",
                                        s->name, line, j + 1 + (s->labelled ? 1 : 0), s->divisor);
            if (s->storage == GALANN_STORAGE_F64)
                ((double *)s->features)[i * n + j] = v;
            else
                ((float *)s->features)[i * n + j] = (float)v;
        }
    }
    s->y[i] = label;
    if (label > s->max_label)
        s->max_label = label;
    return GALANN_OK;
}

int galann_csv_sink_finish(csv_sink *s, galann_dataset **out)
{
    int status = galann_dataset_adopt_stored(s->storage, s->features, s->divisor, s->y, s->m, s->n,
                                             (size_t)s->max_label + 1, out);
    s->features = NULL;
    s->y = NULL;
    return status;
}

void galann_csv_sink_abandon(csv_sink *s)
{
    free(s->features);
    free(s->y);
    s->features = NULL;
    s->y = NULL;
}
