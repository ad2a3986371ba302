/*
 * model_io.c -- the binary model format (docs/model-format.md): saving
 * atomically, loading with every field validated.
 *
 * Layout, all little-endian, fixed width:
 *   magic "\x89GALANN\n" (8) | version u32 = 1 | flags u32 |
 *   n_layers u64 | n_layers x size u64 | input divisor f64 |
 *   n_params u64 | [class names section, when flags bit 0] |
 *   n_params x weight f64 | CRC-32 of all before, u32.
 * The class names section: its length u32, then per output class a
 * length u16 and that many bytes. A model without names has flags 0 and
 * is byte for byte what the first release wrote.
 * Loading never trusts a size before checking it against the bytes that
 * are really there, so a corrupt file cannot make it read out of bounds or
 * allocate absurd amounts; a file is read only when it is a regular file,
 * and never beyond what its header describes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "error.h"
#include "atomic_file.h"

static const unsigned char MODEL_MAGIC[8] = { 0x89, 'G', 'A', 'L', 'A', 'N', 'N', '\n' };
#define MODEL_FORMAT_VERSION 1u
/* Deeper networks than this are not models anyone trains with this
 * library; refusing them bounds what a corrupt header can ask for. */
#define MODEL_MAX_LAYERS 1024u
#define MODEL_MAX_LAYER_SIZE 0x7fffffffull
/* flags: the class names section follows n_params */
#define MODEL_FLAG_CLASS_NAMES 0x1u
/* more than any set of valid names can take: 2^31 - 1 classes is not a
 * concern, a corrupt length is */
#define MODEL_MAX_NAMES_BYTES ((uint32_t)1 << 24)

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit: models
 * are small, and a table would be state to build or to carry. */
static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_u64(p, v);
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static double get_f64(const unsigned char *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* Bytes of the class names section after its length word; 0 without names. */
static size_t names_bytes(const galann_model *m)
{
    size_t bytes = 0;
    for (size_t i = 0; m->class_names && i < galann_model_outputs(m); i++)
        bytes += 2 + strlen(m->class_names[i]);
    return bytes;
}

static size_t serialized_size(const galann_model *m)
{
    size_t names = m->class_names ? 4 + names_bytes(m) : 0;
    return 8 + 4 + 4 + 8 + 8 * m->n_layers + 8 + 8 + names + 8 * m->n_params + 4;
}

GALANN_API int galann_model_save_buffer(const galann_model *m, void **buf, size_t *size)
{
    galann_error_clear();
    if (!m || !buf || !size)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_save_buffer: NULL argument");
    *buf = NULL;
    *size = 0;
    /* never write a file that loading would refuse */
    if (m->n_layers > MODEL_MAX_LAYERS)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_save: %zu layers do not fit the model format "
                                "(at most %u)", m->n_layers, MODEL_MAX_LAYERS);
    for (size_t l = 0; l < m->n_layers; l++) {
        if (m->sizes[l] > MODEL_MAX_LAYER_SIZE)
            return galann_error_set(GALANN_ERR_INVALID, "galann_model_save: layer %zu has %zu units, the model "
                                    "format holds at most %llu", l, m->sizes[l], MODEL_MAX_LAYER_SIZE);
    }
    if (m->class_names && names_bytes(m) > MODEL_MAX_NAMES_BYTES)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_save: the class names take %zu bytes, the model "
                                "format holds at most %u", names_bytes(m), (unsigned)MODEL_MAX_NAMES_BYTES);
    size_t total = serialized_size(m);
    unsigned char *out = malloc(total), *p = out;
    if (!out)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_model_save_buffer: out of memory for %zu bytes", total);
    memcpy(p, MODEL_MAGIC, 8);
    p += 8;
    put_u32(p, MODEL_FORMAT_VERSION);
    p += 4;
    put_u32(p, m->class_names ? MODEL_FLAG_CLASS_NAMES : 0);
    p += 4;
    put_u64(p, m->n_layers);
    p += 8;
    for (size_t l = 0; l < m->n_layers; l++, p += 8)
        put_u64(p, m->sizes[l]);
    put_f64(p, m->input_divisor);
    p += 8;
    put_u64(p, m->n_params);
    p += 8;
    if (m->class_names) {
        put_u32(p, (uint32_t)names_bytes(m));
        p += 4;
        for (size_t i = 0; i < galann_model_outputs(m); i++) {
            size_t length = strlen(m->class_names[i]);
            p[0] = (unsigned char)(length & 0xff);
            p[1] = (unsigned char)(length >> 8);
            memcpy(p + 2, m->class_names[i], length);
            p += 2 + length;
        }
    }
    for (size_t i = 0; i < m->n_params; i++, p += 8)
        put_f64(p, m->theta[i]);
    put_u32(p, crc32_update(0, out, (size_t)(p - out)));
    *buf = out;
    *size = total;
    return GALANN_OK;
}

/* A reader over the buffer that refuses to run past its end. */
typedef struct reader {
    const unsigned char *p;
    size_t left;
} reader;

static int need(reader *r, size_t n, const char *what)
{
    if (r->left < n)
        return galann_error_set(GALANN_ERR_FORMAT, "model is truncated: %s needs %zu more bytes, %zu remain", what, n,
                                r->left);
    return GALANN_OK;
}

static void advance(reader *r, size_t n)
{
    r->p += n;
    r->left -= n;
}

static int read_header(reader *r, size_t *n_layers, uint32_t *flags_out)
{
    int status = need(r, 24, "the header");
    if (status != GALANN_OK)
        return status;
    if (memcmp(r->p, MODEL_MAGIC, 8) != 0)
        return galann_error_set(GALANN_ERR_FORMAT, "not a libgalann model (bad magic bytes)");
    uint32_t version = get_u32(r->p + 8), flags = get_u32(r->p + 12);
    uint64_t layers = get_u64(r->p + 16);
    if (version != MODEL_FORMAT_VERSION)
        return galann_error_set(GALANN_ERR_FORMAT, "model format version %u is not supported (this library reads %u)",
                                version, MODEL_FORMAT_VERSION);
    if (flags & ~MODEL_FLAG_CLASS_NAMES)
        return galann_error_set(GALANN_ERR_FORMAT, "model flags 0x%x are not supported", flags);
    if (layers < 2 || layers > MODEL_MAX_LAYERS)
        return galann_error_set(GALANN_ERR_FORMAT, "model has %llu layers (expected 2..%u)",
                                (unsigned long long)layers, MODEL_MAX_LAYERS);
    advance(r, 24);
    *n_layers = (size_t)layers;
    *flags_out = flags;
    return GALANN_OK;
}

/* The class names section (its length word first): exactly `classes`
 * names filling exactly the length it declares, each a valid name. */
static int read_class_names(reader *r, size_t classes, char ***out)
{
    int status = need(r, 4, "the class names' length");
    if (status != GALANN_OK)
        return status;
    uint32_t bytes = get_u32(r->p);
    advance(r, 4);
    if (bytes > MODEL_MAX_NAMES_BYTES)
        return galann_error_set(GALANN_ERR_FORMAT, "model class names take %u bytes (at most %u)", bytes,
                                (unsigned)MODEL_MAX_NAMES_BYTES);
    status = need(r, bytes, "the class names");
    if (status != GALANN_OK)
        return status;
    if (classes > bytes / 3)
        return galann_error_set(GALANN_ERR_FORMAT, "model class names: %u bytes cannot hold %zu names", bytes,
                                classes);
    const char **names = malloc(classes * sizeof *names);
    size_t *lengths = malloc(classes * sizeof *lengths);
    if (!names || !lengths) {
        free(names);
        free(lengths);
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for %zu class names", classes);
    }
    size_t at = 0;
    for (size_t i = 0; i < classes && status == GALANN_OK; i++) {
        if (bytes - at < 2) {
            status = galann_error_set(GALANN_ERR_FORMAT, "model class names end inside name %zu", i);
            break;
        }
        lengths[i] = (size_t)r->p[at] | (size_t)r->p[at + 1] << 8;
        names[i] = (const char *)r->p + at + 2;
        if (lengths[i] > bytes - at - 2)
            status = galann_error_set(GALANN_ERR_FORMAT, "model class name %zu runs past its section", i);
        at += 2 + (lengths[i] <= bytes - at - 2 ? lengths[i] : 0);
    }
    if (status == GALANN_OK && at != bytes)
        status = galann_error_set(GALANN_ERR_FORMAT, "model class names: %zu bytes left over in their section",
                                  (size_t)bytes - at);
    if (status == GALANN_OK) {
        status = galann_class_names_copy("model", names, lengths, classes, out);
        if (status == GALANN_ERR_INVALID) /* a bad name is a bad file */
            status = galann_error_set(GALANN_ERR_FORMAT, "%s", galann_last_error());
    }
    free(names);
    free(lengths);
    if (status == GALANN_OK)
        advance(r, bytes);
    return status;
}

GALANN_API int galann_model_load_buffer(const void *buf, size_t size, galann_model **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_load_buffer: out is NULL");
    *out = NULL;
    if (!buf && size > 0)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_load_buffer: buffer is NULL");

    reader r = { buf, size };
    size_t n_layers = 0;
    uint32_t flags = 0;
    char **class_names = NULL;
    int status = read_header(&r, &n_layers, &flags);
    if (status != GALANN_OK)
        return status;
    status = need(&r, 8 * n_layers + 16, "the layer sizes");
    if (status != GALANN_OK)
        return status;
    size_t sizes[MODEL_MAX_LAYERS];
    for (size_t l = 0; l < n_layers; l++) {
        uint64_t s = get_u64(r.p + 8 * l);
        if (s == 0 || s > MODEL_MAX_LAYER_SIZE)
            return galann_error_set(GALANN_ERR_FORMAT, "model layer %zu has size %llu (expected 1..%llu)", l,
                                    (unsigned long long)s, MODEL_MAX_LAYER_SIZE);
        sizes[l] = (size_t)s;
    }
    advance(&r, 8 * n_layers);
    double divisor = get_f64(r.p);
    uint64_t stored_params = get_u64(r.p + 8);
    advance(&r, 16);
    size_t n_params = galann_count_params(sizes, n_layers);
    if (n_params == 0 || stored_params != n_params)
        return galann_error_set(GALANN_ERR_FORMAT, "model stores %llu parameters, its layer sizes need %zu",
                                (unsigned long long)stored_params, n_params);
    if (!isfinite(divisor) || divisor == 0.0)
        return galann_error_set(GALANN_ERR_FORMAT, "model input divisor %g is not usable", divisor);
    if (n_params > (SIZE_MAX - 4) / 8)
        return galann_error_set(GALANN_ERR_FORMAT, "model parameter count %zu overflows", n_params);
    if (flags & MODEL_FLAG_CLASS_NAMES) {
        status = read_class_names(&r, sizes[n_layers - 1], &class_names);
        if (status != GALANN_OK)
            return status;
    }
    galann_model *m = NULL;
    status = need(&r, 8 * n_params + 4, "the weights and checksum");
    if (status != GALANN_OK)
        goto fail;
    if (r.left != 8 * n_params + 4) {
        status = galann_error_set(GALANN_ERR_FORMAT, "model has %zu unexpected bytes after the checksum",
                                  r.left - (8 * n_params + 4));
        goto fail;
    }
    const unsigned char *weights = r.p;
    uint32_t stored_crc = get_u32(weights + 8 * n_params);
    uint32_t crc = crc32_update(0, buf, size - 4);
    if (crc != stored_crc) {
        status = galann_error_set(GALANN_ERR_FORMAT, "model checksum mismatch (stored %08x, computed %08x): the "
                                  "file is corrupt", stored_crc, crc);
        goto fail;
    }
    status = galann_model_new(sizes, n_layers, &m);
    if (status != GALANN_OK)
        goto fail;
    for (size_t i = 0; i < n_params; i++) {
        m->theta[i] = get_f64(weights + 8 * i);
        if (!isfinite(m->theta[i])) {
            status = galann_error_set(GALANN_ERR_FORMAT, "model weight %zu is not finite", i);
            goto fail;
        }
    }
    m->input_divisor = divisor;
    m->class_names = class_names;
    *out = m;
    return GALANN_OK;

fail:
    galann_model_free(m);
    galann_class_names_free(class_names, sizes[n_layers - 1]);
    return status;
}

GALANN_API void galann_free(void *p)
{
    free(p);
}

GALANN_API int galann_model_save(const galann_model *m, const char *path)
{
    galann_error_clear();
    if (!m || !path)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_save: model or path is NULL");
    void *buf = NULL;
    size_t size = 0;
    int status = galann_model_save_buffer(m, &buf, &size);
    if (status == GALANN_OK)
        status = galann_write_file_atomically(path, buf, size);
    free(buf);
    return status;
}

/* The fixed fields and the largest layer table: the most of a file read
 * before its header says how long the file should be. */
#define MODEL_PREFIX_MAX (24 + 8 * (size_t)MODEL_MAX_LAYERS + 16 + 4)

/* The length of the whole model file whose first got bytes are p, as its
 * header and layer sizes describe it; 0 when those bytes describe no
 * model (galann_model_load_buffer then says why). */
static uint64_t described_size(const unsigned char *p, size_t got)
{
    if (got < 24 || memcmp(p, MODEL_MAGIC, 8) != 0)
        return 0;
    uint64_t layers = get_u64(p + 16);
    if (layers < 2 || layers > MODEL_MAX_LAYERS || got < 24 + 8 * layers)
        return 0;
    size_t sizes[MODEL_MAX_LAYERS];
    for (size_t l = 0; l < layers; l++) {
        uint64_t s = get_u64(p + 24 + 8 * l);
        if (s == 0 || s > MODEL_MAX_LAYER_SIZE)
            return 0;
        sizes[l] = (size_t)s;
    }
    uint64_t fixed = 24 + 8 * layers + 16 + 4;
    if (get_u32(p + 12) & MODEL_FLAG_CLASS_NAMES) {
        /* the section's length word follows n_params */
        if (got < fixed)
            return 0;
        uint32_t names = get_u32(p + fixed - 4);
        if (names > MODEL_MAX_NAMES_BYTES)
            return 0;
        fixed += 4 + (uint64_t)names;
    }
    size_t n_params = galann_count_params(sizes, (size_t)layers);
    if (n_params == 0 || n_params > (UINT64_MAX - fixed) / 8)
        return 0;
    return fixed + 8 * (uint64_t)n_params;
}

/* Read until n bytes or the end of the file; the count, or -1. */
static ssize_t read_fully(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* The file's bytes: the header first, then no more than the header
 * describes (one byte more shows a file that grew meanwhile). A file
 * longer than its header describes is refused before the rest is read. */
static int read_model_file(const char *path, unsigned char **out, size_t *size)
{
    int fd;
    uint64_t file_size;
    int status = galann_open_regular_file(path, &fd, &file_size);
    if (status != GALANN_OK)
        return status;
    unsigned char *buf = malloc(MODEL_PREFIX_MAX);
    ssize_t got = buf ? read_fully(fd, buf, MODEL_PREFIX_MAX) : 0;
    if (!buf) {
        status = galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (got < 0) {
        status = galann_error_set(GALANN_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        goto done;
    }
    *size = (size_t)got;
    uint64_t described = described_size(buf, *size);
    if (described == 0)
        goto done;
    if (file_size > described) {
        status = galann_error_set(GALANN_ERR_FORMAT, "%s: model has %llu unexpected bytes after the checksum "
                                  "(the file has %llu bytes, its header describes %llu)", path,
                                  (unsigned long long)(file_size - described), (unsigned long long)file_size,
                                  (unsigned long long)described);
        goto done;
    }
    if (described <= *size)
        goto done;
    if (described >= SIZE_MAX) {
        status = galann_error_set(GALANN_ERR_NOMEM, "%s: a model of %llu bytes does not fit in memory", path,
                                  (unsigned long long)described);
        goto done;
    }
    unsigned char *bigger = realloc(buf, (size_t)described + 1);
    if (!bigger) {
        status = galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %llu bytes", path,
                                  (unsigned long long)described);
        goto done;
    }
    buf = bigger;
    got = read_fully(fd, buf + *size, (size_t)described + 1 - *size);
    if (got < 0)
        status = galann_error_set(GALANN_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    else
        *size += (size_t)got;

done:
    close(fd);
    if (status != GALANN_OK) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return status;
}

GALANN_API int galann_model_load(const char *path, galann_model **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_load: out is NULL");
    *out = NULL;
    if (!path)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_load: path is NULL");
    unsigned char *buf = NULL;
    size_t size = 0;
    int status = read_model_file(path, &buf, &size);
    if (status == GALANN_OK) {
        status = galann_model_load_buffer(buf, size, out);
        if (status != GALANN_OK) {
            /* name the file in the message the buffer parser wrote */
            char detail[900];
            snprintf(detail, sizeof detail, "%s", galann_last_error());
            galann_error_set(status, "%s: %s", path, detail);
        }
    }
    free(buf);
    return status;
}
