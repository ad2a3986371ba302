/*
 * csv.c -- reading datasets from CSV text in memory, fast; writing them.
 *
 * One sample per line: label,f1,...,fn. Lines are counted with memchr, and
 * fields are converted by a fast path for plain integers (the pixel data)
 * with strtod as the fallback for anything else. Every defect is reported
 * as "name:line: ...". Files are read in chunks by csv_file.c, which parses
 * each row with galann_csv_parse_row from here.
 *
 * A header line can be skipped (galann_csv_options.header), and rows can
 * be pixels only, without a label (.labelled = 0).
 *
 * Not for: quoted fields, missing values.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "error.h"
#include "model.h"
#include "atomic_file.h"

/* Labels are class indices; anything above this is a data error, not a
 * class (and keeps n_labels small enough for every backend). */
#define MAX_LABEL 65535
#define MAX_FIELD_TEXT 64

static int is_field_end(const csv_cursor *c, const char *q)
{
    return q == c->end || *q == ',' || *q == '\n' || (*q == '\r' && (q + 1 == c->end || q[1] == '\n'));
}

static const char *field_end(const csv_cursor *c, const char *q)
{
    while (!is_field_end(c, q))
        q++;
    return q;
}

static int report_bad_field(const csv_cursor *c, size_t field, const char *start, const char *stop,
                            const char *what)
{
    int len = (int)(stop - start);
    if (len > 40)
        len = 40;
    if (stop == start)
        return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: field %zu is empty", c->name, c->line, field);
    return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: field %zu %s (\"%.*s\")", c->name, c->line, field, what, len,
                            start);
}

/* Parse one numeric field at c->p; leaves c->p on its terminator. */
static int parse_number(csv_cursor *c, size_t field, double *value)
{
    const char *start = c->p, *q = start;
    /* Fast path: up to 15 decimal digits, exact in a double. */
    unsigned long long v = 0;
    int digits = 0;
    while (q < c->end && *q >= '0' && *q <= '9' && digits < 15) {
        v = v * 10 + (unsigned)(*q - '0');
        q++;
        digits++;
    }
    if (digits > 0 && is_field_end(c, q)) {
        *value = (double)v;
        c->p = q;
        return GALANN_OK;
    }

    /* General path: a decimal or exponent number, nothing else. */
    const char *stop = field_end(c, start);
    size_t len = (size_t)(stop - start);
    for (const char *s = start; s < stop; s++) {
        if (!strchr("0123456789+-.eE", *s))
            return report_bad_field(c, field, start, stop, "is not a number");
    }
    if (len == 0 || len >= MAX_FIELD_TEXT)
        return report_bad_field(c, field, start, stop, len ? "is too long for a number" : "is empty");
    char text[MAX_FIELD_TEXT];
    memcpy(text, start, len);
    text[len] = '\0';
    char *parsed_end;
    errno = 0;
    double x = strtod(text, &parsed_end);
    if (parsed_end != text + len)
        return report_bad_field(c, field, start, stop, "is not a number");
    /* underflow to a subnormal or zero is a number; overflow is not */
    if (!isfinite(x))
        return report_bad_field(c, field, start, stop, "is out of range");
    *value = x;
    c->p = stop;
    return GALANN_OK;
}

static int parse_label(csv_cursor *c, int32_t *label)
{
    const char *start = c->p, *stop = field_end(c, start);
    double v;
    int status = parse_number(c, 1, &v);
    if (status != GALANN_OK)
        return status;
    if (v < 0 || v > MAX_LABEL || v != floor(v))
        return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: label \"%.*s\" is not a class number in 0..%d", c->name,
                                c->line, (int)(stop - start > 40 ? 40 : stop - start), start, MAX_LABEL);
    *label = (int32_t)v;
    return GALANN_OK;
}

static size_t count_fields_of_first_line(const char *p, const char *end)
{
    size_t fields = 1;
    for (; p < end && *p != '\n'; p++) {
        if (*p == ',')
            fields++;
    }
    return fields;
}

/* Lines holding data: every '\n'-terminated line plus an unterminated last one. */
static size_t count_lines(const char *p, const char *end)
{
    size_t lines = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        lines++;
        if (!nl)
            break;
        p = nl + 1;
    }
    return lines;
}

/* Move past the line terminator; the caller has checked the fields. */
static int finish_line(csv_cursor *c, size_t expected_fields)
{
    if (c->p == c->end)
        return GALANN_OK;
    if (*c->p == ',') {
        size_t extra = 1;
        for (const char *q = c->p; q < c->end && *q != '\n'; q++)
            extra += (*q == ',');
        return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: expected %zu fields, found %zu", c->name, c->line,
                                expected_fields, expected_fields + extra - 1);
    }
    if (*c->p == '\r')
        c->p++;
    if (c->p < c->end)
        c->p++; /* '\n' */
    c->line++;
    return GALANN_OK;
}

int galann_csv_parse_row(csv_cursor *c, const csv_layout *l, size_t n, double *row, int32_t *label)
{
    if (c->p == c->end || *c->p == '\n' || *c->p == '\r')
        return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: empty line", c->name, c->line);
    size_t first_feature_field = 1;
    *label = 0;
    if (l->labelled) {
        int status = parse_label(c, label);
        if (status != GALANN_OK)
            return status;
        first_feature_field = 2;
    }
    for (size_t j = 0; j < n; j++) {
        if (j > 0 || l->labelled) {
            if (c->p == c->end || *c->p != ',')
                return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: expected %zu fields, found %zu", c->name, c->line,
                                        n + first_feature_field - 1, j + first_feature_field - 1);
            c->p++;
        }
        double v;
        int status = parse_number(c, j + first_feature_field, &v);
        if (status != GALANN_OK)
            return status;
        row[j] = v;
    }
    return finish_line(c, n + first_feature_field - 1);
}

csv_layout galann_csv_default_layout(void)
{
    csv_layout l = { GALANN_DEFAULT_INPUT_DIVISOR, 1, 0, GALANN_STORAGE_AUTO };
    return l;
}

/* A field is a number when strtod reads all of it (the row parser's
 * grammar is stricter, and will say so with the line number). */
static int field_is_number(const char *start, const char *stop)
{
    size_t len = (size_t)(stop - start);
    if (len == 0 || len >= MAX_FIELD_TEXT)
        return 0;
    char text[MAX_FIELD_TEXT];
    memcpy(text, start, len);
    text[len] = '\0';
    char *end;
    (void)strtod(text, &end);
    return end == text + len;
}

/* A header: a first line with a field that is not a number. */
static int line_is_header(const char *p, const char *end)
{
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    if (eol > p && eol[-1] == '\r')
        eol--;
    while (p <= eol) {
        const char *comma = memchr(p, ',', (size_t)(eol - p));
        const char *stop = comma ? comma : eol;
        if (!field_is_number(p, stop))
            return 1;
        p = stop + 1;
    }
    return 0;
}

GALANN_API void galann_csv_options_init_size(galann_csv_options *opts, size_t size)
{
    if (!opts || size < sizeof opts->struct_size)
        return;
    galann_csv_options defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.divisor = GALANN_DEFAULT_INPUT_DIVISOR;
    defaults.header = 0;
    defaults.labelled = 1;
    defaults.storage = GALANN_STORAGE_AUTO;
    defaults.struct_size = size < sizeof defaults ? size : sizeof defaults;
    memcpy(opts, &defaults, defaults.struct_size);
}

int galann_csv_layout_of(const char *who, const galann_csv_options *given, const char *line, const char *end,
                         csv_layout *out)
{
    galann_csv_options o;
    galann_csv_options_init(&o);
    if (given) {
        if (given->struct_size == 0 || given->struct_size > sizeof o)
            return galann_error_set(GALANN_ERR_INVALID, "%s: options.struct_size %zu is not valid (use "
                                    "galann_csv_options_init)", who, given->struct_size);
        memcpy(&o, given, given->struct_size);
    }
    if (!(o.divisor != 0.0) || !isfinite(o.divisor))
        return galann_error_set(GALANN_ERR_INVALID, "%s: divisor %g is not usable", who, o.divisor);
    if (o.header < -1 || o.header > 1)
        return galann_error_set(GALANN_ERR_INVALID, "%s: header must be -1 (detect), 0 or 1, got %d", who, o.header);
    if (o.labelled != 0 && o.labelled != 1)
        return galann_error_set(GALANN_ERR_INVALID, "%s: labelled must be 0 or 1, got %d", who, o.labelled);
    if (o.storage < GALANN_STORAGE_AUTO || o.storage > GALANN_STORAGE_U8)
        return galann_error_set(GALANN_ERR_INVALID, "%s: storage %d is not a galann_storage", who, o.storage);
    out->divisor = o.divisor;
    out->labelled = o.labelled;
    out->storage = o.storage;
    out->header_lines = o.header == -1 ? (size_t)line_is_header(line, end) : (size_t)o.header;
    return GALANN_OK;
}

/* Parse rows into one scratch row until the first error, and return it. */
static int report_first_bad_row(csv_cursor *c, const csv_layout *l, size_t n, size_t m)
{
    double *row = malloc(n * sizeof *row);
    if (!row)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a row of %zu features", c->name, n);
    int32_t label;
    int status = GALANN_OK;
    for (size_t i = 0; i < m && status == GALANN_OK; i++)
        status = galann_csv_parse_row(c, l, n, row, &label);
    free(row);
    if (status == GALANN_OK) /* cannot happen: the text is too short */
        status = galann_error_set(GALANN_ERR_PARSE, "%s: malformed CSV", c->name);
    return status;
}

/* One past the end of the line at p (its '\n' included), or end. */
static const char *after_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

GALANN_API int galann_dataset_parse_csv_with(const char *text, size_t length, const char *name,
                                             const galann_csv_options *opts, galann_dataset **out)
{
    static const char who[] = "galann_dataset_parse_csv";
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "%s: out is NULL", who);
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (!text && length > 0)
        return galann_error_set(GALANN_ERR_INVALID, "%s: text is NULL", who);
    csv_layout l;
    int status = galann_csv_layout_of(who, opts, text, text + length, &l);
    if (status != GALANN_OK)
        return status;
    if (length == 0)
        return galann_error_set(GALANN_ERR_PARSE, "%s:1: the file is empty", name);

    const char *end = text + length, *first = text;
    for (size_t h = 0; h < l.header_lines; h++)
        first = after_line(first, end);
    if (first == end)
        return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: no rows after the header", name, l.header_lines + 1);
    size_t fields = count_fields_of_first_line(first, end);
    size_t m = count_lines(first, end);
    size_t min_fields = l.labelled ? 2 : 1;
    if (fields < min_fields)
        return galann_error_set(GALANN_ERR_PARSE, "%s:%zu: expected a label and at least one feature, found 1 field",
                                name, l.header_lines + 1);
    size_t n = fields - (l.labelled ? 1 : 0);
    if (n > SIZE_MAX / sizeof(double) / m)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: %zu x %zu features overflow memory", name, m, n);

    csv_cursor c = { first, end, name, 1 + l.header_lines };
    /* Every field takes at least two bytes (a digit and a separator). A
     * text too short for m rows of the first row's width is malformed:
     * find the faulty line with one row of scratch space instead of
     * allocating for rows that cannot be there. */
    if (m > ((size_t)(end - first) + 1) / 2 / fields)
        return report_first_bad_row(&c, &l, n, m);

    csv_sink sink;
    status = galann_csv_sink_open(&sink, &l, m, n, name);
    double *row = status == GALANN_OK ? malloc(n * sizeof *row) : NULL;
    if (status == GALANN_OK && !row)
        status = galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a row of %zu features", name, n);
    for (size_t i = 0; i < m && status == GALANN_OK; i++) {
        size_t line = c.line;
        int32_t label;
        status = galann_csv_parse_row(&c, &l, n, row, &label);
        if (status == GALANN_OK)
            status = galann_csv_sink_store(&sink, i, row, label, line);
    }
    free(row);
    if (status != GALANN_OK) {
        galann_csv_sink_abandon(&sink);
        return status;
    }
    return galann_csv_sink_finish(&sink, out);
}

GALANN_API int galann_dataset_parse_csv(const char *text, size_t length, const char *name, double divisor,
                                        galann_dataset **out)
{
    galann_csv_options o;
    galann_csv_options_init(&o);
    o.divisor = divisor;
    return galann_dataset_parse_csv_with(text, length, name, &o, out);
}

/* Append one value: whole numbers as integers (the pixel data round-trips
 * exactly and compactly), anything else with all 17 significant digits. */
static char *format_value(char *p, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        return p + sprintf(p, "%lld", (long long)v);
    return p + sprintf(p, "%.17g", v);
}

GALANN_API int galann_dataset_save_csv(const galann_dataset *d, const char *path, double multiplier)
{
    galann_error_clear();
    if (!d || !path)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_save_csv: dataset or path is NULL");
    if (!isfinite(multiplier))
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_save_csv: multiplier %g is not finite",
                                multiplier);
    /* at most 25 characters per %.17g field plus the comma */
    size_t per_row = 16 + d->n * 26;
    if (d->m > SIZE_MAX / per_row)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_save_csv: the text would overflow memory");
    char *text = malloc(d->m * per_row + 1), *p = text;
    if (!text)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_save_csv: out of memory");
    double *row = malloc(d->n * sizeof *row);
    if (!row) {
        free(text);
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_save_csv: out of memory");
    }
    galann_data_view view = galann_dataset_view(d);
    for (size_t i = 0; i < d->m; i++) {
        p += sprintf(p, "%d", (int)d->y[i]);
        galann_data_view_rows(&view, i, 1, row);
        for (size_t j = 0; j < d->n; j++) {
            *p++ = ',';
            /* the inverse of the loader's p / 255, rounded back to the
             * integer it came from when it is one */
            double v = row[j] * multiplier;
            double nearest = floor(v + 0.5);
            if (fabs(v - nearest) < 1e-9 * fmax(1.0, fabs(v)))
                v = nearest;
            p = format_value(p, v);
        }
        *p++ = '\n';
    }
    free(row);
    int status = galann_write_file_atomically(path, text, (size_t)(p - text));
    free(text);
    return status;
}
