/*
 * npy.c -- numpy's .npy files in and out: a 2-D array of features ('|u1',
 * '<f4' or '<f8') and a 1-D array of integer labels.
 *
 * A features file whose array can be used as stored is mapped read-only
 * and the dataset points into the mapping (dataset.c unmaps it); any other
 * file is read with pread into the dataset's own arrays, a block at a time
 * where values are converted. Every size comes from the file, so each is
 * checked against the file's length before it is used: nothing is
 * allocated beyond what the file's bytes imply. Saving stages the
 * features and the labels file as fsynced temporaries (atomic_file.h),
 * then renames both, features first: any failure before the first rename
 * leaves both old files untouched; only between the two renames can the
 * new features stand beside the old labels.
 *
 * Not here: the dataset's lifetime (dataset.c), CSV (csv*.c). The format
 * is numpy's own description: numpy/lib/format.py, "NPY format".
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "atomic_file.h"
#include "dataset.h"
#include "error.h"
#include "model.h"
#include "npy.h"

/* The file starts with "\x93NUMPY", the major and minor version, and the
 * header's length: 2 bytes little-endian in version 1.0, 4 in 2.0 and 3.0
 * (numpy/lib/format.py). */
static const unsigned char npy_magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
#define NPY_MAGIC_BYTES 6
/* numpy pads the header with spaces and a '\n' so that the data starts at
 * a multiple of 64 (format.py's ARRAY_ALIGN). */
#define NPY_ALIGN 64
/* numpy.load refuses headers over 10000 bytes unless told otherwise
 * (max_header_size); no header of a 2-D array comes near 1 MiB. */
#define NPY_HEADER_MAX ((uint64_t)1 << 20)
/* numpy 2's NPY_MAXDIMS */
#define NPY_DIMS_MAX 64
/* Converting reads take about this many bytes at a time. */
#define NPY_BLOCK_BYTES ((size_t)1 << 20)
/* The CSV readers' label range. */
#define NPY_LABEL_MAX 65535

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* The unsigned value of size (1, 2, 4 or 8) little-endian bytes. */
static uint64_t load_le(const unsigned char *p, size_t size)
{
    uint64_t v = 0;
    for (size_t i = size; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static void store_le(unsigned char *p, uint64_t v, size_t size)
{
    for (size_t i = 0; i < size; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

static double load_f64(const unsigned char *p)
{
    uint64_t bits = load_le(p, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static float load_f32(const unsigned char *p)
{
    uint32_t bits = (uint32_t)load_le(p, 4);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ------------------------------------------------------------ sources */

/* A file being read: an open descriptor, or (fd -1) bytes in memory. */
typedef struct npy_source {
    const char *name;
    int fd;
    const unsigned char *bytes;
    uint64_t size;
} npy_source;

/* Bytes [offset, offset + length) of the source; the caller has checked
 * that the source is that long. */
static int source_read(const npy_source *s, uint64_t offset, void *buf, size_t length)
{
    if (s->fd < 0) {
        if (length > 0)
            memcpy(buf, s->bytes + offset, length);
        return GALANN_OK;
    }
    unsigned char *p = buf;
    while (length > 0) {
        size_t ask = length < ((size_t)1 << 30) ? length : (size_t)1 << 30;
        ssize_t got = pread(s->fd, p, ask, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return galann_error_set(GALANN_ERR_IO, "%s: read failed: %s", s->name, strerror(errno));
        if (got == 0)
            return galann_error_set(GALANN_ERR_IO, "%s: the file changed while it was read (it is no longer %llu "
                                    "bytes long)", s->name, (unsigned long long)s->size);
        p += got;
        offset += (uint64_t)got;
        length -= (size_t)got;
    }
    return GALANN_OK;
}

/* ------------------------------------------------------------ the header */

typedef struct npy_header {
    unsigned major, minor;
    uint64_t data_offset;   /* where the array's bytes start */
    char descr[16];         /* the dtype string, cut short */
    size_t descr_length;    /* its whole length */
    int fortran_order;
    size_t ndim;
    uint64_t shape[NPY_DIMS_MAX];
} npy_header;

/* The header text is a Python dict literal:
 * {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } */
typedef struct cursor {
    const char *p, *start, *end;
    const char *name;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int take(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int malformed(const cursor *c, const char *expected)
{
    return galann_error_set(GALANN_ERR_PARSE, "%s: malformed .npy header: expected %s at byte %zu of the header",
                            c->name, expected, (size_t)(c->p - c->start));
}

/* A quoted string without escapes: its start and length. */
static int take_string(cursor *c, const char **text, size_t *length)
{
    skip_space(c);
    if (c->p == c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    char quote = *c->p;
    const char *start = c->p + 1, *q = start;
    while (q < c->end && *q != quote && *q != '\\' && *q != '\n')
        q++;
    if (q == c->end || *q != quote)
        return 0;
    *text = start;
    *length = (size_t)(q - start);
    c->p = q + 1;
    return 1;
}

static int take_word(cursor *c, const char *word)
{
    skip_space(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    const char *after = c->p + n;
    if (after < c->end && (*after == '_' || (*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                           (*after >= '0' && *after <= '9')))
        return 0;
    c->p = after;
    return 1;
}

/* A whole number, Python 2's 'L' suffix allowed; *overflow when it does
 * not fit 64 bits. */
static int take_count(cursor *c, uint64_t *value, int *overflow)
{
    skip_space(c);
    *value = 0;
    *overflow = 0;
    const char *start = c->p;
    for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
        unsigned digit = (unsigned)(*c->p - '0');
        if (*value > (UINT64_MAX - digit) / 10)
            *overflow = 1;
        else
            *value = *value * 10 + digit;
    }
    if (c->p == start)
        return 0;
    if (c->p < c->end && *c->p == 'L')
        c->p++;
    return 1;
}

static int parse_descr(cursor *c, npy_header *h)
{
    const char *text;
    size_t length;
    skip_space(c);
    if (c->p < c->end && *c->p == '[')
        return galann_error_set(GALANN_ERR_PARSE, "%s: a structured dtype (a list of fields) is not supported: save "
                                "a plain array of numbers", c->name);
    if (!take_string(c, &text, &length))
        return malformed(c, "a dtype string for 'descr'");
    h->descr_length = length;
    size_t keep = length < sizeof h->descr - 1 ? length : sizeof h->descr - 1;
    memcpy(h->descr, text, keep);
    h->descr[keep] = '\0';
    return GALANN_OK;
}

static int parse_fortran_order(cursor *c, npy_header *h)
{
    if (take_word(c, "True"))
        h->fortran_order = 1;
    else if (take_word(c, "False"))
        h->fortran_order = 0;
    else
        return malformed(c, "True or False for 'fortran_order'");
    return GALANN_OK;
}

/* A tuple of whole numbers: (), (5,), (3, 4), (3, 4,). */
static int parse_shape(cursor *c, npy_header *h)
{
    if (!take(c, '('))
        return malformed(c, "a tuple such as (rows, columns) for 'shape'");
    int comma_after_last = 0;
    h->ndim = 0;
    while (!take(c, ')')) {
        uint64_t v;
        int overflow;
        if (h->ndim == NPY_DIMS_MAX)
            return galann_error_set(GALANN_ERR_PARSE, "%s: the shape has more than %d dimensions", c->name,
                                    NPY_DIMS_MAX);
        if (!take_count(c, &v, &overflow))
            return malformed(c, "a dimension (a whole number) or ')'");
        if (overflow)
            return galann_error_set(GALANN_ERR_PARSE, "%s: dimension %zu of the shape is too large (more than 64 "
                                    "bits)", c->name, h->ndim);
        h->shape[h->ndim++] = v;
        comma_after_last = take(c, ',');
        if (!comma_after_last && !take(c, ')'))
            return malformed(c, "',' or ')' in the shape");
        if (!comma_after_last)
            break;
    }
    /* (5) is the number 5, not a tuple */
    if (h->ndim == 1 && !comma_after_last)
        return galann_error_set(GALANN_ERR_PARSE, "%s: malformed .npy header: the shape (%llu) is not a tuple (a "
                                "1-D shape is written (%llu,))", c->name, (unsigned long long)h->shape[0],
                                (unsigned long long)h->shape[0]);
    return GALANN_OK;
}

static int parse_header_text(const char *name, const char *text, size_t length, npy_header *h)
{
    static const char *const keys[] = { "descr", "fortran_order", "shape" };
    cursor c = { text, text, text + length, name };
    int seen[3] = { 0, 0, 0 };
    if (!take(&c, '{'))
        return malformed(&c, "'{'");
    while (!take(&c, '}')) {
        const char *key;
        size_t key_length;
        if (!take_string(&c, &key, &key_length))
            return malformed(&c, "a quoted key or '}'");
        size_t which = 0;
        while (which < 3 && !(strlen(keys[which]) == key_length && memcmp(keys[which], key, key_length) == 0))
            which++;
        if (which == 3)
            return galann_error_set(GALANN_ERR_PARSE, "%s: the header has the key '%.*s': a .npy header has only "
                                    "'descr', 'fortran_order' and 'shape'", name, (int)(key_length > 40 ? 40 : key_length),
                                    key);
        if (seen[which])
            return galann_error_set(GALANN_ERR_PARSE, "%s: the header gives '%s' twice", name, keys[which]);
        seen[which] = 1;
        if (!take(&c, ':'))
            return malformed(&c, "':'");
        int status = which == 0 ? parse_descr(&c, h) : which == 1 ? parse_fortran_order(&c, h) : parse_shape(&c, h);
        if (status != GALANN_OK)
            return status;
        if (!take(&c, ',')) {
            if (!take(&c, '}'))
                return malformed(&c, "',' or '}'");
            break;
        }
    }
    skip_space(&c);
    if (c.p != c.end)
        return malformed(&c, "nothing but spaces after '}'");
    for (size_t i = 0; i < 3; i++) {
        if (!seen[i])
            return galann_error_set(GALANN_ERR_PARSE, "%s: the header lacks '%s'", name, keys[i]);
    }
    return GALANN_OK;
}

/* The preamble and the header of a source. */
static int read_header(const npy_source *s, npy_header *h)
{
    unsigned char pre[12];
    size_t have = s->size < sizeof pre ? (size_t)s->size : sizeof pre;
    memset(h, 0, sizeof *h);
    int status = source_read(s, 0, pre, have);
    if (status != GALANN_OK)
        return status;
    if (have == 0)
        return galann_error_set(GALANN_ERR_PARSE, "%s: the file is empty (not a .npy file)", s->name);
    if (memcmp(pre, npy_magic, have < NPY_MAGIC_BYTES ? have : NPY_MAGIC_BYTES) != 0)
        return galann_error_set(GALANN_ERR_PARSE, "%s: not a .npy file (it does not start with \\x93NUMPY)", s->name);
    if (have < 8)
        return galann_error_set(GALANN_ERR_PARSE, "%s: truncated: %zu bytes, too short for a .npy preamble", s->name,
                                have);
    h->major = pre[6];
    h->minor = pre[7];
    if (h->major < 1 || h->major > 3 || h->minor != 0)
        return galann_error_set(GALANN_ERR_PARSE, "%s: .npy format version %u.%u is not supported (1.0, 2.0 and 3.0 "
                                "are)", s->name, h->major, h->minor);
    size_t length_bytes = h->major == 1 ? 2 : 4, prefix = 8 + length_bytes;
    if (have < prefix)
        return galann_error_set(GALANN_ERR_PARSE, "%s: truncated: %zu bytes, too short for a version %u.0 preamble",
                                s->name, have, h->major);
    uint64_t header_length = load_le(pre + 8, length_bytes);
    if (header_length > s->size - prefix)
        return galann_error_set(GALANN_ERR_PARSE, "%s: the header's length, %llu bytes, runs past the end of the "
                                "file (%llu bytes)", s->name, (unsigned long long)header_length,
                                (unsigned long long)s->size);
    if (header_length > NPY_HEADER_MAX)
        return galann_error_set(GALANN_ERR_PARSE, "%s: the header of %llu bytes is too long (at most 1 MiB)", s->name,
                                (unsigned long long)header_length);
    h->data_offset = prefix + header_length;
    char *text = malloc(header_length ? (size_t)header_length : 1);
    if (!text)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a header of %llu bytes", s->name,
                                (unsigned long long)header_length);
    status = source_read(s, prefix, text, (size_t)header_length);
    if (status == GALANN_OK)
        status = parse_header_text(s->name, text, (size_t)header_length, h);
    free(text);
    return status;
}

/* "(3, 4)", "(5,)", "()"; cut short when very long. */
static const char *shape_text(const npy_header *h, char *buf, size_t size)
{
    size_t at = (size_t)snprintf(buf, size, "(");
    for (size_t i = 0; i < h->ndim && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%llu", i ? ", " : "", (unsigned long long)h->shape[i]);
    if (at < size)
        snprintf(buf + at, size - at, "%s)", h->ndim == 1 ? "," : "");
    return buf;
}

/* ------------------------------------------------------------- dtypes */

typedef struct npy_dtype {
    char kind;    /* 'u', 'i' or 'f' */
    size_t size;  /* bytes */
} npy_dtype;

enum npy_role { NPY_FEATURES, NPY_LABELS };

/* Interpret the header's descr for the role: features '|u1', '<f4',
 * '<f8'; labels the little-endian integers. */
static int parse_dtype(const char *name, const npy_header *h, enum npy_role role, npy_dtype *t)
{
    const char *d = h->descr;
    int shown = (int)strlen(d);
    const char *what = role == NPY_FEATURES ? "features" : "labels";
    const char *use = role == NPY_FEATURES ? "'|u1' (uint8 pixels), '<f4' or '<f8'"
                                           : "an integer type: '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4' or "
                                             "'<u8'";
    char order = 0;
    if (*d == '<' || *d == '>' || *d == '|' || *d == '=')
        order = *d++;
    if (*d == 'O')
        return galann_error_set(GALANN_ERR_PARSE, "%s: object arrays (dtype '%.*s') are not supported: save numbers",
                                name, shown, h->descr);
    /* a kind letter and a size digit, nothing more */
    size_t rest = h->descr_length - (order ? 1 : 0);
    int plain = rest == 2 && (d[0] == 'u' || d[0] == 'i' || d[0] == 'f') &&
                (d[1] == '1' || d[1] == '2' || d[1] == '4' || d[1] == '8');
    t->kind = d[0];
    t->size = plain ? (size_t)(d[1] - '0') : 0;
    if (plain && order == '>' && t->size > 1)
        return galann_error_set(GALANN_ERR_PARSE, "%s: dtype '%.*s' is big-endian: save the %s little-endian (numpy: "
                                "a.astype('<%c%zu'))", name, shown, h->descr, what, t->kind, t->size);
    /* numpy writes '|' for single bytes and '<' or '>' otherwise */
    int ordered = t->size == 1 ? order != '=' : order == '<';
    int wanted = role == NPY_FEATURES ? (t->kind == 'u' && t->size == 1) || (t->kind == 'f' && t->size >= 4)
                                      : t->kind == 'i' || t->kind == 'u';
    if (!plain || !ordered || !wanted)
        return galann_error_set(GALANN_ERR_PARSE, "%s: dtype '%.*s' is not supported for %s: use %s", name, shown,
                                h->descr, what, use);
    return GALANN_OK;
}

/* The array's data bytes (shape times item size), or an error when that
 * overflows or runs past the end of the source. */
static int data_bytes(const npy_source *s, const npy_header *h, size_t item, uint64_t *bytes)
{
    char shape[96];
    uint64_t total = item;
    for (size_t i = 0; i < h->ndim; i++) {
        if (h->shape[i] != 0 && total > UINT64_MAX / h->shape[i])
            return galann_error_set(GALANN_ERR_PARSE, "%s: the shape %s is too large for any file", s->name,
                                    shape_text(h, shape, sizeof shape));
        total *= h->shape[i];
    }
    if (total > s->size - h->data_offset)
        return galann_error_set(GALANN_ERR_PARSE, "%s: truncated: the shape %s of '%s' needs %llu bytes after the "
                                "%llu-byte header, the file has %llu", s->name, shape_text(h, shape, sizeof shape),
                                h->descr, (unsigned long long)total, (unsigned long long)h->data_offset,
                                (unsigned long long)(s->size - h->data_offset));
    *bytes = total;
    return GALANN_OK;
}

/* -------------------------------------------------------------- loading */

typedef struct npy_load {
    galann_npy_options o;
    const npy_source *features, *labels;
    npy_header fh;
    npy_dtype ft;
    size_t m, columns, n;     /* rows, the file's columns, the features */
    int label_column;         /* the labels are column 0 of the features */
    int storage;
    int32_t *y;
    size_t k;
    void *x;                  /* features in memory, or NULL when mapped */
    void *mapping;
    size_t mapping_size;
} npy_load;

static int storage_of(const npy_dtype *t)
{
    return t->kind == 'u' ? GALANN_STORAGE_U8 : t->size == 4 ? GALANN_STORAGE_F32 : GALANN_STORAGE_F64;
}

/* The features file's header: a 2-D C-order array of a features dtype
 * with rows and enough columns, all there. */
static int check_features_header(npy_load *l)
{
    const npy_source *s = l->features;
    char shape[96];
    int status = read_header(s, &l->fh);
    if (status == GALANN_OK && l->fh.fortran_order)
        status = galann_error_set(GALANN_ERR_PARSE, "%s: the array is in Fortran order (fortran_order True): save a "
                                  "C-order array (numpy.ascontiguousarray)", s->name);
    if (status == GALANN_OK)
        status = parse_dtype(s->name, &l->fh, NPY_FEATURES, &l->ft);
    if (status != GALANN_OK)
        return status;
    if (l->fh.ndim != 2)
        return galann_error_set(GALANN_ERR_PARSE, "%s: features must be a 2-D array (rows, columns); the shape is %s",
                                s->name, shape_text(&l->fh, shape, sizeof shape));
    uint64_t bytes;
    status = data_bytes(s, &l->fh, l->ft.size, &bytes);
    if (status != GALANN_OK)
        return status;
    if (l->fh.shape[0] == 0 || l->fh.shape[1] == 0)
        return galann_error_set(GALANN_ERR_PARSE, "%s: the shape %s has no %s", s->name,
                                shape_text(&l->fh, shape, sizeof shape), l->fh.shape[0] == 0 ? "rows" : "columns");
    if (bytes > SIZE_MAX)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: %llu bytes of features do not fit in memory", s->name,
                                (unsigned long long)bytes);
    if (l->label_column && l->fh.shape[1] < 2)
        return galann_error_set(GALANN_ERR_PARSE, "%s: the shape %s holds the labels in column 0 and leaves no "
                                "features (give a labels file, or save the features with the labels)", s->name,
                                shape_text(&l->fh, shape, sizeof shape));
    /* within the file's length, so within memory's too */
    l->m = (size_t)l->fh.shape[0];
    l->columns = (size_t)l->fh.shape[1];
    l->n = l->columns - (l->label_column ? 1 : 0);
    l->storage = storage_of(&l->ft);
    return GALANN_OK;
}

static int label_out_of_range(const char *name, size_t i, const char *value)
{
    return galann_error_set(GALANN_ERR_PARSE, "%s: the label at [%zu] is %s, not a class number in 0..%d", name, i,
                            value, NPY_LABEL_MAX);
}

/* One label of t's type at p: 0..NPY_LABEL_MAX, or an error. */
static int decode_label(const char *name, size_t i, const unsigned char *p, const npy_dtype *t, int32_t *label)
{
    uint64_t bits = load_le(p, t->size);
    char text[32];
    if (t->kind == 'i' && (bits >> (8 * t->size - 1)) & 1) {
        uint64_t mask = t->size == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * t->size)) - 1;
        snprintf(text, sizeof text, "-%llu", (unsigned long long)(((~bits) & mask) + 1));
        return label_out_of_range(name, i, text);
    }
    if (bits > NPY_LABEL_MAX) {
        snprintf(text, sizeof text, "%llu", (unsigned long long)bits);
        return label_out_of_range(name, i, text);
    }
    *label = (int32_t)bits;
    return GALANN_OK;
}

/* The labels file: a 1-D array of m integers 0..NPY_LABEL_MAX. */
static int read_labels_file(npy_load *l)
{
    const npy_source *s = l->labels;
    npy_header h;
    npy_dtype t;
    char shape[96];
    /* fortran_order does not matter: a 1-D array is the same bytes */
    int status = read_header(s, &h);
    if (status == GALANN_OK)
        status = parse_dtype(s->name, &h, NPY_LABELS, &t);
    if (status != GALANN_OK)
        return status;
    if (h.ndim != 1)
        return galann_error_set(GALANN_ERR_PARSE, "%s: labels must be a 1-D array (rows,); the shape is %s (numpy: "
                                "save y.ravel())", s->name, shape_text(&h, shape, sizeof shape));
    uint64_t bytes;
    status = data_bytes(s, &h, t.size, &bytes);
    if (status != GALANN_OK)
        return status;
    if (h.shape[0] != l->m)
        return galann_error_set(GALANN_ERR_PARSE, "%s: %llu labels for the %zu rows of %s", s->name,
                                (unsigned long long)h.shape[0], l->m, l->features->name);
    size_t per_block = NPY_BLOCK_BYTES / t.size;
    unsigned char *block = malloc(per_block * t.size);
    if (!block)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for a block of labels", s->name);
    for (size_t first = 0; status == GALANN_OK && first < l->m; first += per_block) {
        size_t count = l->m - first < per_block ? l->m - first : per_block;
        status = source_read(s, h.data_offset + (uint64_t)first * t.size, block, count * t.size);
        for (size_t i = 0; status == GALANN_OK && i < count; i++)
            status = decode_label(s->name, first + i, block + i * t.size, &t, &l->y[first + i]);
    }
    free(block);
    return status;
}

static int not_finite(const npy_load *l, size_t i, size_t j, double v)
{
    return galann_error_set(GALANN_ERR_PARSE, "%s: the value at [%zu, %zu] is not finite (%g)", l->features->name, i,
                            j, v);
}

/* Every float feature finite (u8 always is). Column numbers are the
 * file's. */
static int check_finite(const npy_load *l, const void *x)
{
    size_t count = l->m * l->n, offset = l->label_column ? 1 : 0;
    if (l->storage == GALANN_STORAGE_F32) {
        const float *f = x;
        for (size_t i = 0; i < count; i++) {
            if (!isfinite(f[i]))
                return not_finite(l, i / l->n, i % l->n + offset, f[i]);
        }
    } else if (l->storage == GALANN_STORAGE_F64) {
        const double *d = x;
        for (size_t i = 0; i < count; i++) {
            if (!isfinite(d[i]))
                return not_finite(l, i / l->n, i % l->n + offset, d[i]);
        }
    }
    return GALANN_OK;
}

/* Reverse the bytes of each value (a big-endian machine reading the
 * little-endian file). */
static void swap_values(unsigned char *p, size_t count, size_t size)
{
    for (size_t i = 0; i < count; i++, p += size) {
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
    }
}

/* Map the features file when its array is the dataset as stored; 0 in
 * *mapped when it cannot be (then it is read). */
static int map_features(npy_load *l, int *mapped)
{
    const npy_source *s = l->features;
    uint64_t end = s->fd >= 0 ? l->fh.data_offset + (uint64_t)l->m * l->columns * l->ft.size : 0;
    *mapped = 0;
    if (s->fd < 0 || !l->o.map || l->label_column || !host_is_little_endian() ||
        l->fh.data_offset % l->ft.size != 0 || end > SIZE_MAX)
        return GALANN_OK;
    void *p = mmap(NULL, (size_t)end, PROT_READ, MAP_PRIVATE, s->fd, 0);
    if (p == MAP_FAILED)
        return galann_error_set(errno == ENOMEM ? GALANN_ERR_NOMEM : GALANN_ERR_IO, "%s: cannot map %llu bytes: %s",
                                s->name, (unsigned long long)end, strerror(errno));
    l->mapping = p;
    l->mapping_size = (size_t)end;
    *mapped = 1;
    return check_finite(l, (unsigned char *)p + l->fh.data_offset);
}

/* Features stored as in the file, read into memory. */
static int read_features(npy_load *l)
{
    size_t bytes = l->m * l->n * l->ft.size;
    l->x = malloc(bytes);
    if (!l->x)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %zu x %zu features", l->features->name,
                                l->m, l->n);
    int status = source_read(l->features, l->fh.data_offset, l->x, bytes);
    if (status == GALANN_OK && !host_is_little_endian())
        swap_values(l->x, l->m * l->n, l->ft.size);
    return status == GALANN_OK ? check_finite(l, l->x) : status;
}

/* Column 0's value in row i as a label: whole, 0..NPY_LABEL_MAX. */
static int column_label(const npy_load *l, size_t i, const unsigned char *p, int32_t *label)
{
    if (l->ft.kind == 'u') {
        *label = *p;
        return GALANN_OK;
    }
    double v = l->ft.size == 4 ? (double)load_f32(p) : load_f64(p);
    if (!(v >= 0.0 && v <= NPY_LABEL_MAX && v == floor(v)))
        return galann_error_set(GALANN_ERR_PARSE, "%s: the label at [%zu, 0] is %g, not a class number in 0..%d "
                                "(the labels are column 0: there is no labels file)", l->features->name, i, v,
                                NPY_LABEL_MAX);
    *label = (int32_t)v;
    return GALANN_OK;
}

/* Labels from column 0, features from the others, a block of rows at a
 * time. */
static int read_label_column(npy_load *l)
{
    size_t item = l->ft.size, row_bytes = l->columns * item, feature_bytes = l->n * item;
    size_t per_block = NPY_BLOCK_BYTES / row_bytes ? NPY_BLOCK_BYTES / row_bytes : 1;
    if (per_block > l->m)
        per_block = l->m;
    l->x = malloc(l->m * feature_bytes);
    unsigned char *block = malloc(per_block * row_bytes);
    if (!l->x || !block) {
        free(block);
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %zu x %zu features", l->features->name,
                                l->m, l->n);
    }
    int status = GALANN_OK;
    unsigned char *x = l->x;
    for (size_t first = 0; status == GALANN_OK && first < l->m; first += per_block) {
        size_t count = l->m - first < per_block ? l->m - first : per_block;
        status = source_read(l->features, l->fh.data_offset + (uint64_t)first * row_bytes, block, count * row_bytes);
        for (size_t i = 0; status == GALANN_OK && i < count; i++) {
            const unsigned char *row = block + i * row_bytes;
            status = column_label(l, first + i, row, &l->y[first + i]);
            memcpy(x + (first + i) * feature_bytes, row + item, feature_bytes);
        }
    }
    free(block);
    if (status == GALANN_OK && !host_is_little_endian())
        swap_values(l->x, l->m * l->n, item);
    return status == GALANN_OK ? check_finite(l, l->x) : status;
}

static int read_options(const char *who, const galann_npy_options *given, galann_npy_options *o)
{
    galann_npy_options_init(o);
    if (given) {
        if (given->struct_size == 0 || given->struct_size > sizeof *o)
            return galann_error_set(GALANN_ERR_INVALID, "%s: options.struct_size %zu is not valid (use "
                                    "galann_npy_options_init)", who, given->struct_size);
        memcpy(o, given, given->struct_size);
    }
    if (!(o->divisor != 0.0) || !isfinite(o->divisor) || !isfinite(255.0 / o->divisor))
        return galann_error_set(GALANN_ERR_INVALID, "%s: divisor %g is not usable", who, o->divisor);
    if (o->labelled != 0 && o->labelled != 1)
        return galann_error_set(GALANN_ERR_INVALID, "%s: labelled must be 0 or 1, got %d", who, o->labelled);
    if (o->map != 0 && o->map != 1)
        return galann_error_set(GALANN_ERR_INVALID, "%s: map must be 0 or 1, got %d", who, o->map);
    return GALANN_OK;
}

/* The whole load, from two sources (labels NULL: none). */
static int load(const npy_source *features, const npy_source *labels, const galann_npy_options *o,
                galann_dataset **out)
{
    npy_load l;
    memset(&l, 0, sizeof l);
    l.o = *o;
    l.features = features;
    l.labels = labels;
    l.label_column = o->labelled && !labels;
    int mapped = 0;
    int status = check_features_header(&l);
    if (status != GALANN_OK)
        return status;
    l.y = calloc(l.m, sizeof *l.y);
    if (!l.y)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %zu labels", features->name, l.m);
    if (labels)
        status = read_labels_file(&l);
    if (status == GALANN_OK && l.label_column)
        status = read_label_column(&l);
    else if (status == GALANN_OK)
        status = map_features(&l, &mapped);
    if (status == GALANN_OK && !mapped && !l.label_column)
        status = read_features(&l);
    if (status != GALANN_OK) {
        if (l.mapping)
            munmap(l.mapping, l.mapping_size);
        free(l.x);
        free(l.y);
        return status;
    }
    l.k = 1;
    for (size_t i = 0; i < l.m; i++)
        l.k = (size_t)l.y[i] + 1 > l.k ? (size_t)l.y[i] + 1 : l.k;
    double divisor = l.storage == GALANN_STORAGE_U8 ? o->divisor : 1.0;
    if (mapped)
        return galann_dataset_adopt_mapped(l.storage, l.mapping, l.mapping_size, (size_t)l.fh.data_offset, divisor,
                                           l.y, l.m, l.n, l.k, out);
    return galann_dataset_adopt_stored(l.storage, l.x, divisor, l.y, l.m, l.n, l.k, out);
}

GALANN_API void galann_npy_options_init_size(galann_npy_options *opts, size_t size)
{
    if (!opts || size < sizeof opts->struct_size)
        return;
    galann_npy_options defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.divisor = GALANN_DEFAULT_INPUT_DIVISOR;
    defaults.labelled = 1;
    defaults.map = 1;
    defaults.struct_size = size < sizeof defaults ? size : sizeof defaults;
    memcpy(opts, &defaults, defaults.struct_size);
}

static int check_arguments(const char *who, const char *features, const char *labels, const galann_npy_options *opts,
                           galann_npy_options *o, galann_dataset **out)
{
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "%s: out is NULL", who);
    *out = NULL;
    if (!features)
        return galann_error_set(GALANN_ERR_INVALID, "%s: the features path is NULL", who);
    int status = read_options(who, opts, o);
    if (status == GALANN_OK && labels && !o->labelled)
        status = galann_error_set(GALANN_ERR_INVALID, "%s: a labels file with options.labelled 0", who);
    return status;
}

static int open_source(const char *path, npy_source *s)
{
    s->name = path;
    s->bytes = NULL;
    return galann_open_regular_file(path, &s->fd, &s->size);
}

GALANN_API int galann_dataset_load_npy_with(const char *features_path, const char *labels_path,
                                            const galann_npy_options *opts, galann_dataset **out)
{
    galann_error_clear();
    galann_npy_options o;
    int status = check_arguments("galann_dataset_load_npy", features_path, labels_path, opts, &o, out);
    if (status != GALANN_OK)
        return status;
    npy_source features = { features_path, -1, NULL, 0 }, labels = { labels_path, -1, NULL, 0 };
    status = open_source(features_path, &features);
    if (status == GALANN_OK && labels_path)
        status = open_source(labels_path, &labels);
    if (status == GALANN_OK)
        status = load(&features, labels_path ? &labels : NULL, &o, out);
    /* a mapping outlives its descriptor */
    if (features.fd >= 0)
        close(features.fd);
    if (labels.fd >= 0)
        close(labels.fd);
    return status;
}

GALANN_API int galann_dataset_load_npy(const char *features_path, const char *labels_path, galann_dataset **out)
{
    return galann_dataset_load_npy_with(features_path, labels_path, NULL, out);
}

int galann_npy_load_memory(const void *features, size_t features_size, const char *features_name,
                           const void *labels, size_t labels_size, const char *labels_name,
                           const galann_npy_options *opts, galann_dataset **out)
{
    galann_error_clear();
    galann_npy_options o;
    int status = check_arguments("galann_npy_load_memory", features_name, labels_name, opts, &o, out);
    if (status != GALANN_OK)
        return status;
    if ((!features && features_size > 0) || (labels_name && !labels && labels_size > 0))
        return galann_error_set(GALANN_ERR_INVALID, "galann_npy_load_memory: bytes are NULL");
    npy_source f = { features_name, -1, features, features_size };
    npy_source l = { labels_name, -1, labels, labels_size };
    return load(&f, labels_name ? &l : NULL, &o, out);
}

/* --------------------------------------------------------------- saving */

/* The preamble and header of an array (numpy's layout: version 1.0 when
 * the header's length fits 16 bits, else 2.0; padded with spaces and a
 * '\n' to a multiple of NPY_ALIGN) into out, which may be NULL to measure;
 * returns its length, the data's offset. */
static size_t build_header(unsigned char *out, const char *descr, const size_t *shape, size_t ndim)
{
    char dict[256];
    int at = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (size_t i = 0; i < ndim; i++)
        at += snprintf(dict + at, sizeof dict - (size_t)at, "%s%zu", i ? ", " : "", shape[i]);
    at += snprintf(dict + at, sizeof dict - (size_t)at, "%s), }", ndim == 1 ? "," : "");
    size_t text = (size_t)at, prefix = 10;
    size_t total = (prefix + text + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    if (total - prefix > 65535) { /* version 2.0's 4-byte length */
        prefix = 12;
        total = (prefix + text + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    }
    if (out) {
        memcpy(out, npy_magic, NPY_MAGIC_BYTES);
        out[6] = prefix == 10 ? 1 : 2;
        out[7] = 0;
        store_le(out + 8, total - prefix, prefix - 8);
        memcpy(out + prefix, dict, text);
        memset(out + prefix + text, ' ', total - prefix - text - 1);
        out[total - 1] = '\n';
    }
    return total;
}

/* One array staged beside path (written and fsynced, not yet renamed):
 * header, then count values made by fill. */
typedef void (*fill_fn)(const galann_dataset *d, unsigned char *data);

static int stage_array(const char *who, const char *path, const char *descr, const size_t *shape, size_t ndim,
                       size_t item, const galann_dataset *d, fill_fn fill, galann_staged_file *staged)
{
    size_t offset = build_header(NULL, descr, shape, ndim), count = 1;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] != 0 && count > SIZE_MAX / shape[i])
            return galann_error_set(GALANN_ERR_NOMEM, "%s: %s would overflow memory", who, path);
        count *= shape[i];
    }
    if (count > (SIZE_MAX - offset) / item)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: %s would overflow memory", who, path);
    unsigned char *file = malloc(offset + count * item);
    if (!file)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for the %zu bytes of %s", who,
                                offset + count * item, path);
    build_header(file, descr, shape, ndim);
    fill(d, file + offset);
    int status = galann_stage_file(staged, path, file, offset + count * item);
    free(file);
    return status;
}

/* The descr a dataset's features are saved as: its own type, except u8
 * with another divisor than 255, saved as its values in '<f8'. */
static const char *features_descr(const galann_dataset *d)
{
    if (d->storage == GALANN_STORAGE_U8 && d->divisor == 255.0)
        return "|u1";
    return d->storage == GALANN_STORAGE_F32 ? "<f4" : "<f8";
}

/* The features as their descr says, the label first when label_column. */
static void fill_features(const galann_dataset *d, unsigned char *data, int label_column)
{
    const char *descr = features_descr(d);
    size_t item = descr[2] == '1' ? 1 : descr[2] == '4' ? 4 : 8, columns = d->n + (label_column ? 1 : 0);
    int as_stored = item == galann_storage_bytes(d->storage);
    if (as_stored && !label_column && host_is_little_endian()) {
        memcpy(data, d->features, d->m * d->n * item);
        return;
    }
    for (size_t i = 0; i < d->m; i++) {
        unsigned char *row = data + i * columns * item;
        if (label_column) {
            if (item == 1)
                row[0] = (unsigned char)d->y[i];
            else if (item == 4) {
                float v = (float)d->y[i];
                uint32_t bits;
                memcpy(&bits, &v, sizeof bits);
                store_le(row, bits, 4);
            } else {
                double v = (double)d->y[i];
                uint64_t bits;
                memcpy(&bits, &v, sizeof bits);
                store_le(row, bits, 8);
            }
            row += item;
        }
        for (size_t j = 0; j < d->n; j++, row += item) {
            size_t at = i * d->n + j;
            if (d->storage == GALANN_STORAGE_U8 && item == 1) {
                row[0] = ((const uint8_t *)d->features)[at];
            } else if (d->storage == GALANN_STORAGE_F32) {
                uint32_t bits;
                memcpy(&bits, (const float *)d->features + at, sizeof bits);
                store_le(row, bits, 4);
            } else {
                double v = d->storage == GALANN_STORAGE_U8 ? d->u8_values[((const uint8_t *)d->features)[at]]
                                                            : ((const double *)d->features)[at];
                uint64_t bits;
                memcpy(&bits, &v, sizeof bits);
                store_le(row, bits, 8);
            }
        }
    }
}

static void fill_features_only(const galann_dataset *d, unsigned char *data) { fill_features(d, data, 0); }
static void fill_features_and_labels(const galann_dataset *d, unsigned char *data) { fill_features(d, data, 1); }

static void fill_labels(const galann_dataset *d, unsigned char *data)
{
    for (size_t i = 0; i < d->m; i++)
        store_le(data + 4 * i, (uint32_t)d->y[i], 4);
}

GALANN_API int galann_dataset_save_npy(const galann_dataset *d, const char *features_path, const char *labels_path)
{
    static const char who[] = "galann_dataset_save_npy";
    galann_error_clear();
    if (!d || !features_path)
        return galann_error_set(GALANN_ERR_INVALID, "%s: dataset or features path is NULL", who);
    if (d->m == 0)
        return galann_error_set(GALANN_ERR_INVALID, "%s: the dataset has no rows (a .npy dataset needs some)", who);
    const char *descr = features_descr(d);
    size_t item = descr[2] == '1' ? 1 : descr[2] == '4' ? 4 : 8;
    if (!labels_path && item == 1) {
        for (size_t i = 0; i < d->m; i++) {
            if (d->y[i] > 255)
                return galann_error_set(GALANN_ERR_INVALID, "%s: label %ld of sample %zu does not fit the '|u1' "
                                        "label column of %s: give a labels path", who, (long)d->y[i], i,
                                        features_path);
        }
    }
    /* Both files are written and fsynced as temporaries before either is
     * renamed: a failure up to then leaves both paths as they were. The
     * renames follow, features then labels; only between the two can a
     * failure (or a crash) leave the new features beside the old labels. */
    size_t shape[2] = { d->m, d->n + (labels_path ? 0 : 1) };
    galann_staged_file staged[2] = { GALANN_STAGED_FILE_NONE, GALANN_STAGED_FILE_NONE };
    size_t files = labels_path ? 2 : 1;
    int status = stage_array(who, features_path, descr, shape, 2, item, d,
                             labels_path ? fill_features_only : fill_features_and_labels, &staged[0]);
    if (status == GALANN_OK && labels_path)
        status = stage_array(who, labels_path, "<i4", shape, 1, 4, d, fill_labels, &staged[1]);
    if (status == GALANN_OK)
        status = galann_commit_staged_files(staged, files);
    galann_staged_file_close(&staged[1]);
    galann_staged_file_close(&staged[0]);
    return status;
}
