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
    int storage;           /* a galann_storage, AUTO included */
} csv_layout;

/* The layout of galann_dataset_load_csv: labelled, no header, /255. */
csv_layout galann_csv_default_layout(void);

/* Check opts (NULL = defaults) and turn them into a layout; a header of
 * -1 (detect) is decided from the first line's text, [line, end). */
int galann_csv_layout_of(const char *who, const galann_csv_options *opts, const char *line, const char *end,
                         csv_layout *out);

/* Parse one line ("label,f1,...,fn", or "f1,...,fn" when not labelled)
 * at c->p into row (the values as written: the sink divides) and *label,
 * and step past its line end. GALANN_OK or GALANN_ERR_PARSE with
 * "name:line: ..." set. */
int galann_csv_parse_row(csv_cursor *c, const csv_layout *l, size_t n, double *row, int32_t *label);

/* Where parsed rows go (csv_sink.c): m rows of n features in the layout's
 * storage type; AUTO keeps u8 while every value is a byte, else f64. */
typedef struct csv_sink {
    int wanted;            /* the layout's storage */
    int storage;           /* what features holds now */
    double divisor;
    double u8_values[256];
    size_t m, n;
    int labelled;          /* for field numbers in messages */
    const char *name;
    void *features;
    int32_t *y;
    int32_t max_label;
} csv_sink;

int galann_csv_sink_open(csv_sink *s, const csv_layout *l, size_t m, size_t n, const char *name);
/* Store row i (raw values, line for messages). */
int galann_csv_sink_store(csv_sink *s, size_t i, const double *raw, int32_t label, size_t line);
/* The dataset (n_labels one more than the largest label); the sink is
 * empty afterwards, also on failure. */
int galann_csv_sink_finish(csv_sink *s, galann_dataset **out);
void galann_csv_sink_abandon(csv_sink *s);

/* Bytes read per step by galann_dataset_load_csv. */
#define GALANN_CSV_CHUNK_BYTES ((size_t)4 << 20)

/* galann_dataset_load_csv with the chunk size as a parameter (tests use
 * tiny chunks to put every line boundary at a chunk boundary). */
int galann_csv_load_file(const char *path, double divisor, size_t chunk_bytes, galann_dataset **out);
int galann_csv_load_file_laid_out(const char *path, const galann_csv_options *opts, size_t chunk_bytes,
                                  galann_dataset **out);

#endif /* GALANN_CSV_H */
