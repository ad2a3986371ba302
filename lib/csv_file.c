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
#include <sys/types.h>
#include <stdint.h>
#include <unistd.h>

#include "atomic_file.h"
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

/* Pass 1: length, the count of rows (the lines after the header, counting
 * an unterminated last one) and the first row's field count. */
static int measure(chunk_reader *r, size_t header_lines, file_shape *shape)
{
    memset(shape, 0, sizeof *shape);
    shape->fields = 1;
    size_t ended = 0; /* lines ended so far */
    char last = '\n';
    while (!r->eof) {
        r->len = 0;
        int status = read_chunk(r);
        if (status != GALANN_OK)
            return status;
        const char *p = r->buf, *end = r->buf + r->len;
        while (p < end) {
            if (ended == header_lines) { /* the first row: count its fields */
                for (; p < end && *p != '\n'; p++)
                    shape->fields += *p == ',';
                if (p < end) {
                    ended++;
                    p++;
                }
                continue;
            }
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break;
            ended++;
            p = nl + 1;
        }
        if (r->len > 0)
            last = r->buf[r->len - 1];
        shape->bytes += r->len;
    }
    if (last != '\n')
        ended++;
    shape->lines = ended > header_lines ? ended - header_lines : 0;
    return GALANN_OK;
}

/* One past the last '\n' in buf[0..len), or 0 without one. */
static size_t complete_lines(const char *buf, size_t len)
{
    while (len > 0 && buf[len - 1] != '\n')
        len--;
    return len;
}

static int skip_lines(chunk_reader *r, uint64_t lines);

/* Pass 2: parse every row into the sink; with sink NULL, parse into a
 * scratch row only (to find the faulty line of a malformed file). */
static int parse_rows(chunk_reader *r, const file_shape *shape, const csv_layout *l, csv_sink *sink)
{
    size_t n = shape->fields - (l->labelled ? 1 : 0), rows = 0, line = 1 + l->header_lines;
    double *row = malloc(n * sizeof *row);
    int32_t label;
    if (!row)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a row of %zu features", r->path, n);
    r->len = 0;
    r->eof = 0;
    int status = skip_lines(r, l->header_lines);
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
            size_t row_line = c.line;
            status = galann_csv_parse_row(&c, l, n, row, &label);
            if (status == GALANN_OK && sink)
                status = galann_csv_sink_store(sink, rows, row, label, row_line);
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
    if (status == GALANN_OK && !sink) /* cannot happen: the file is too short for its rows */
        status = galann_error_set(GALANN_ERR_PARSE, "%s: malformed CSV", r->path);
    free(row);
    return status;
}

/* Only a regular file, checked before anything is read: a FIFO, a device
 * or a directory is refused at once (galann_open_regular_file). */
static int open_regular_file(chunk_reader *r)
{
    int fd;
    uint64_t size;
    int status = galann_open_regular_file(r->path, &fd, &size);
    if (status != GALANN_OK)
        return status;
    r->f = fdopen(fd, "rb");
    if (!r->f) {
        close(fd);
        return galann_error_set(GALANN_ERR_NOMEM, "%s: cannot open: %s", r->path, strerror(errno));
    }
    return GALANN_OK;
}

/* Read the file's first line into the buffer (whole, or as much as there
 * is), for header detection; the caller rewinds. */
static int read_first_line(chunk_reader *r, const char **end)
{
    for (;;) {
        const char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
        if (nl || r->eof) {
            *end = nl ? nl : r->buf + r->len;
            return GALANN_OK;
        }
        int status = read_chunk(r);
        if (status != GALANN_OK)
            return status;
    }
}

int galann_csv_load_file_laid_out(const char *path, const galann_csv_options *opts, size_t chunk_bytes,
                                  galann_dataset **out)
{
    static const char who[] = "galann_dataset_load_csv";
    chunk_reader r = { NULL, path, chunk_bytes ? chunk_bytes : GALANN_CSV_CHUNK_BYTES, NULL, 0, 0, 0 };
    file_shape shape;
    csv_layout l;
    csv_sink sink;
    memset(&sink, 0, sizeof sink);
    const char *first_end = NULL;
    int status = galann_csv_layout_of(who, opts, "", "", &l);
    if (status == GALANN_OK)
        status = open_regular_file(&r);
    if (status == GALANN_OK && opts && opts->header == -1) {
        status = read_first_line(&r, &first_end);
        if (status == GALANN_OK)
            status = galann_csv_layout_of(who, opts, r.buf ? r.buf : "", first_end ? first_end : "", &l);
        if (status == GALANN_OK && fseek(r.f, 0, SEEK_SET) != 0)
            status = read_failed(&r);
        r.len = 0;
        r.eof = 0;
    }
    if (status == GALANN_OK)
        status = measure(&r, l.header_lines, &shape);
    if (status != GALANN_OK)
        goto done;
    if (shape.bytes == 0) {
        status = galann_error_set(GALANN_ERR_PARSE, "%s:1: the file is empty", path);
        goto done;
    }
    if (shape.lines == 0) {
        status = galann_error_set(GALANN_ERR_PARSE, "%s:%zu: no rows after the header", path, l.header_lines + 1);
        goto done;
    }
    if (shape.fields < (l.labelled ? 2u : 1u)) {
        status = galann_error_set(GALANN_ERR_PARSE, "%s:%zu: expected a label and at least one feature, found 1 "
                                  "field", path, l.header_lines + 1);
        goto done;
    }
    size_t m = shape.lines, n = shape.fields - (l.labelled ? 1 : 0);
    if (fseek(r.f, 0, SEEK_SET) != 0) {
        status = read_failed(&r);
        goto done;
    }
    /* Every field takes at least two bytes: a file too short for its rows
     * is malformed, and parsing without storing finds where. */
    if (m > (shape.bytes + 1) / 2 / shape.fields) {
        status = parse_rows(&r, &shape, &l, NULL);
        goto done;
    }
    status = galann_csv_sink_open(&sink, &l, m, n, path);
    if (status == GALANN_OK)
        status = parse_rows(&r, &shape, &l, &sink);
    if (status == GALANN_OK)
        status = galann_csv_sink_finish(&sink, out);

done:
    galann_csv_sink_abandon(&sink);
    free(r.buf);
    if (r.f)
        fclose(r.f);
    return status;
}

int galann_csv_load_file(const char *path, double divisor, size_t chunk_bytes, galann_dataset **out)
{
    galann_csv_options o;
    galann_csv_options_init(&o);
    o.divisor = divisor;
    return galann_csv_load_file_laid_out(path, &o, chunk_bytes, out);
}

/* ---- shares of a file, for data-parallel processes ---- */

GALANN_API int galann_csv_count_rows(const char *path, uint64_t begin, uint64_t end, uint64_t *rows)
{
    galann_error_clear();
    if (!path || !rows)
        return galann_error_set(GALANN_ERR_INVALID, "galann_csv_count_rows: path or rows is NULL");
    *rows = 0;
    chunk_reader r = { NULL, path, GALANN_CSV_CHUNK_BYTES, NULL, 0, 0, 0 };
    int status = open_regular_file(&r);
    if (status != GALANN_OK)
        goto done;
    struct stat st;
    if (fstat(fileno(r.f), &st) != 0) {
        status = read_failed(&r);
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (end > size)
        end = size;
    if (begin >= end)
        goto done;
    /* a row starts at 0 and after every '\n' that is not the file's last
     * byte: count the '\n' at [begin - 1, end - 1) */
    uint64_t from = begin == 0 ? 0 : begin - 1, left = end - 1 - from;
    uint64_t count = begin == 0 ? 1 : 0;
    if (fseeko(r.f, (off_t)from, SEEK_SET) != 0) {
        status = read_failed(&r);
        goto done;
    }
    while (left > 0 && !r.eof) {
        r.len = 0;
        status = read_chunk(&r);
        if (status != GALANN_OK)
            goto done;
        size_t take = r.len < left ? r.len : (size_t)left;
        for (const char *p = r.buf, *stop = r.buf + take; (p = memchr(p, '\n', (size_t)(stop - p))) != NULL; p++)
            count++;
        left -= take;
    }
    *rows = count;

done:
    free(r.buf);
    if (r.f)
        fclose(r.f);
    return status;
}

/* Step r's stream past `lines` line ends (from a line start), keeping what
 * follows the last one at the buffer's start. */
static int skip_lines(chunk_reader *r, uint64_t lines)
{
    while (lines > 0) {
        const char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
        if (nl) {
            size_t used = (size_t)(nl + 1 - r->buf);
            memmove(r->buf, nl + 1, r->len - used);
            r->len -= used;
            lines--;
            continue;
        }
        if (r->eof)
            return galann_error_set(GALANN_ERR_PARSE, "%s: the file has fewer rows than asked for", r->path);
        r->len = 0;
        int status = read_chunk(r);
        if (status != GALANN_OK)
            return status;
    }
    return GALANN_OK;
}

/* Parse count rows from r's stream (starting at a line start, file line
 * first_line) into the sink, n features each. */
static int parse_share(chunk_reader *r, uint64_t first_line, uint64_t count, size_t n, csv_sink *sink)
{
    size_t rows = 0, line = (size_t)first_line;
    const csv_layout layout = galann_csv_default_layout();
    double *row = malloc(n * sizeof *row);
    int32_t label;
    if (!row)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a row of %zu features", r->path, n);
    int status = GALANN_OK;
    while (status == GALANN_OK && rows < count) {
        /* the buffered bytes up to the last complete line; at the end of
         * the file, all of them */
        size_t complete = r->eof ? r->len : complete_lines(r->buf, r->len);
        if (complete == 0 && !r->eof) {
            status = read_chunk(r);
            continue;
        }
        if (complete == 0) {
            status = galann_error_set(GALANN_ERR_PARSE, "%s:%zu: the file has fewer rows than asked for", r->path,
                                      line);
            break;
        }
        csv_cursor c = { r->buf, r->buf + complete, r->path, line };
        while (status == GALANN_OK && c.p < c.end && rows < count) {
            size_t row_line = c.line;
            status = galann_csv_parse_row(&c, &layout, n, row, &label);
            if (status == GALANN_OK)
                status = galann_csv_sink_store(sink, rows, row, label, row_line);
            rows++;
        }
        line = c.line;
        size_t used = (size_t)(c.p - r->buf);
        memmove(r->buf, c.p, r->len - used);
        r->len -= used;
        if (status == GALANN_OK && rows < count && !r->eof)
            status = read_chunk(r);
    }
    free(row);
    return status;
}

/* Fields of the line at the buffer's start (reading until it is whole). */
static int count_fields_ahead(chunk_reader *r, size_t *fields)
{
    for (;;) {
        const char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
        if (nl || r->eof) {
            size_t len = nl ? (size_t)(nl - r->buf) : r->len, commas = 0;
            for (size_t i = 0; i < len; i++)
                commas += r->buf[i] == ',';
            *fields = commas + 1;
            return GALANN_OK;
        }
        int status = read_chunk(r);
        if (status != GALANN_OK)
            return status;
    }
}

GALANN_API int galann_dataset_load_csv_rows(const char *path, uint64_t offset, uint64_t offset_row,
                                            uint64_t first, uint64_t count, galann_dataset **out)
{
    static const char who[] = "galann_dataset_load_csv_rows";
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "%s: out is NULL", who);
    *out = NULL;
    if (!path)
        return galann_error_set(GALANN_ERR_INVALID, "%s: path is NULL", who);
    if (count == 0 || first < offset_row)
        return galann_error_set(GALANN_ERR_INVALID, "%s: rows [%llu, +%llu) do not follow row %llu", who,
                                (unsigned long long)first, (unsigned long long)count,
                                (unsigned long long)offset_row);
    chunk_reader r = { NULL, path, GALANN_CSV_CHUNK_BYTES, NULL, 0, 0, 0 };
    csv_sink sink;
    memset(&sink, 0, sizeof sink);
    const csv_layout layout = galann_csv_default_layout();
    size_t fields = 0;
    int status = open_regular_file(&r);
    if (status != GALANN_OK)
        goto done;
    /* from offset, the first line start at or after it is row offset_row */
    uint64_t skip = first - offset_row;
    if (offset > 0) {
        if (fseeko(r.f, (off_t)(offset - 1), SEEK_SET) != 0) {
            status = read_failed(&r);
            goto done;
        }
        status = read_chunk(&r);
        if (status == GALANN_OK && r.len > 0 && r.buf[0] == '\n')
            memmove(r.buf, r.buf + 1, --r.len);
        else if (status == GALANN_OK)
            skip++;
    }
    if (status == GALANN_OK)
        status = skip_lines(&r, skip);
    if (status == GALANN_OK)
        status = count_fields_ahead(&r, &fields);
    if (status != GALANN_OK)
        goto done;
    if (r.len == 0 && r.eof) {
        status = galann_error_set(GALANN_ERR_PARSE, "%s: the file has fewer rows than asked for", path);
        goto done;
    }
    if (fields < 2) {
        status = galann_error_set(GALANN_ERR_PARSE, "%s:%llu: expected a label and at least one feature, found 1 "
                                  "field", path, (unsigned long long)first + 1);
        goto done;
    }
    size_t n = fields - 1;
    if (count > SIZE_MAX / sizeof(double) / n) {
        status = galann_error_set(GALANN_ERR_NOMEM, "%s: %llu x %zu features overflow memory", path,
                                  (unsigned long long)count, n);
        goto done;
    }
    status = galann_csv_sink_open(&sink, &layout, (size_t)count, n, path);
    if (status == GALANN_OK)
        status = parse_share(&r, first + 1, count, n, &sink);
    if (status == GALANN_OK)
        status = galann_csv_sink_finish(&sink, out);

done:
    galann_csv_sink_abandon(&sink);
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

GALANN_API int galann_dataset_load_csv_with(const char *path, const galann_csv_options *opts, galann_dataset **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_load_csv: out is NULL");
    *out = NULL;
    if (!path)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_load_csv: path is NULL");
    return galann_csv_load_file_laid_out(path, opts, GALANN_CSV_CHUNK_BYTES, out);
}
