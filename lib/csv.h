/*
 * csv.h -- the CSV row parser shared by the in-memory reader (csv.c) and
 * the chunked file reader (csv_file.c).
 */
#ifndef GALANN_CSV_H
#define GALANN_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "galann.h"

typedef struct csv_cursor {
    const char *p;      /* next character */
    const char *end;    /* one past the text (or the chunk) */
    const char *name;   /* for messages */
    size_t line;        /* 1-based line of p */
} csv_cursor;

/* Parse one line "label,f1,...,fn" at c->p into row (divided by divisor)
 * and *label, and step past its line end. GALANN_OK or GALANN_ERR_PARSE
 * with "name:line: ..." set. */
int galann_csv_parse_row(csv_cursor *c, double divisor, size_t n, double *row, int32_t *label);

/* Bytes read per step by galann_dataset_load_csv. */
#define GALANN_CSV_CHUNK_BYTES ((size_t)4 << 20)

/* galann_dataset_load_csv with the chunk size as a parameter (tests use
 * tiny chunks to put every line boundary at a chunk boundary). */
int galann_csv_load_file(const char *path, double divisor, size_t chunk_bytes, galann_dataset **out);

#endif /* GALANN_CSV_H */
