/*
 * dataset_split.c -- a stratified, seeded split of a dataset in two (the
 * training rows and a held-out validation set), the same on every machine.
 *
 * Each class is split on its own, so both parts keep the class balance of
 * the whole: of a class's c rows, round(fraction * c) are held out (at
 * least one when the class has two rows or more and fraction > 0, never
 * all of them), chosen by a partial Fisher-Yates shuffle of the class's
 * row numbers driven by MT19937 seeded with the caller's seed. Both parts
 * keep the rows in their original order, every label of the whole and its
 * storage type.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"
#include "dataset.h"
#include "error.h"
#include "rng.h"

/* A uniform integer in [0, bound), bound >= 1, without modulo bias. */
static uint32_t uniform_below(galann_mt19937 *mt, uint32_t bound)
{
    uint32_t limit = UINT32_MAX - UINT32_MAX % bound;
    uint32_t r;
    do
        r = galann_mt_next_u32(mt);
    while (r >= limit);
    return r % bound;
}

static size_t held_out_count(size_t class_rows, double fraction)
{
    size_t held = (size_t)floor(fraction * (double)class_rows + 0.5);
    if (held == 0 && class_rows >= 2)
        held = 1;
    if (held >= class_rows)
        held = class_rows ? class_rows - 1 : 0;
    return held;
}

/* Mark (held[i] = 1) the rows each class gives to the held-out part. */
static int choose_held_out_rows(const galann_dataset *d, double fraction, uint32_t seed, unsigned char *held)
{
    size_t *rows = malloc(d->m * sizeof *rows);
    if (!rows)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_split: out of memory for %zu rows", d->m);
    galann_mt19937 mt;
    galann_mt_seed(&mt, seed);
    for (size_t label = 0; label < d->k; label++) {
        size_t count = 0;
        for (size_t i = 0; i < d->m; i++)
            if ((size_t)d->y[i] == label)
                rows[count++] = i;
        size_t take = held_out_count(count, fraction);
        for (size_t t = 0; t < take; t++) {
            size_t pick = t + uniform_below(&mt, (uint32_t)(count - t));
            size_t chosen = rows[pick];
            rows[pick] = rows[t];
            rows[t] = chosen;
            held[chosen] = 1;
        }
    }
    free(rows);
    return GALANN_OK;
}

/* The rows whose mark equals want, copied in their order, as a dataset
 * with all of d's labels. */
static int gather_rows(const galann_dataset *d, const unsigned char *held, unsigned char want, size_t count,
                       galann_dataset **out)
{
    size_t row_bytes = d->n * galann_storage_bytes(d->storage);
    unsigned char *x = malloc(count * row_bytes);
    int32_t *y = malloc(count * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_split: out of memory for %zu rows", count);
    }
    size_t r = 0;
    for (size_t i = 0; i < d->m; i++) {
        if (held[i] != want)
            continue;
        memcpy(x + r * row_bytes, (const unsigned char *)d->features + i * row_bytes, row_bytes);
        y[r++] = d->y[i];
    }
    return galann_dataset_adopt_stored(d->storage, x, d->divisor, y, count, d->n, d->k, out);
}

GALANN_API int galann_dataset_split(const galann_dataset *d, double fraction, uint32_t seed,
                                    galann_dataset **rest, galann_dataset **held_out)
{
    galann_error_clear();
    if (!d || !rest || !held_out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_split: dataset or output is NULL");
    *rest = NULL;
    *held_out = NULL;
    if (!(fraction > 0.0 && fraction < 1.0))
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_split: fraction must be in (0, 1), got %g",
                                fraction);
    if (d->m > UINT32_MAX)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_split: %zu rows is too many", d->m);

    unsigned char *held = calloc(d->m ? d->m : 1, 1);
    if (!held)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_split: out of memory for %zu rows", d->m);
    int status = choose_held_out_rows(d, fraction, seed, held);
    size_t n_held = 0;
    for (size_t i = 0; i < d->m; i++)
        n_held += held[i];
    if (status == GALANN_OK && (n_held == 0 || n_held == d->m))
        status = galann_error_set(GALANN_ERR_INVALID, "galann_dataset_split: a fraction %g of %zu rows leaves "
                                  "one part empty", fraction, d->m);
    if (status == GALANN_OK)
        status = gather_rows(d, held, 0, d->m - n_held, rest);
    if (status == GALANN_OK)
        status = gather_rows(d, held, 1, n_held, held_out);
    free(held);
    if (status != GALANN_OK) {
        galann_dataset_free(*rest);
        *rest = NULL;
    }
    return status;
}
