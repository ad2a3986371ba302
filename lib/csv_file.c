/*
 * csv_file.c -- reading a CSV file in chunks.
 *
 * Two passes over the file: the first counts the lines and the first
 * line's fields, so the dataset is allocated once at its final size; the
 * second parses complete lines chunk by chunk. Peak memory is the dataset
 * plus one chunk (4 MiB), not the dataset plus the whole text, and the
 * result, statuses and messages are exactly those of
 * galann_dataset_parse_csv on the same bytes (tests/test-csv-file.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "dataset.h"
#include "error.h"
#include "model.h"

typedef struct chunk_reader {
    FILE *f;
    const char *path;
    size_t chunk;   /* bytes per read */
    char *buf;
    size_t cap;     /* bytes allocated */
    size_t len;     /* unparsed bytes at buf[0..len) */
    int eof;
} chunk_reader;

typedef struct file_shape {
    size_t bytes;   /* file length */
    size_t lines;   /* rows, counting an unterminated last line */
    size_t fields;  /* fields of the first line */
} file_shape;

static int read_failed(const chunk_reader *r)
{
    return galann_error_set(GALANN_ERR_IO, "%s: read failed: %s", r->path, strerror(errno));
}

/* Append up to one chunk to the buffer, growing it when a line is longer
 * than what it holds. */
static int read_chunk(chunk_reader *r)
{
    if (r->cap - r->len < r->chunk) {
        size_t cap = r->cap ? r->cap : r->chunk;
        while (cap - r->len < r->chunk)
            cap *= 2;
        char *bigger = realloc(r->buf, cap);
        if (!bigger)
            return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a line of %zu bytes", r->path, r->len);
        r->buf = bigger;
        r->cap = cap;
    }
    size_t got = fread(r->buf + r->len, 1, r->chunk, r->f);
    r->len += got;
    if (got < r->chunk) {
        if (ferror(r->f))
            return read_failed(r);
        r->eof = 1;
    }
    return GALANN_OK;
}

/* Pass 1: length, line count and the first line's field count. */
static int measure(chunk_reader *r, file_shape *shape)
{
    memset(shape, 0, sizeof *shape);
    shape->fields = 1;
    int in_first_line = 1;
    char last = '\n';
    while (!r->eof) {
        r->len = 0;
        int status = read_chunk(r);
        if (status != GALANN_OK)
            return status;
        const char *p = r->buf, *end = r->buf + r->len;
        for (; in_first_line && p < end; p++) {
            if (*p == ',')
                shape->fields++;
            else if (*p == '\n') {
                in_first_line = 0;
                shape->lines++;
            }
        }
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break;
            shape->lines++;
            p = nl + 1;
        }
        if (r->len > 0)
            last = r->buf[r->len - 1];
        shape->bytes += r->len;
    }
    if (last != '\n')
        shape->lines++;
    return GALANN_OK;
}

/* One past the last '\n' in buf[0..len), or 0 without one. */
static size_t complete_lines(const char *buf, size_t len)
{
    while (len > 0 && buf[len - 1] != '\n')
        len--;
    return len;
}

/* Pass 2: parse every row into x and y; with x NULL, parse into a scratch
 * row only (to find the faulty line of a malformed file). */
static int parse_rows(chunk_reader *r, const file_shape *shape, double divisor, double *x, int32_t *y)
{
    size_t n = shape->fields - 1, rows = 0, line = 1;
    double *scratch = x ? NULL : malloc(n * sizeof *scratch);
    int32_t scratch_label;
    if (!x && !scratch)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a row of %zu features", r->path, n);
    int status = GALANN_OK;
    r->len = 0;
    r->eof = 0;
    while (status == GALANN_OK) {
        status = read_chunk(r);
        if (status != GALANN_OK)
            break;
        size_t complete = r->eof ? r->len : complete_lines(r->buf, r->len);
        csv_cursor c = { r->buf, r->buf + complete, r->path, line };
        while (status == GALANN_OK && c.p < c.end) {
            if (rows == shape->lines) {
                status = galann_error_set(GALANN_ERR_IO, "%s: the file grew while it was read", r->path);
                break;
            }
            status = galann_csv_parse_row(&c, divisor, n, x ? x + rows * n : scratch, x ? &y[rows] : &scratch_label);
            rows++;
        }
        line = c.line;
        memmove(r->buf, r->buf + complete, r->len - complete);
        r->len -= complete;
        if (r->eof)
            break;
    }
    if (status == GALANN_OK && rows != shape->lines)
        status = galann_error_set(GALANN_ERR_IO, "%s: the file changed while it was read", r->path);
    if (status == GALANN_OK && !x) /* cannot happen: the file is too short for its rows */
        status = galann_error_set(GALANN_ERR_PARSE, "%s: malformed CSV", r->path);
    free(scratch);
    return status;
}

static int open_regular_file(chunk_reader *r)
{
    r->f = fopen(r->path, "rb");
    if (!r->f)
        return galann_error_set(GALANN_ERR_IO, "%s: cannot open: %s", r->path, strerror(errno));
    struct stat st;
    if (fstat(fileno(r->f), &st) == 0 && !S_ISREG(st.st_mode))
        return galann_error_set(GALANN_ERR_IO, "%s: not a regular file", r->path);
    return GALANN_OK;
}

int galann_csv_load_file(const char *path, double divisor, size_t chunk_bytes, galann_dataset **out)
{
    chunk_reader r = { NULL, path, chunk_bytes ? chunk_bytes : GALANN_CSV_CHUNK_BYTES, NULL, 0, 0, 0 };
    file_shape shape;
    double *x = NULL;
    int32_t *y = NULL;
    int status = open_regular_file(&r);
    if (status == GALANN_OK)
        status = measure(&r, &shape);
    if (status != GALANN_OK)
        goto done;
    if (shape.bytes == 0) {
        status = galann_error_set(GALANN_ERR_PARSE, "%s:1: the file is empty", path);
        goto done;
    }
    if (shape.fields < 2) {
        status = galann_error_set(GALANN_ERR_PARSE, "%s:1: expected a label and at least one feature, found 1 field",
                                  path);
        goto done;
    }
    size_t m = shape.lines, n = shape.fields - 1;
    if (fseek(r.f, 0, SEEK_SET) != 0) {
        status = read_failed(&r);
        goto done;
    }
    /* Every field takes at least two bytes: a file too short for its rows
     * is malformed, and parsing without storing finds where. */
    if (m > (shape.bytes + 1) / 2 / (n + 1)) {
        status = parse_rows(&r, &shape, divisor, NULL, NULL);
        goto done;
    }
    x = malloc(m * n * sizeof *x);
    y = malloc(m * sizeof *y);
    if (!x || !y) {
        status = galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %zu x %zu features", path, m, n);
        goto done;
    }
    status = parse_rows(&r, &shape, divisor, x, y);
    if (status != GALANN_OK)
        goto done;
    int32_t max_label = 0;
    for (size_t i = 0; i < m; i++) {
        if (y[i] > max_label)
            max_label = y[i];
    }
    status = galann_dataset_adopt(x, y, m, n, (size_t)max_label + 1, out);
    x = NULL;
    y = NULL;

done:
    free(x);
    free(y);
    free(r.buf);
    if (r.f)
        fclose(r.f);
    return status;
}

GALANN_API int galann_dataset_load_csv(const char *path, galann_dataset **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_load_csv: out is NULL");
    *out = NULL;
    if (!path)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_load_csv: path is NULL");
    /* The original: x = p / 255.0 */
    return galann_csv_load_file(path, GALANN_DEFAULT_INPUT_DIVISOR, GALANN_CSV_CHUNK_BYTES, out);
}
