/*
 * data.c -- how the galann program reads its data: a CSV file or standard
 * input ("-"), a header line detected (or --header yes|no), pixels scaled
 * by --scale (a warning when the values look scaled already), rows with
 * or without a label column, and class names (--classes E,S,I).
 *
 * A path ending in .npy is read as numpy's .npy format instead (features,
 * and labels from a second .npy file or the first column); --header does
 * not apply to it, and --scale divides its uint8 pixels only.
 *
 * Every message names the command and the file; notes and warnings go to
 * standard error so that standard output stays the data.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "distributed.h"

/* The first line read to look at it: longer lines are not headers. */
#define FIRST_LINE_MAX ((size_t)1 << 20)

int parse_csv_reading(const cli_args *a, csv_reading *r)
{
    r->scale = 255.0;
    r->header = -1;
    int rc = parse_double_option(a, "scale", &r->scale);
    if (rc != EXIT_OK)
        return rc;
    if (!(r->scale > 0.0) || !isfinite(r->scale))
        return usage_error(a, "--scale must be a positive number (255 for 8-bit pixels, 1 for values already in "
                           "[0, 1])");
    const char *header = arg_value(a, "header");
    if (!header || strcmp(header, "auto") == 0)
        r->header = -1;
    else if (strcmp(header, "yes") == 0)
        r->header = 1;
    else if (strcmp(header, "no") == 0)
        r->header = 0;
    else
        return usage_error(a, "--header '%s' is not auto, yes or no", header);
    return EXIT_OK;
}

/* ------------------------------------------------- the first line */

static int field_is_number(const char *start, const char *stop, double *value)
{
    char text[64];
    size_t len = (size_t)(stop - start);
    if (len == 0 || len >= sizeof text)
        return 0;
    memcpy(text, start, len);
    text[len] = '\0';
    char *end;
    *value = strtod(text, &end);
    return end == text + len;
}

first_line_kind classify_first_line(const char *line, size_t length, size_t *fields)
{
    const char *p = line, *end = line + length;
    if (length > 0 && end[-1] == '\r')
        end--;
    int all_numbers = 1, consecutive = 1;
    double first = 0.0, previous = 0.0;
    *fields = 0;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        double v = 0.0;
        if (!field_is_number(p, stop, &v)) {
            all_numbers = 0;
            consecutive = 0;
        } else if (*fields == 0) {
            first = v;
        } else if (v != previous + 1.0) {
            consecutive = 0;
        }
        previous = v;
        (*fields)++;
        p = stop + 1;
    }
    if (!all_numbers)
        return FIRST_LINE_HEADER;
    if (consecutive && *fields >= 3 && (first == 0.0 || first == 1.0))
        return FIRST_LINE_NUMBERED;
    return FIRST_LINE_DATA;
}

/* Read the first line of a file (at most FIRST_LINE_MAX bytes). */
static int read_first_line(const cli_args *a, const char *path, char **line, size_t *length)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "galann %s: cannot open %s: %s\n", a->command, path, strerror(errno));
        return EXIT_RUNTIME;
    }
    char *buf = malloc(FIRST_LINE_MAX);
    size_t got = buf ? fread(buf, 1, FIRST_LINE_MAX, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "galann %s: cannot read %s\n", a->command, path);
        free(buf);
        return EXIT_RUNTIME;
    }
    char *nl = memchr(buf, '\n', got);
    *line = buf;
    *length = nl ? (size_t)(nl - buf) : got;
    return EXIT_OK;
}

/* Decide the header and the label column from the first line, telling the
 * user what was decided when it was a guess. expected_features 0: rows are
 * labelled; else the rows may be labelled (expected + 1 fields) or pixels
 * only (expected fields). */
static int decide_layout(const cli_args *a, const char *name, const char *first, size_t length,
                         const csv_reading *r, size_t expected_features, galann_csv_options *o)
{
    size_t fields = 0;
    first_line_kind kind = classify_first_line(first, length, &fields);
    o->header = r->header == 1;
    if (r->header == -1 && kind == FIRST_LINE_HEADER) {
        o->header = 1;
        fprintf(stderr, "galann %s: note: %s starts with a header line; skipping it (--header no reads it as "
                "data)\n", a->command, name);
    } else if (r->header == -1 && kind == FIRST_LINE_NUMBERED) {
        fprintf(stderr, "galann %s: warning: the first line of %s looks like column numbers (%.0f fields counting "
                "up); it is read as data (--header yes skips it)\n", a->command, name, (double)fields);
    }
    o->labelled = 1;
    if (expected_features > 0 && fields == expected_features)
        o->labelled = 0;
    return EXIT_OK;
}

/* ------------------------------------------------------- loading */

/* The whole of standard input (or a file) in memory. */
static int read_all(const cli_args *a, const char *path, char **text, size_t *size)
{
    int from_stdin = strcmp(path, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "galann %s: cannot open %s: %s\n", a->command, path, strerror(errno));
        return EXIT_RUNTIME;
    }
    size_t cap = 1 << 20, got;
    char *buf = malloc(cap);
    *size = 0;
    while (buf && (got = fread(buf + *size, 1, cap - *size, f)) > 0) {
        *size += got;
        if (*size == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    int read_failed = ferror(f);
    if (!from_stdin)
        fclose(f);
    if (!buf || read_failed) {
        fprintf(stderr, "galann %s: %s %s\n", a->command, buf ? "cannot read" : "out of memory reading",
                from_stdin ? "<stdin>" : path);
        free(buf);
        return EXIT_RUNTIME;
    }
    *text = buf;
    return EXIT_OK;
}

/* Every value is at most 1 although it is divided by the scale: the
 * values were probably scaled to [0, 1] already, and dividing them again
 * gives garbage. Read a block of rows at a time (never a whole double
 * copy of a large file). */
static void warn_when_already_scaled(const cli_args *a, const char *name, const galann_dataset *d, double scale)
{
    size_t m = galann_dataset_n_samples(d), n = galann_dataset_n_features(d);
    if (scale <= 1.0 || m == 0)
        return;
    double largest = 0.0;
    if (galann_dataset_storage(d) == GALANN_STORAGE_U8) {
        const uint8_t *p = galann_dataset_stored_features(d);
        uint8_t top = 0;
        for (size_t i = 0; i < m * n; i++)
            top = p[i] > top ? p[i] : top;
        largest = top;
    } else {
        size_t rows = 256;
        double *block = malloc(rows * n * sizeof *block);
        for (size_t first = 0; block && first < m; first += rows) {
            size_t count = m - first < rows ? m - first : rows;
            galann_dataset_copy_features(d, first, count, block);
            for (size_t i = 0; i < count * n; i++)
                largest = fmax(largest, block[i] * scale);
        }
        if (!block)
            return;
        free(block);
    }
    if (largest <= 1.0)
        fprintf(stderr, "galann %s: warning: every value in %s is at most %g: it looks scaled to [0, 1] already, "
                "yet it is divided by %g (--scale 1 keeps the values as written)\n", a->command, name, largest,
                scale);
}

/* ------------------------------------------------------ .npy files */

static int is_npy_path(const char *path)
{
    size_t length = strlen(path);
    return length > 4 && strcasecmp(path + length - 4, ".npy") == 0;
}

/* The whole file on every process (mapped, so cheap), then this process's
 * share. Without a labels file, predict (expected_features > 0) takes an
 * array of exactly the model's inputs as pixels only, anything else as
 * label + pixels. */
static int load_npy(const cli_args *a, const char *path, const char *labels, const char *what, const csv_reading *r,
                    size_t expected_features, galann_dataset **out)
{
    if (arg_value(a, "header"))
        fprintf(stderr, "galann %s: note: --header applies to CSV files only; %s is read as .npy\n", a->command, path);
    galann_npy_options o;
    galann_npy_options_init(&o);
    o.divisor = r->scale;
    o.labelled = labels || expected_features == 0;
    int status = galann_dataset_load_npy_with(path, labels, &o, out);
    if (status == GALANN_OK && !o.labelled && galann_dataset_n_features(*out) != expected_features) {
        galann_dataset_free(*out);
        o.labelled = 1;
        status = galann_dataset_load_npy_with(path, NULL, &o, out);
    }
    int rc = distributed_agree(status == GALANN_OK ? EXIT_OK : runtime_error(a, what));
    if (rc == EXIT_OK && arg_value(a, "scale") && galann_dataset_storage(*out) != GALANN_STORAGE_U8)
        fprintf(stderr, "galann %s: note: --scale divides uint8 pixels; the floats of %s are used as stored\n",
                a->command, path);
    return rc == EXIT_OK ? distributed_take_share(a, out) : rc;
}

int check_labels_options(const cli_args *a, const char *const *pairs)
{
    for (; pairs[0]; pairs += 2) {
        const char *data = arg_value(a, pairs[0]), *labels = arg_value(a, pairs[1]);
        if (labels && !data)
            return usage_error(a, "--%s needs --%s", pairs[1], pairs[0]);
        if (labels && !is_npy_path(data))
            return usage_error(a, "--%s is for a .npy --%s: %s holds its labels in its first field", pairs[1],
                               pairs[0], data);
    }
    return EXIT_OK;
}

int load_dataset_labels(const cli_args *a, const char *path, const char *labels, const char *what,
                        const csv_reading *r, size_t expected_features, galann_dataset **out)
{
    if (is_npy_path(path))
        return load_npy(a, path, labels, what, r, expected_features, out);
    return load_dataset(a, path, what, r, expected_features, out);
}

int load_dataset(const cli_args *a, const char *path, const char *what, const csv_reading *r,
                 size_t expected_features, galann_dataset **out)
{
    if (is_npy_path(path))
        return load_npy(a, path, NULL, what, r, expected_features, out);
    int from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : path;
    galann_csv_options o;
    galann_csv_options_init(&o);
    o.divisor = r->scale;
    char *text = NULL, *first = NULL;
    size_t size = 0, first_length = 0;
    int rc = from_stdin ? read_all(a, path, &text, &size) : read_first_line(a, path, &first, &first_length);
    if (rc != EXIT_OK)
        return distributed_agree(rc);
    if (from_stdin) {
        const char *nl = memchr(text, '\n', size);
        first_length = nl ? (size_t)(nl - text) : size;
    }
    rc = decide_layout(a, name, from_stdin ? text : first, first_length, r, expected_features, &o);
    free(first);
    if (rc == EXIT_OK && from_stdin) {
        if (galann_dataset_parse_csv_with(text, size, name, &o, out) != GALANN_OK)
            rc = runtime_error(a, what);
    } else if (rc == EXIT_OK) {
        rc = distributed_load_csv(a, path, what, &o, out);
    }
    free(text);
    if (rc == EXIT_OK)
        warn_when_already_scaled(a, name, *out, r->scale);
    return rc;
}

/* -------------------------------------------------- class labels */

int widen_dataset_labels(const cli_args *a, galann_dataset **d, size_t k)
{
    size_t have = galann_dataset_n_labels(*d);
    if (have == k)
        return EXIT_OK;
    if (have > k) {
        fprintf(stderr, "galann %s: the data has labels up to %zu, the model only %zu classes\n", a->command,
                have - 1, k);
        return EXIT_RUNTIME;
    }
    galann_dataset *wide = NULL;
    if (galann_dataset_with_labels(*d, k, &wide) != GALANN_OK)
        return runtime_error(a, "cannot prepare the data");
    galann_dataset_free(*d);
    *d = wide;
    return EXIT_OK;
}

int parse_class_names(const cli_args *a, class_names *c)
{
    memset(c, 0, sizeof *c);
    const char *text = arg_value(a, "classes");
    if (!text)
        return EXIT_OK;
    size_t length = strlen(text);
    if (length == 0 || length >= sizeof c->text)
        return usage_error(a, "--classes needs names like E,S,I (at most %zu bytes)", sizeof c->text - 1);
    memcpy(c->text, text, length + 1);
    char *p = c->text;
    for (;;) {
        if (c->count == CLASS_NAMES_MAX)
            return usage_error(a, "--classes names more than %d classes", CLASS_NAMES_MAX);
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p == '\0')
            return usage_error(a, "--classes '%s' has an empty name", text);
        for (size_t i = 0; i < c->count; i++) {
            if (strcmp(c->names[i], p) == 0)
                return usage_error(a, "--classes '%s' names class '%s' twice", text, p);
        }
        c->names[c->count++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    return EXIT_OK;
}

void print_class(const galann_model *m, size_t index)
{
    const char *name = galann_model_class_name(m, index);
    if (name)
        fputs(name, stdout);
    else
        printf("%zu", index);
}
