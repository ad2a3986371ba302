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

/* How a file's rows are laid out and scaled (galann_csv_options, checked). */
typedef struct csv_layout {
    double divisor;        /* every feature is divided by it */
    int labelled;          /* 1: label,f1,...,fn; 0: f1,...,fn (label 0) */
    size_t header_lines;   /* 0 or 1: lines before the first row, skipped */
} csv_layout;

/* The layout of galann_dataset_load_csv: labelled, no header, /255. */
csv_layout galann_csv_default_layout(void);

/* Check opts (NULL = defaults) and turn them into a layout; a header of
 * -1 (detect) is decided from the first line's text, [line, end). */
int galann_csv_layout_of(const char *who, const galann_csv_options *opts, const char *line, const char *end,
                         csv_layout *out);

/* Parse one line ("label,f1,...,fn", or "f1,...,fn" when not labelled)
 * at c->p into row (divided by the divisor) and *label, and step past its
 * line end. GALANN_OK or GALANN_ERR_PARSE with "name:line: ..." set. */
int galann_csv_parse_row(csv_cursor *c, const csv_layout *l, size_t n, double *row, int32_t *label);

/* Bytes read per step by galann_dataset_load_csv. */
#define GALANN_CSV_CHUNK_BYTES ((size_t)4 << 20)

/* galann_dataset_load_csv with the chunk size as a parameter (tests use
 * tiny chunks to put every line boundary at a chunk boundary). */
int galann_csv_load_file(const char *path, double divisor, size_t chunk_bytes, galann_dataset **out);
int galann_csv_load_file_laid_out(const char *path, const galann_csv_options *opts, size_t chunk_bytes,
                                  galann_dataset **out);

#endif /* GALANN_CSV_H */
