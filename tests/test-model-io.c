/*
 * test-model-io.c -- the model file format (docs/model-format.md): saving
 * and loading through files and buffers keeps every bit, every defect of a
 * file is refused with GALANN_ERR_FORMAT and a message that names it, and
 * saving is atomic: a save that fails (a missing folder, a directory in
 * the way, a write that fails part way as on a full disk) leaves the old
 * file and no temporary.
 *
 * The checksum is checked against zlib's crc32(), an implementation
 * independent of the library's, and the crafted corruptions recompute it
 * with zlib so that each is refused by the check it targets, not by the
 * checksum.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <zlib.h>

#include "galann.h"
#include "support.h"

/* A non-NULL value no allocation returns: failures must overwrite it. */
#define NOT_SET ((void *)(uintptr_t)0x1)

/* Field offsets of format version 1 (docs/model-format.md). */
#define OFF_VERSION 8
#define OFF_FLAGS 12
#define OFF_LAYERS 16
#define OFF_SIZES 24

/* ------------------------------------------------------------ helpers */

#define expect_message(piece) expect_message_at(piece, __FILE__, __LINE__)

static void expect_message_at(const char *piece, const char *file, int line)
{
    if (!strstr(galann_last_error(), piece)) {
        print_error("message \"%s\" does not contain \"%s\"\n", galann_last_error(), piece);
        _fail(file, line);
    }
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

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* zlib's CRC-32 of every byte before the last four, written there. */
static void reseal(unsigned char *buf, size_t size)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, buf, (uInt)(size - 4));
    put_u32(buf + size - 4, (uint32_t)crc);
}

/* A small 3-2-2 model (14 weights) with weights that exercise the
 * encoding: signed zero, a subnormal, extremes, ordinary values. */
static const size_t small_layers[] = { 3, 2, 2 };
#define SMALL_PARAMS (2 * 4 + 2 * 3)
#define SMALL_BYTES (44 + 8 * 3 + 8 * SMALL_PARAMS)

static const double small_weights[SMALL_PARAMS] = {
    0.0, -0.0, 4.9406564584124654e-324, -2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
    0.1, -0.2, 1.0 / 3.0, -12345.678901234567, 6.02214076e23, 1e-300, -1.0, 0.75,
};

static galann_model *small_model(void)
{
    galann_model *m = NULL;
    expect_status(galann_model_new(small_layers, 3, &m), GALANN_OK);
    expect_status(galann_model_set_params(m, small_weights, SMALL_PARAMS), GALANN_OK);
    expect_status(galann_model_set_input_divisor(m, 65535.0), GALANN_OK);
    return m;
}

/* The small model's bytes, in a buffer the caller frees with free(). */
static unsigned char *small_bytes(size_t *size)
{
    galann_model *m = small_model();
    void *buf = NULL;
    expect_status(galann_model_save_buffer(m, &buf, size), GALANN_OK);
    assert_int_equal(*size, SMALL_BYTES);
    unsigned char *copy = malloc(*size);
    assert_non_null(copy);
    memcpy(copy, buf, *size);
    galann_free(buf);
    galann_model_free(m);
    return copy;
}

static void assert_models_identical(const galann_model *a, const galann_model *b)
{
    assert_int_equal(galann_model_n_layers(a), galann_model_n_layers(b));
    for (size_t l = 0; l < galann_model_n_layers(a); l++)
        assert_int_equal(galann_model_layer_size(a, l), galann_model_layer_size(b, l));
    double da = galann_model_input_divisor(a), db = galann_model_input_divisor(b);
    assert_memory_equal(&da, &db, sizeof da);
    size_t n = galann_model_n_params(a);
    assert_int_equal(galann_model_n_params(b), n);
    double *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    assert_non_null(pa);
    assert_non_null(pb);
    expect_status(galann_model_get_params(a, pa, n), GALANN_OK);
    expect_status(galann_model_get_params(b, pb, n), GALANN_OK);
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&pa[i], &pb[i], sizeof(double)) != 0) {
            print_error("parameter %zu: %.17g (%a) vs %.17g (%a)\n", i, pa[i], pa[i], pb[i], pb[i]);
            free(pa);
            free(pb);
            fail();
        }
    }
    free(pa);
    free(pb);
}

/* Load a buffer that must be refused: FORMAT, a message with piece in it
 * (NULL = any message), and no model. */
#define expect_refused(buf, size, piece) expect_refused_at(buf, size, piece, __FILE__, __LINE__)

static void expect_refused_at(const void *buf, size_t size, const char *piece, const char *file, int line)
{
    galann_model *m = NOT_SET;
    int status = galann_model_load_buffer(buf, size, &m);
    if (status != GALANN_ERR_FORMAT) {
        print_error("load_buffer of %zu bytes: status %d (%s), expected GALANN_ERR_FORMAT; message \"%s\"\n", size,
                    status, galann_strerror(status), galann_last_error());
        if (status == GALANN_OK)
            galann_model_free(m);
        _fail(file, line);
    }
    if (m != NULL) {
        print_error("load_buffer failed but did not set *out to NULL\n");
        _fail(file, line);
    }
    if (galann_last_error()[0] == '\0') {
        print_error("load_buffer of %zu bytes failed without a message\n", size);
        _fail(file, line);
    }
    if (piece)
        expect_message_at(piece, file, line);
}

/* A fresh directory under $TMPDIR or /tmp; the caller removes it. */
static char *make_temp_dir(void)
{
    const char *root = getenv("TMPDIR");
    if (!root || !*root)
        root = "/tmp";
    size_t len = strlen(root) + 32;
    char *dir = malloc(len);
    assert_non_null(dir);
    snprintf(dir, len, "%s/galann-model-io-XXXXXX", root);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    assert_non_null(path);
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    *size = fread(buf, 1, cap, f);
    fclose(f);
    return buf;
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

/* Names in dir that contain ".tmp-" (left-over temporary files). */
static size_t count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t count = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strstr(e->d_name, ".tmp-")) {
            print_message("left behind: %s/%s\n", dir, e->d_name);
            count++;
        }
    }
    closedir(d);
    return count;
}

/* Remove a directory of plain files (and one level of subdirectories). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = join(dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(path, 0700);
            remove_tree(path);
        } else {
            unlink(path);
        }
        free(path);
    }
    closedir(d);
    rmdir(dir);
}

/* --------------------------------------------------------- round trips */

static void buffer_round_trip_keeps_every_bit_and_the_layout(void **state)
{
    (void)state;
    galann_model *m = small_model();
    void *buf = NOT_SET;
    size_t size = 0;
    expect_status(galann_model_save_buffer(m, &buf, &size), GALANN_OK);
    assert_int_equal(size, SMALL_BYTES);
    const unsigned char *b = buf;

    /* the documented layout, field by field */
    static const unsigned char magic[8] = { 0x89, 'G', 'A', 'L', 'A', 'N', 'N', '\n' };
    assert_memory_equal(b, magic, 8);
    assert_int_equal(get_u32(b + OFF_VERSION), 1);
    assert_int_equal(get_u32(b + OFF_FLAGS), 0);
    assert_int_equal(get_u64(b + OFF_LAYERS), 3);
    for (size_t l = 0; l < 3; l++)
        assert_int_equal(get_u64(b + OFF_SIZES + 8 * l), small_layers[l]);
    uint64_t divisor_bits = get_u64(b + OFF_SIZES + 24);
    double divisor;
    memcpy(&divisor, &divisor_bits, sizeof divisor);
    assert_true(divisor == 65535.0);
    assert_int_equal(get_u64(b + OFF_SIZES + 32), SMALL_PARAMS);
    for (size_t i = 0; i < SMALL_PARAMS; i++) {
        uint64_t bits = get_u64(b + OFF_SIZES + 40 + 8 * i), expected;
        memcpy(&expected, &small_weights[i], sizeof expected);
        assert_int_equal(bits, expected);
    }
    /* the checksum is the standard CRC-32 (zlib's) of all bytes before it */
    uLong crc = crc32(crc32(0L, Z_NULL, 0), b, (uInt)(size - 4));
    assert_int_equal(get_u32(b + size - 4), (uint32_t)crc);

    galann_model *back = NOT_SET;
    expect_status(galann_model_load_buffer(buf, size, &back), GALANN_OK);
    assert_models_identical(m, back);
    assert_true(galann_model_input_divisor(back) == 65535.0);
    /* and saved again, the very same bytes */
    void *again = NULL;
    size_t again_size = 0;
    expect_status(galann_model_save_buffer(back, &again, &again_size), GALANN_OK);
    assert_int_equal(again_size, size);
    assert_memory_equal(again, buf, size);

    galann_free(again);
    galann_free(buf);
    galann_model_free(back);
    galann_model_free(m);
}

static void file_round_trip_of_the_galaxy_network_keeps_every_bit(void **state)
{
    (void)state;
    static const size_t galaxy[] = { 1024, 8, 3 };
    galann_model *m = NULL;
    expect_status(galann_model_new(galaxy, 3, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, 917), GALANN_OK);
    assert_true(galann_model_input_divisor(m) == 255.0); /* the default */
    char *dir = make_temp_dir();
    char *path = join(dir, "galaxy.model");
    expect_status(galann_model_save(m, path), GALANN_OK);

    size_t size = 0;
    unsigned char *bytes = read_file(path, &size);
    assert_non_null(bytes);
    assert_int_equal(size, 65884); /* 44 + 8 L + 8 P, as the format page says */
    void *buf = NULL;
    size_t buf_size = 0;
    expect_status(galann_model_save_buffer(m, &buf, &buf_size), GALANN_OK);
    assert_int_equal(buf_size, size);
    assert_memory_equal(bytes, buf, size); /* the file is the buffer */

    galann_model *back = NOT_SET;
    expect_status(galann_model_load(path, &back), GALANN_OK);
    assert_models_identical(m, back);
    assert_int_equal(galann_model_n_params(back), 8227);

    /* a divisor other than the default survives the file too */
    expect_status(galann_model_set_input_divisor(m, 1.0), GALANN_OK);
    expect_status(galann_model_save(m, path), GALANN_OK);
    galann_model *one = NULL;
    expect_status(galann_model_load(path, &one), GALANN_OK);
    assert_true(galann_model_input_divisor(one) == 1.0);
    assert_models_identical(m, one);
    assert_int_equal(count_temp_files(dir), 0);

    galann_model_free(one);
    galann_model_free(back);
    galann_model_free(m);
    galann_free(buf);
    free(bytes);
    free(path);
    remove_tree(dir);
    free(dir);
}

static void deep_network_round_trips(void **state)
{
    (void)state;
    static const size_t deep[] = { 5, 4, 4, 3, 2, 1 };
    galann_model *m = NULL;
    expect_status(galann_model_new(deep, 6, &m), GALANN_OK);
    expect_status(galann_model_init_random(m, 3), GALANN_OK);
    void *buf = NULL;
    size_t size = 0;
    expect_status(galann_model_save_buffer(m, &buf, &size), GALANN_OK);
    assert_int_equal(size, 44 + 8 * 6 + 8 * galann_model_n_params(m));
    galann_model *back = NULL;
    expect_status(galann_model_load_buffer(buf, size, &back), GALANN_OK);
    assert_models_identical(m, back);
    galann_free(buf);
    galann_model_free(back);
    galann_model_free(m);
}

/* ---------------------------------------------------------- corruption */

static void header_defects_are_refused_with_their_reason(void **state)
{
    (void)state;
    size_t size = 0;
    unsigned char *good = small_bytes(&size);
    unsigned char *b = malloc(size + 16);
    assert_non_null(b);

#define RESET() memcpy(b, good, size)

    RESET();
    b[1] = 'g';
    reseal(b, size);
    expect_refused(b, size, "magic");
    RESET();
    b[0] = 0x88;
    expect_refused(b, size, "magic");

    for (uint32_t version = 0; version < 4; version++) {
        if (version == 1)
            continue;
        RESET();
        put_u32(b + OFF_VERSION, version);
        reseal(b, size);
        expect_refused(b, size, "version");
    }
    RESET();
    put_u32(b + OFF_VERSION, 0xffffffffu);
    reseal(b, size);
    expect_refused(b, size, "version");

    static const uint32_t flags[] = { 2, 3, 0x80000000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        RESET();
        put_u32(b + OFF_FLAGS, flags[i]);
        reseal(b, size);
        expect_refused(b, size, "flags");
    }
    /* flag 1 announces a class names section this file does not have */
    RESET();
    put_u32(b + OFF_FLAGS, 1);
    reseal(b, size);
    expect_refused(b, size, "class names");

    static const uint64_t layer_counts[] = { 0, 1, 1025, 1ull << 32, 1ull << 61, UINT64_MAX };
    for (size_t i = 0; i < sizeof layer_counts / sizeof layer_counts[0]; i++) {
        RESET();
        put_u64(b + OFF_LAYERS, layer_counts[i]);
        reseal(b, size);
        expect_refused(b, size, "layers");
    }

    /* each of the three layer sizes, 0 and beyond 2^31 - 1 */
    static const uint64_t bad_sizes[] = { 0, 1ull << 31, 1ull << 32, 1ull << 63, UINT64_MAX };
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
            RESET();
            put_u64(b + OFF_SIZES + 8 * l, bad_sizes[i]);
            reseal(b, size);
            expect_refused(b, size, "size");
        }
    }

    /* the stored parameter count disagrees with the layer sizes */
    static const uint64_t bad_counts[] = { 0, SMALL_PARAMS - 1, SMALL_PARAMS + 1, 1ull << 60, UINT64_MAX };
    for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
        RESET();
        put_u64(b + OFF_SIZES + 32, bad_counts[i]);
        reseal(b, size);
        expect_refused(b, size, "parameters");
    }
    /* a layer size that changes the implied count (3-2-2 -> 3-2-3: 17) */
    RESET();
    put_u64(b + OFF_SIZES + 16, 3);
    reseal(b, size);
    expect_refused(b, size, "parameters");

    /* a hostile header: the largest sizes, whose weights would need far
     * more bytes than there are (or overflow a size_t) */
    for (uint64_t layers = 2; layers <= 5; layers++) {
        unsigned char hostile[128];
        memset(hostile, 0, sizeof hostile);
        memcpy(hostile, good, OFF_LAYERS);
        put_u64(hostile + OFF_LAYERS, layers);
        for (uint64_t l = 0; l < layers; l++)
            put_u64(hostile + OFF_SIZES + 8 * l, 0x7fffffffu);
        size_t at = OFF_SIZES + 8 * layers;
        memcpy(hostile + at, good + OFF_SIZES + 24, 8); /* the divisor */
        /* the count the sizes imply, computed modulo 2^64 as a careless
         * reader would */
        uint64_t p = 0;
        for (uint64_t l = 1; l < layers; l++)
            p += 0x7fffffffull * (0x7fffffffull + 1);
        put_u64(hostile + at + 8, p);
        size_t hostile_size = at + 16 + 8 + 4;
        reseal(hostile, hostile_size);
        expect_refused(hostile, hostile_size, NULL);
    }

    /* unusable input divisors */
    static const double bad_divisors[] = { 0.0, -0.0, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad_divisors / sizeof bad_divisors[0]; i++) {
        RESET();
        uint64_t bits;
        memcpy(&bits, &bad_divisors[i], sizeof bits);
        put_u64(b + OFF_SIZES + 24, bits);
        reseal(b, size);
        expect_refused(b, size, "divisor");
    }

    /* a wrong checksum */
    RESET();
    b[size - 1] ^= 0x01;
    expect_refused(b, size, "checksum");
    RESET();
    b[OFF_SIZES + 40] ^= 0x10; /* a weight, checksum not recomputed */
    expect_refused(b, size, "checksum");

    /* trailing bytes, even with a checksum that covers them */
    RESET();
    b[size] = 0;
    expect_refused(b, size + 1, "unexpected bytes");
    RESET();
    memset(b + size, 0xAB, 16);
    reseal(b, size + 16);
    expect_refused(b, size + 16, "unexpected bytes");

    /* the untouched buffer still loads: the copies above were the defects */
    RESET();
    galann_model *m = NULL;
    expect_status(galann_model_load_buffer(b, size, &m), GALANN_OK);
    galann_model_free(m);
#undef RESET
    free(b);
    free(good);
}

static void every_truncation_is_refused(void **state)
{
    (void)state;
    size_t size = 0;
    unsigned char *good = small_bytes(&size);
    for (size_t prefix = 0; prefix < size; prefix++) {
        /* an exact-size copy, so that a read past the end is caught by ASan */
        unsigned char *b = malloc(prefix ? prefix : 1);
        assert_non_null(b);
        memcpy(b, good, prefix);
        galann_model *m = NOT_SET;
        int status = galann_model_load_buffer(b, prefix, &m);
        if (status != GALANN_ERR_FORMAT || m != NULL || !strstr(galann_last_error(), "truncated")) {
            print_error("prefix of %zu of %zu bytes: status %d, message \"%s\"\n", prefix, size, status,
                        galann_last_error());
            free(b);
            fail();
        }
        free(b);
    }
    /* a NULL buffer of size 0 is an empty model, not an invalid argument */
    expect_refused(NULL, 0, "truncated");
    free(good);
}

static void every_flipped_bit_is_refused(void **state)
{
    (void)state;
    size_t size = 0;
    unsigned char *good = small_bytes(&size);
    unsigned char *b = malloc(size);
    assert_non_null(b);
    for (size_t byte = 0; byte < size; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, good, size);
            b[byte] ^= (unsigned char)(1u << bit);
            galann_model *m = NOT_SET;
            int status = galann_model_load_buffer(b, size, &m);
            if (status != GALANN_ERR_FORMAT || m != NULL || galann_last_error()[0] == '\0') {
                print_error("bit %d of byte %zu flipped: status %d (%s), message \"%s\"\n", bit, byte, status,
                            galann_strerror(status), galann_last_error());
                if (status == GALANN_OK)
                    galann_model_free(m);
                free(b);
                fail();
            }
        }
    }
    free(b);
    free(good);
}

static void non_finite_weight_with_a_valid_checksum_is_refused(void **state)
{
    (void)state;
    size_t size = 0;
    unsigned char *good = small_bytes(&size);
    unsigned char *b = malloc(size);
    assert_non_null(b);
    static const double bad[] = { NAN, -NAN, INFINITY, -INFINITY };
    for (size_t w = 0; w < SMALL_PARAMS; w += SMALL_PARAMS - 1) { /* the first and the last weight */
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memcpy(b, good, size);
            uint64_t bits;
            memcpy(&bits, &bad[i], sizeof bits);
            put_u64(b + OFF_SIZES + 40 + 8 * w, bits);
            reseal(b, size);
            expect_refused(b, size, "not finite");
            char index[32];
            snprintf(index, sizeof index, "weight %zu", w);
            expect_message(index);
        }
    }
    /* a signalling NaN pattern too */
    memcpy(b, good, size);
    put_u64(b + OFF_SIZES + 40, 0x7ff0000000000001ull);
    reseal(b, size);
    expect_refused(b, size, "not finite");
    free(b);
    free(good);
}

/* ----------------------------------------------------------- the files */

static void corrupt_or_missing_files_name_the_path(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char *missing = join(dir, "no-such.model");
    galann_model *m = NOT_SET;
    expect_status(galann_model_load(missing, &m), GALANN_ERR_IO);
    assert_null(m);
    expect_message(missing);

    size_t size = 0;
    unsigned char *good = small_bytes(&size);
    char *corrupt = join(dir, "corrupt.model");
    good[size / 2] ^= 0x04;
    write_file(corrupt, good, size);
    m = NOT_SET;
    expect_status(galann_model_load(corrupt, &m), GALANN_ERR_FORMAT);
    assert_null(m);
    expect_message(corrupt);
    expect_message("checksum");

    write_file(corrupt, good, 10);
    expect_status(galann_model_load(corrupt, &m), GALANN_ERR_FORMAT);
    expect_message(corrupt);
    expect_message("truncated");

    write_file(corrupt, "", 0);
    expect_status(galann_model_load(corrupt, &m), GALANN_ERR_FORMAT);
    expect_message(corrupt);

    /* a directory is not a model: it cannot be read */
    m = NOT_SET;
    expect_status(galann_model_load(dir, &m), GALANN_ERR_IO);
    assert_null(m);
    expect_message(dir);

    free(good);
    free(corrupt);
    free(missing);
    remove_tree(dir);
    free(dir);
}

static void saving_over_a_model_replaces_it_whole(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char *path = join(dir, "model.bin");
    static const size_t big[] = { 40, 30, 3 };
    galann_model *large = NULL, *small = small_model();
    expect_status(galann_model_new(big, 3, &large), GALANN_OK);
    expect_status(galann_model_init_random(large, 1), GALANN_OK);

    /* a larger file first, then a smaller model over it: nothing of the
     * old file may remain */
    expect_status(galann_model_save(large, path), GALANN_OK);
    expect_status(galann_model_save(small, path), GALANN_OK);
    size_t size = 0;
    unsigned char *bytes = read_file(path, &size);
    assert_non_null(bytes);
    void *expected = NULL;
    size_t expected_size = 0;
    expect_status(galann_model_save_buffer(small, &expected, &expected_size), GALANN_OK);
    assert_int_equal(size, expected_size);
    assert_memory_equal(bytes, expected, size);
    galann_model *back = NULL;
    expect_status(galann_model_load(path, &back), GALANN_OK);
    assert_models_identical(small, back);
    galann_model_free(back);
    free(bytes);

    /* and over a file that is not a model at all */
    write_file(path, "not a model\n", 12);
    expect_status(galann_model_save(large, path), GALANN_OK);
    expect_status(galann_model_load(path, &back), GALANN_OK);
    assert_models_identical(large, back);
    galann_model_free(back);
    assert_int_equal(count_temp_files(dir), 0);

    galann_free(expected);
    galann_model_free(small);
    galann_model_free(large);
    free(path);
    remove_tree(dir);
    free(dir);
}

/* The save fails: the status is IO, the existing file (if any) keeps its
 * bytes, no temporary file is left in dir. */
static void expect_failed_save(const galann_model *m, const char *path, const char *dir, const char *existing,
                               const unsigned char *existing_bytes, size_t existing_size)
{
    expect_status(galann_model_save(m, path), GALANN_ERR_IO);
    expect_message(path);
    if (existing) {
        size_t size = 0;
        unsigned char *now = read_file(existing, &size);
        assert_non_null(now);
        assert_int_equal(size, existing_size);
        assert_memory_equal(now, existing_bytes, size);
        free(now);
    }
    assert_int_equal(count_temp_files(dir), 0);
}

/* Save m over path in a child process whose file size limit (RLIMIT_FSIZE,
 * SIGXFSZ ignored) is 100 bytes, less than the model: write() stores part
 * and then fails with EFBIG, as on a full disk, whatever the user's
 * privileges. The save must fail with GALANN_ERR_IO and a message naming
 * the path and the failed write. */
static void save_fails_when_the_file_cannot_grow(const galann_model *m, const char *path)
{
    void *buf = NULL;
    size_t size = 0;
    expect_status(galann_model_save_buffer(m, &buf, &size), GALANN_OK);
    galann_free(buf);
    assert_true(size > 100);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct rlimit limit;
        signal(SIGXFSZ, SIG_IGN);
        if (getrlimit(RLIMIT_FSIZE, &limit) != 0)
            _exit(90);
        limit.rlim_cur = 100;
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0)
            _exit(90);
        int status = galann_model_save(m, path);
        const char *message = galann_last_error();
        int right = status == GALANN_ERR_IO && strstr(message, path) && strstr(message, "write failed");
        if (!right)
            fprintf(stderr, "child: status %d (%s), message \"%s\"\n", status, galann_strerror(status), message);
        _exit(right ? 0 : 91);
    }
    int wstatus = 0;
    assert_int_equal(waitpid(child, &wstatus, 0), child);
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        print_error("saving with a 100-byte file size limit: %s %d (90: no limit could be set, 91: the save did "
                    "not fail with GALANN_ERR_IO naming the failed write)\n",
                    WIFEXITED(wstatus) ? "child exit status" : "child killed by signal",
                    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
        fail();
    }
}

static void failed_saves_leave_the_existing_file_and_no_temporary(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char *existing = join(dir, "model.bin");
    galann_model *old = small_model(), *other = NULL;
    static const size_t net[] = { 6, 5, 3 };
    expect_status(galann_model_new(net, 3, &other), GALANN_OK);
    expect_status(galann_model_init_random(other, 2), GALANN_OK);
    expect_status(galann_model_save(old, existing), GALANN_OK);
    size_t old_size = 0;
    unsigned char *old_bytes = read_file(existing, &old_size);
    assert_non_null(old_bytes);

    /* a path inside a directory that does not exist */
    char *nowhere = join(dir, "missing-dir/model.bin");
    expect_failed_save(other, nowhere, dir, existing, old_bytes, old_size);

    /* the target is a (non-empty) directory: the temporary file is written,
     * the rename fails, and the temporary must go */
    char *subdir = join(dir, "a-directory");
    assert_int_equal(mkdir(subdir, 0700), 0);
    char *inside = join(subdir, "keep");
    write_file(inside, "x", 1);
    expect_failed_save(other, subdir, dir, existing, old_bytes, old_size);
    assert_int_equal(count_temp_files(subdir), 0);

    /* a write that fails part way, as on a full disk (also as root) */
    save_fails_when_the_file_cannot_grow(other, existing);
    assert_int_equal(count_temp_files(dir), 0);
    size_t now_size = 0;
    unsigned char *now = read_file(existing, &now_size);
    assert_non_null(now);
    assert_int_equal(now_size, old_size);
    assert_memory_equal(now, old_bytes, old_size);
    free(now);

    /* the existing file still loads as the old model */
    galann_model *back = NULL;
    expect_status(galann_model_load(existing, &back), GALANN_OK);
    assert_models_identical(old, back);
    galann_model_free(back);

    free(inside);
    free(subdir);
    free(nowhere);
    free(old_bytes);
    galann_model_free(old);
    galann_model_free(other);
    free(existing);
    remove_tree(dir);
    free(dir);
}

static void null_arguments_are_refused(void **state)
{
    (void)state;
    galann_model *m = small_model();
    void *buf = NOT_SET;
    size_t size = 7;
    expect_status(galann_model_save(NULL, "/tmp/x.model"), GALANN_ERR_INVALID);
    expect_status(galann_model_save(m, NULL), GALANN_ERR_INVALID);
    expect_status(galann_model_save_buffer(NULL, &buf, &size), GALANN_ERR_INVALID);
    expect_status(galann_model_save_buffer(m, NULL, &size), GALANN_ERR_INVALID);
    expect_status(galann_model_save_buffer(m, &buf, NULL), GALANN_ERR_INVALID);

    galann_model *out = NOT_SET;
    expect_status(galann_model_load(NULL, &out), GALANN_ERR_INVALID);
    assert_null(out);
    expect_status(galann_model_load("/tmp/x.model", NULL), GALANN_ERR_INVALID);
    out = NOT_SET;
    expect_status(galann_model_load_buffer(NULL, 100, &out), GALANN_ERR_INVALID);
    assert_null(out);
    expect_status(galann_model_save_buffer(m, &buf, &size), GALANN_OK);
    expect_status(galann_model_load_buffer(buf, size, NULL), GALANN_ERR_INVALID);
    galann_free(buf);
    galann_free(NULL);

    /* the divisor setter refuses what the loader refuses */
    expect_status(galann_model_set_input_divisor(m, 0.0), GALANN_ERR_INVALID);
    expect_status(galann_model_set_input_divisor(m, NAN), GALANN_ERR_INVALID);
    expect_status(galann_model_set_input_divisor(m, INFINITY), GALANN_ERR_INVALID);
    expect_status(galann_model_set_input_divisor(NULL, 2.0), GALANN_ERR_INVALID);
    assert_true(galann_model_input_divisor(m) == 65535.0);
    galann_model_free(m);
}

/* ------------------------------------------------------- class names */

static const char *const galaxy_names[] = { "E", "S", "I" };

static void class_names_are_set_copied_saved_and_loaded(void **state)
{
    (void)state;
    galann_model *m = small_model();
    assert_null(galann_model_class_name(m, 0));
    const char *names[] = { "Elliptical", "Spiral galaxy \xc3\xa9" };
    expect_status(galann_model_set_class_names(m, names, 2), GALANN_OK);
    assert_string_equal(galann_model_class_name(m, 0), "Elliptical");
    assert_string_equal(galann_model_class_name(m, 1), "Spiral galaxy \xc3\xa9");
    assert_null(galann_model_class_name(m, 2));
    assert_null(galann_model_class_name(NULL, 0));

    galann_model *copy = NULL;
    expect_status(galann_model_copy(m, &copy), GALANN_OK);
    assert_string_equal(galann_model_class_name(copy, 1), "Spiral galaxy \xc3\xa9");

    /* the file: flags 1, then after n_params the section: its length,
     * then per name a u16 length and the bytes */
    void *buf = NULL;
    size_t size = 0;
    expect_status(galann_model_save_buffer(m, &buf, &size), GALANN_OK);
    size_t section = 2 + 10 + 2 + 16;
    assert_int_equal(size, SMALL_BYTES + 4 + section);
    const unsigned char *b = buf;
    assert_int_equal(get_u32(b + OFF_FLAGS), 1);
    size_t at = 24 + 8 * 3 + 16;
    assert_int_equal(get_u32(b + at), section);
    assert_int_equal(b[at + 4], 10);
    assert_int_equal(b[at + 5], 0);
    assert_memory_equal(b + at + 6, "Elliptical", 10);
    assert_int_equal(b[at + 16], 16);
    assert_memory_equal(b + at + 18, "Spiral galaxy \xc3\xa9", 16);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), b, (uInt)(size - 4));
    assert_int_equal(get_u32(b + size - 4), (uint32_t)crc);

    galann_model *loaded = NULL;
    expect_status(galann_model_load_buffer(buf, size, &loaded), GALANN_OK);
    assert_models_identical(loaded, m);
    assert_string_equal(galann_model_class_name(loaded, 0), "Elliptical");
    assert_string_equal(galann_model_class_name(loaded, 1), "Spiral galaxy \xc3\xa9");
    galann_free(buf);

    /* removed again: the file is the first release's, byte for byte */
    expect_status(galann_model_set_class_names(m, NULL, 0), GALANN_OK);
    assert_null(galann_model_class_name(m, 0));
    size_t plain_size = 0;
    unsigned char *plain = small_bytes(&plain_size);
    expect_status(galann_model_save_buffer(m, &buf, &size), GALANN_OK);
    assert_int_equal(size, plain_size);
    assert_memory_equal(buf, plain, size);
    assert_int_equal(get_u32((unsigned char *)buf + OFF_FLAGS), 0);
    galann_free(buf);
    free(plain);

    galann_model_free(m);
    galann_model_free(copy);
    galann_model_free(loaded);
}

static void bad_class_names_are_refused_and_keep_the_old_ones(void **state)
{
    (void)state;
    size_t sizes[] = { 4, 3, 3 };
    galann_model *m = NULL;
    expect_status(galann_model_new(sizes, 3, &m), GALANN_OK);
    expect_status(galann_model_set_class_names(m, galaxy_names, 3), GALANN_OK);
    expect_status(galann_model_set_class_names(m, galaxy_names, 2), GALANN_ERR_DIMENSION);
    expect_message("2 names for a model with 3 output classes");
    const char *comma[] = { "E", "S,I", "I" };
    expect_status(galann_model_set_class_names(m, comma, 3), GALANN_ERR_INVALID);
    expect_message("class name 1 has a comma or a control byte (0x2c) at byte 1");
    const char *newline[] = { "E", "S", "I\n" };
    expect_status(galann_model_set_class_names(m, newline, 3), GALANN_ERR_INVALID);
    expect_message("(0x0a) at byte 1");
    const char *empty[] = { "", "S", "I" };
    expect_status(galann_model_set_class_names(m, empty, 3), GALANN_ERR_INVALID);
    expect_message("class name 0 has 0 bytes (expected 1..255)");
    char long_name[300];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *too_long[] = { "E", long_name, "I" };
    expect_status(galann_model_set_class_names(m, too_long, 3), GALANN_ERR_INVALID);
    expect_message("class name 1 has 256 bytes (expected 1..255)");
    const char *null_name[] = { "E", NULL, "I" };
    expect_status(galann_model_set_class_names(m, null_name, 3), GALANN_ERR_INVALID);
    expect_status(galann_model_set_class_names(m, NULL, 3), GALANN_ERR_INVALID);
    expect_status(galann_model_set_class_names(NULL, galaxy_names, 3), GALANN_ERR_INVALID);
    /* every refusal left the names as they were */
    assert_string_equal(galann_model_class_name(m, 1), "S");
    galann_model_free(m);
}

static void corrupt_class_name_sections_are_refused(void **state)
{
    (void)state;
    size_t sizes[] = { 2, 3 };
    galann_model *m = NULL;
    expect_status(galann_model_new(sizes, 2, &m), GALANN_OK);
    expect_status(galann_model_set_class_names(m, galaxy_names, 3), GALANN_OK);
    void *saved = NULL;
    size_t size = 0;
    expect_status(galann_model_save_buffer(m, &saved, &size), GALANN_OK);
    galann_model_free(m);
    unsigned char *b = malloc(size + 16);
    assert_non_null(b);
    size_t at = 24 + 8 * 2 + 16; /* the section's length word */
    assert_int_equal(get_u32((unsigned char *)saved + at), 9);

#define RESET_NAMES() memcpy(b, saved, size)
    RESET_NAMES();
    put_u32(b + at, 10); /* a byte more than the names take */
    reseal(b, size);
    expect_refused(b, size, "class name");
    RESET_NAMES();
    put_u32(b + at, 8); /* a byte less */
    reseal(b, size);
    expect_refused(b, size, "class name");
    RESET_NAMES();
    put_u32(b + at, 0xffffffffu);
    reseal(b, size);
    expect_refused(b, size, "class names take 4294967295 bytes");
    RESET_NAMES();
    b[at + 4] = 200; /* the first name's length runs past the section */
    reseal(b, size);
    expect_refused(b, size, "class name 0 runs past its section");
    RESET_NAMES();
    b[at + 6] = ','; /* "E" becomes "," */
    reseal(b, size);
    expect_refused(b, size, "comma or a control byte");
    RESET_NAMES();
    b[at + 4] = 0; /* an empty name */
    b[at + 5] = 0;
    reseal(b, size);
    expect_refused(b, size, NULL);
    /* truncated inside the section */
    RESET_NAMES();
    expect_refused(b, at + 6, "truncated");
    galann_free(saved);
    free(b);
#undef RESET_NAMES
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buffer_round_trip_keeps_every_bit_and_the_layout),
        cmocka_unit_test(file_round_trip_of_the_galaxy_network_keeps_every_bit),
        cmocka_unit_test(deep_network_round_trips),
        cmocka_unit_test(header_defects_are_refused_with_their_reason),
        cmocka_unit_test(every_truncation_is_refused),
        cmocka_unit_test(every_flipped_bit_is_refused),
        cmocka_unit_test(non_finite_weight_with_a_valid_checksum_is_refused),
        cmocka_unit_test(corrupt_or_missing_files_name_the_path),
        cmocka_unit_test(saving_over_a_model_replaces_it_whole),
        cmocka_unit_test(failed_saves_leave_the_existing_file_and_no_temporary),
        cmocka_unit_test(null_arguments_are_refused),
        cmocka_unit_test(class_names_are_set_copied_saved_and_loaded),
        cmocka_unit_test(bad_class_names_are_refused_and_keep_the_old_ones),
        cmocka_unit_test(corrupt_class_name_sections_are_refused),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
