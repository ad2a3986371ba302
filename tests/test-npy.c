/*
 * test-npy.c -- numpy .npy files in and out: every features dtype ('|u1',
 * '<f4', '<f8') and labels dtype in format versions 1.0, 2.0 and 3.0, the
 * labels from a file or column 0; a usable file mapped, not copied (the
 * stored features lie inside the file's mapping, and loading a 32 MiB u8
 * file costs no anonymous memory); each defect refused with its message;
 * a round trip for each storage type; training on a .npy dataset gives
 * the CSV dataset's bits; and every truncation and single-byte corruption
 * of small valid files gives an error or a valid dataset, never a crash.
 *
 * The files here are built by hand (npy_file below), independently of the
 * library's writer. Not here: numpy's own files (python/tests/test_npy.py),
 * the program's options (tests/test-cli.sh), fuzzing (fuzz/fuzz-npy.c).
 */
#define _GNU_SOURCE /* realpath */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "npy.h"
#include "support.h"

static char folder[64];

static int setup(void **state)
{
    (void)state;
    return temp_folder_make(folder, sizeof folder, "npy");
}

static int teardown(void **state)
{
    (void)state;
    return temp_folder_remove(folder);
}

static const char *path_of(const char *name)
{
    static char paths[4][256];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", folder, name);
    return p;
}

/* ------------------------------------------------- building .npy bytes */

typedef struct bytes {
    unsigned char *p;
    size_t size;
} bytes;

/* A .npy file of the given version whose header is exactly dict (padded
 * with spaces and '\n' to a multiple of 64, as numpy pads it), then data. */
static bytes npy_with_header(int version, const char *dict, const void *data, size_t data_size)
{
    size_t prefix = version == 1 ? 10 : 12, text = strlen(dict);
    size_t total = (prefix + text + 1 + 63) / 64 * 64;
    bytes b = { malloc(total + data_size + 1), total + data_size };
    assert_non_null(b.p);
    memcpy(b.p, "\x93NUMPY", 6);
    b.p[6] = (unsigned char)version;
    b.p[7] = 0;
    size_t length = total - prefix;
    for (size_t i = 0; i < prefix - 8; i++)
        b.p[8 + i] = (unsigned char)(length >> (8 * i));
    memcpy(b.p + prefix, dict, text);
    memset(b.p + prefix + text, ' ', total - prefix - text - 1);
    b.p[total - 1] = '\n';
    if (data_size)
        memcpy(b.p + total, data, data_size);
    return b;
}

/* The same with numpy's dict for descr and a 1-D or 2-D shape. */
static bytes npy_file(int version, const char *descr, size_t rows, size_t columns, const void *data, size_t data_size)
{
    char dict[200];
    if (columns == 0)
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }", descr, rows);
    else
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }", descr, rows,
                 columns);
    return npy_with_header(version, dict, data, data_size);
}

static void write_bytes(const char *path, const void *p, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static void write_npy(const char *path, bytes b)
{
    write_bytes(path, b.p, b.size);
    free(b.p);
}

/* Little-endian values of a dtype, from doubles. */
static void put_value(unsigned char *p, const char *descr, double v)
{
    char kind = descr[1];
    size_t size = (size_t)(descr[2] - '0');
    uint64_t bits = 0;
    if (kind == 'f' && size == 4) {
        float f = (float)v;
        uint32_t b32;
        memcpy(&b32, &f, 4);
        bits = b32;
    } else if (kind == 'f') {
        memcpy(&bits, &v, 8);
    } else {
        bits = (uint64_t)(int64_t)v;
    }
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)(bits >> (8 * i));
}

static bytes npy_of_values(int version, const char *descr, size_t rows, size_t columns, const double *values)
{
    size_t size = (size_t)(descr[2] - '0'), count = rows * (columns ? columns : 1);
    unsigned char *data = malloc(count * size + 1);
    assert_non_null(data);
    for (size_t i = 0; i < count; i++)
        put_value(data + i * size, descr, values[i]);
    bytes b = npy_file(version, descr, rows, columns, data, count * size);
    free(data);
    return b;
}

/* ------------------------------------------------------------ checks */

static galann_dataset *load(const char *features, const char *labels, int expected_status)
{
    galann_dataset *d = (galann_dataset *)1;
    expect_status(galann_dataset_load_npy(features, labels, &d), expected_status);
    if (expected_status != GALANN_OK)
        assert_null(d);
    return d;
}

static void expect_message(const char *needle)
{
    if (!strstr(galann_last_error(), needle))
        fail_msg("the message \"%s\" lacks \"%s\"", galann_last_error(), needle);
}

/* features as doubles, row-major */
static void expect_features(const galann_dataset *d, const double *expected, size_t count)
{
    double *x = malloc(count * sizeof *x);
    assert_non_null(x);
    expect_status(galann_dataset_copy_features(d, 0, galann_dataset_n_samples(d), x), GALANN_OK);
    for (size_t i = 0; i < count; i++) {
        if (x[i] != expected[i])
            fail_msg("feature %zu is %.17g, expected %.17g", i, x[i], expected[i]);
    }
    free(x);
}

static const double pixels[12] = { 0, 1, 2, 255, 17, 128, 254, 3, 9, 99, 100, 200 };
static const double label_values[3] = { 2, 0, 1 };
static const char *const feature_dtypes[] = { "|u1", "<f4", "<f8" };
static const int feature_storages[] = { GALANN_STORAGE_U8, GALANN_STORAGE_F32, GALANN_STORAGE_F64 };

static void every_dtype_and_version_loads_with_the_values_written(void **state)
{
    (void)state;
    static const char *const labels[] = { "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8" };
    const int32_t expected_labels[3] = { 2, 0, 1 };
    for (int version = 1; version <= 3; version++) {
        for (size_t f = 0; f < 3; f++) {
            for (size_t l = 0; l < 8; l++) {
                const char *x = path_of("x.npy"), *y = path_of("y.npy");
                write_npy(x, npy_of_values(version, feature_dtypes[f], 3, 4, pixels));
                write_npy(y, npy_of_values(version, labels[l], 3, 0, label_values));
                galann_dataset *d = load(x, y, GALANN_OK);
                assert_int_equal(galann_dataset_storage(d), feature_storages[f]);
                assert_int_equal(galann_dataset_n_samples(d), 3);
                assert_int_equal(galann_dataset_n_features(d), 4);
                assert_int_equal(galann_dataset_n_labels(d), 3);
                assert_memory_equal(galann_dataset_labels(d), expected_labels, sizeof expected_labels);
                double expected[12];
                for (size_t i = 0; i < 12; i++)
                    expected[i] = f == 0 ? pixels[i] / 255.0 : pixels[i];
                expect_features(d, expected, 12);
                assert_true(galann_dataset_divisor(d) == (f == 0 ? 255.0 : 1.0));
                galann_dataset_free(d);
            }
        }
    }
}

static void labels_come_from_column_0_without_a_labels_file(void **state)
{
    (void)state;
    /* rows [0,1,2,255] [17,128,254,3] [9,99,100,200]: labels 0, 17, 9 */
    const int32_t column0[3] = { 0, 17, 9 };
    const double rest[9] = { 1, 2, 255, 128, 254, 3, 99, 100, 200 };
    for (size_t f = 0; f < 3; f++) {
        const char *x = path_of("x.npy");
        write_npy(x, npy_of_values(1, feature_dtypes[f], 3, 4, pixels));
        galann_dataset *d = load(x, NULL, GALANN_OK);
        assert_int_equal(galann_dataset_storage(d), feature_storages[f]);
        assert_int_equal(galann_dataset_n_features(d), 3);
        assert_int_equal(galann_dataset_n_labels(d), 18);
        assert_memory_equal(galann_dataset_labels(d), column0, sizeof column0);
        double expected[9];
        for (size_t i = 0; i < 9; i++)
            expected[i] = f == 0 ? rest[i] / 255.0 : rest[i];
        expect_features(d, expected, 9);
        galann_dataset_free(d);

        /* options: no labels at all (pixels only), another divisor */
        galann_npy_options o;
        galann_npy_options_init(&o);
        assert_int_equal(o.struct_size, sizeof o);
        assert_true(o.divisor == 255.0 && o.labelled == 1 && o.map == 1);
        o.labelled = 0;
        o.divisor = 2.0;
        expect_status(galann_dataset_load_npy_with(x, NULL, &o, &d), GALANN_OK);
        assert_int_equal(galann_dataset_n_features(d), 4);
        assert_int_equal(galann_dataset_n_labels(d), 1);
        double all[12];
        for (size_t i = 0; i < 12; i++)
            all[i] = f == 0 ? pixels[i] / 2.0 : pixels[i];
        expect_features(d, all, 12);
        assert_int_equal(galann_dataset_labels(d)[2], 0);
        galann_dataset_free(d);
    }
}

/* ------------------------------------------------------ the mapping */

/* The address range /proc/self/maps gives a mapping of path; 0 when none
 * is there (or /proc is missing). */
static int mapping_of(const char *path, uintptr_t *start, uintptr_t *end)
{
    char real[4096], line[8192];
    if (!realpath(path, real))
        return 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long long a, b;
        char *name = strchr(line, '/');
        if (!name || sscanf(line, "%llx-%llx", &a, &b) != 2)
            continue;
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name, real) == 0) {
            *start = (uintptr_t)a;
            *end = (uintptr_t)b;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static long status_kb(const char *field)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    }
    fclose(f);
    return kb;
}

static void a_usable_file_is_mapped_not_copied(void **state)
{
    (void)state;
    if (access("/proc/self/maps", R_OK) != 0) {
        skip_test("no /proc/self/maps to see the mappings in");
        return;
    }
    for (size_t f = 0; f < 3; f++) {
        const char *x = path_of("mapped.npy"), *y = path_of("mapped-y.npy");
        write_npy(x, npy_of_values(1, feature_dtypes[f], 3, 4, pixels));
        write_npy(y, npy_of_values(1, "<i8", 3, 0, label_values));
        galann_dataset *d = load(x, y, GALANN_OK);
        uintptr_t start = 0, end = 0, p = (uintptr_t)galann_dataset_stored_features(d);
        assert_true(mapping_of(x, &start, &end));
        print_message("%s: features at %#llx, the file mapped at [%#llx, %#llx)\n", feature_dtypes[f],
                      (unsigned long long)p, (unsigned long long)start, (unsigned long long)end);
        assert_true(p >= start && p + 12 * (f == 0 ? 1 : f == 1 ? 4 : 8) <= end);
        /* numpy's alignment: the data follows the 128-byte header */
        assert_int_equal(p - start, 128);
        galann_dataset_free(d);
        assert_false(mapping_of(x, &start, &end));

        /* map 0, or labels in column 0: read into memory */
        galann_npy_options o;
        galann_npy_options_init(&o);
        o.map = 0;
        expect_status(galann_dataset_load_npy_with(x, y, &o, &d), GALANN_OK);
        assert_false(mapping_of(x, &start, &end));
        galann_dataset_free(d);
        d = load(x, NULL, GALANN_OK);
        assert_false(mapping_of(x, &start, &end));
        galann_dataset_free(d);
    }
}

/* 32 MiB of u8 pixels (32768 x 1024): mapped, the load adds the labels'
 * 128 KiB of anonymous memory, not the features'; read into memory
 * (map 0), all 32 MiB. Every backend computes on the mapped set. */
static void loading_a_large_u8_file_costs_no_anonymous_memory(void **state)
{
    (void)state;
    if (status_kb("RssAnon") < 0) {
        skip_test("no RssAnon in /proc/self/status");
        return;
    }
    const size_t m = 32768, n = 1024;
    const char *x = path_of("large.npy"), *y = path_of("large-y.npy");
    unsigned char *pixel_data = malloc(m * n);
    int32_t *labels = malloc(m * sizeof *labels);
    assert_non_null(pixel_data);
    assert_non_null(labels);
    for (size_t i = 0; i < m * n; i++)
        pixel_data[i] = (unsigned char)(i * 2654435761u >> 24);
    for (size_t i = 0; i < m; i++)
        labels[i] = (int32_t)(i % 3);
    write_npy(x, npy_file(1, "|u1", m, n, pixel_data, m * n));
    write_npy(y, npy_file(1, "<i4", m, 0, labels, m * sizeof *labels));
    free(pixel_data);
    free(labels);

    long before = status_kb("RssAnon");
    galann_dataset *d = load(x, y, GALANN_OK);
    long mapped = status_kb("RssAnon") - before;
    double row[1024];
    expect_status(galann_dataset_copy_features(d, m - 1, 1, row), GALANN_OK);
    galann_npy_options o;
    galann_npy_options_init(&o);
    o.map = 0;
    galann_dataset *copy = NULL;
    before = status_kb("RssAnon");
    expect_status(galann_dataset_load_npy_with(x, y, &o, &copy), GALANN_OK);
    long copied = status_kb("RssAnon") - before;
    print_message("RssAnon growth loading a 32 MiB u8 .npy: mapped %ld KiB, read into memory %ld KiB\n", mapped,
                  copied);
    assert_true(mapped < 4 * 1024);
    assert_true(copied >= 32 * 1024);
    assert_memory_equal(galann_dataset_stored_features(d), galann_dataset_stored_features(copy), m * n);

    static const size_t sizes[] = { 1024, 4, 3 };
    galann_model *model = NULL;
    expect_status(galann_model_new(sizes, 3, &model), GALANN_OK);
    expect_status(galann_model_init_random(model, 917), GALANN_OK);
    galann_context *c = NULL;
    expect_status(galann_context_new("reference", &c), GALANN_OK);
    double j_mapped, j_copied;
    expect_status(galann_cost(c, model, d, 1.0, &j_mapped), GALANN_OK);
    expect_status(galann_cost(c, model, copy, 1.0, &j_copied), GALANN_OK);
    assert_true(j_mapped == j_copied);
    galann_context_free(c);
    galann_model_free(model);
    galann_dataset_free(copy);
    galann_dataset_free(d);
}

/* ------------------------------------------------------- the defects */

typedef struct defect {
    const char *what;
    bytes features;
    bytes labels;      /* p NULL: no labels file */
    const char *message;
} defect;

static bytes no_file(void)
{
    bytes b = { NULL, 0 };
    return b;
}

static bytes raw(const void *p, size_t size)
{
    bytes b = { malloc(size + 1), size };
    assert_non_null(b.p);
    memcpy(b.p, p, size);
    return b;
}

static bytes cut(bytes b, size_t size)
{
    b.size = size;
    return b;
}

static void each_defect_is_refused_with_its_message(void **state)
{
    (void)state;
    const double three[3] = { 0, 1, 2 }, four[4] = { 0, 1, 2, 1 };
    double nan_pixels[12], inf_pixels[12], half_label[12];
    memcpy(nan_pixels, pixels, sizeof pixels);
    memcpy(inf_pixels, pixels, sizeof pixels);
    memcpy(half_label, pixels, sizeof pixels);
    nan_pixels[1 * 4 + 2] = NAN;
    inf_pixels[2 * 4 + 3] = -INFINITY;
    half_label[2 * 4] = 2.5;
    const double negative[3] = { 0, -1, 2 }, too_big[3] = { 0, 65536, 2 };
    unsigned char big_header[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0x80, 0x84, 0x1e, 0 }; /* 2000000 */
    bytes huge = raw(big_header, sizeof big_header);
    huge.p = realloc(huge.p, 2000100);
    assert_non_null(huge.p);
    memset(huge.p + 12, ' ', 2000100 - 12);
    huge.size = 2000100;
    unsigned char past[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0 };
    bytes lying = raw(past, sizeof past);
    lying.p = realloc(lying.p, 100);
    memset(lying.p + 10, ' ', 90);
    lying.size = 100;
    const char *x_name = "x.npy", *y_name = "y.npy";
    defect cases[] = {
        { "an empty file", raw("", 0), no_file(), "x.npy: the file is empty" },
        { "no magic", raw("PK\3\4 a zip file, say", 20), no_file(), "x.npy: not a .npy file (it does not start with "
          "\\x93NUMPY)" },
        { "a cut preamble", cut(npy_of_values(1, "<f8", 3, 4, pixels), 9), no_file(),
          "x.npy: truncated: 9 bytes, too short for a version 1.0 preamble" },
        { "a cut version-2 preamble", cut(npy_of_values(2, "<f8", 3, 4, pixels), 11), no_file(),
          "x.npy: truncated: 11 bytes, too short for a version 2.0 preamble" },
        { "version 4.0", raw("\x93NUMPY\4\0\x76\0", 10), no_file(),
          "x.npy: .npy format version 4.0 is not supported (1.0, 2.0 and 3.0 are)" },
        { "version 1.1", raw("\x93NUMPY\1\1\x76\0", 10), no_file(), "format version 1.1 is not supported" },
        { "a header past the end", lying, no_file(),
          "x.npy: the header's length, 118 bytes, runs past the end of the file (100 bytes)" },
        { "a header over 1 MiB", huge, no_file(), "x.npy: the header of 2000000 bytes is too long (at most 1 MiB)" },
        { "no colon", npy_with_header(1, "{'descr' '<f8', 'fortran_order': False, 'shape': (3, 4), }", pixels, 96),
          no_file(), "x.npy: malformed .npy header: expected ':' at byte 9 of the header" },
        { "not a dict", npy_with_header(1, "['descr', '<f8']", pixels, 96), no_file(),
          "x.npy: malformed .npy header: expected '{' at byte 0 of the header" },
        { "a shape that is not a tuple", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': "
          "(3), }", pixels, 24), no_file(), "the shape (3) is not a tuple (a 1-D shape is written (3,))" },
        { "a list for the shape", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': [3, 4], }",
          pixels, 96), no_file(), "expected a tuple such as (rows, columns) for 'shape'" },
        { "a missing key", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False}", pixels, 96), no_file(),
          "x.npy: the header lacks 'shape'" },
        { "a repeated key", npy_with_header(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': "
          "(3, 4)}", pixels, 96), no_file(), "x.npy: the header gives 'descr' twice" },
        { "an unknown key", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'x': 1}",
          pixels, 96), no_file(), "x.npy: the header has the key 'x': a .npy header has only 'descr', "
          "'fortran_order' and 'shape'" },
        { "text after the dict", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)} x",
          pixels, 96), no_file(), "expected nothing but spaces after '}'" },
        { "fortran_order 1", npy_with_header(1, "{'descr': '<f8', 'fortran_order': 1, 'shape': (3, 4)}", pixels, 96),
          no_file(), "expected True or False for 'fortran_order'" },
        { "Fortran order", npy_with_header(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 4), }", pixels,
          96), no_file(), "x.npy: the array is in Fortran order (fortran_order True): save a C-order array "
          "(numpy.ascontiguousarray)" },
        { "an object array", npy_with_header(1, "{'descr': '|O', 'fortran_order': False, 'shape': (3, 4), }", pixels,
          96), no_file(), "x.npy: object arrays (dtype '|O') are not supported: save numbers" },
        { "a structured dtype", npy_with_header(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': "
          "(3,), }", pixels, 24), no_file(), "x.npy: a structured dtype (a list of fields) is not supported" },
        { "big-endian features", npy_with_header(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (3, 4), }",
          pixels, 96), no_file(), "x.npy: dtype '>f8' is big-endian: save the features little-endian (numpy: "
          "a.astype('<f8'))" },
        { "integer features", npy_of_values(1, "<i4", 3, 4, pixels), no_file(),
          "x.npy: dtype '<i4' is not supported for features: use '|u1' (uint8 pixels), '<f4' or '<f8'" },
        { "half floats", npy_with_header(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 4), }", pixels,
          24), no_file(), "x.npy: dtype '<f2' is not supported for features" },
        { "a dtype with more after it", npy_with_header(1, "{'descr': '<f8x', 'fortran_order': False, 'shape': "
          "(3, 4), }", pixels, 96), no_file(), "x.npy: dtype '<f8x' is not supported for features" },
        { "1-D features", npy_of_values(1, "<f8", 12, 0, pixels), no_file(),
          "x.npy: features must be a 2-D array (rows, columns); the shape is (12,)" },
        { "3-D features", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2, 2), }",
          pixels, 96), no_file(), "the shape is (3, 2, 2)" },
        { "no rows", npy_file(1, "<f8", 0, 4, NULL, 0), no_file(), "x.npy: the shape (0, 4) has no rows" },
        { "no columns", npy_file(1, "<f8", 3, 0, NULL, 0), no_file(), "features must be a 2-D array" },
        { "zero columns", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 0), }", NULL, 0),
          no_file(), "x.npy: the shape (3, 0) has no columns" },
        { "only a label column", npy_of_values(1, "<f8", 12, 1, pixels), no_file(),
          "x.npy: the shape (12, 1) holds the labels in column 0 and leaves no features" },
        { "truncated data", cut(npy_of_values(1, "<f8", 3, 4, pixels), 128 + 80), no_file(),
          "x.npy: truncated: the shape (3, 4) of '<f8' needs 96 bytes after the 128-byte header, the file has 80" },
        { "a shape larger than any file", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': "
          "(4294967296, 4294967296), }", pixels, 96), no_file(),
          "x.npy: the shape (4294967296, 4294967296) is too large for any file" },
        { "a dimension over 64 bits", npy_with_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': "
          "(18446744073709551616, 1), }", pixels, 96), no_file(), "x.npy: dimension 0 of the shape is too large" },
        { "NaN", npy_of_values(1, "<f8", 3, 4, nan_pixels), npy_of_values(1, "<i4", 3, 0, three),
          "x.npy: the value at [1, 2] is not finite (nan)" },
        { "infinity in float32", npy_of_values(1, "<f4", 3, 4, inf_pixels), no_file(),
          "x.npy: the value at [2, 3] is not finite (-inf)" },
        { "a label column with 2.5", npy_of_values(1, "<f8", 3, 4, half_label), no_file(),
          "x.npy: the label at [2, 0] is 2.5, not a class number in 0..65535" },
        { "a negative label", npy_of_values(1, "<f8", 3, 4, pixels), npy_of_values(1, "<i2", 3, 0, negative),
          "y.npy: the label at [1] is -1, not a class number in 0..65535" },
        { "a label above 65535", npy_of_values(1, "<f8", 3, 4, pixels), npy_of_values(1, "<u4", 3, 0, too_big),
          "y.npy: the label at [1] is 65536, not a class number in 0..65535" },
        { "float labels", npy_of_values(1, "<f8", 3, 4, pixels), npy_of_values(1, "<f8", 3, 0, three),
          "y.npy: dtype '<f8' is not supported for labels: use an integer type" },
        { "big-endian labels", npy_of_values(1, "<f8", 3, 4, pixels), npy_with_header(1, "{'descr': '>i4', "
          "'fortran_order': False, 'shape': (3,), }", three, 12), "y.npy: dtype '>i4' is big-endian" },
        { "2-D labels", npy_of_values(1, "<f8", 3, 4, pixels), npy_of_values(1, "<i4", 3, 1, three),
          "y.npy: labels must be a 1-D array (rows,); the shape is (3, 1) (numpy: save y.ravel())" },
        { "more labels than rows", npy_of_values(1, "<f8", 3, 4, pixels), npy_of_values(1, "<i4", 4, 0, four),
          "y.npy: 4 labels for the 3 rows of " },
        { "truncated labels", npy_of_values(1, "<f8", 3, 4, pixels), cut(npy_of_values(1, "<i8", 3, 0, three), 140),
          "y.npy: truncated: the shape (3,) of '<i8' needs 24 bytes after the 128-byte header, the file has 12" },
        { "labels that are not .npy", npy_of_values(1, "<f8", 3, 4, pixels), raw("0\n1\n2\n", 6),
          "y.npy: not a .npy file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const defect *c = &cases[i];
        const char *x = path_of(x_name), *y = path_of(y_name);
        write_bytes(x, c->features.p, c->features.size);
        if (c->labels.p)
            write_bytes(y, c->labels.p, c->labels.size);
        galann_dataset *d = (galann_dataset *)1;
        int status = galann_dataset_load_npy(x, c->labels.p ? y : NULL, &d);
        print_message("%-28s %s\n", c->what, galann_last_error());
        if (status != GALANN_ERR_PARSE)
            fail_msg("%s: status %d (%s), expected GALANN_ERR_PARSE", c->what, status, galann_last_error());
        assert_null(d);
        expect_message(c->message);
        /* the in-memory reader says the same */
        expect_status(galann_npy_load_memory(c->features.p, c->features.size, x, c->labels.p, c->labels.size,
                                             c->labels.p ? y : NULL, NULL, &d), GALANN_ERR_PARSE);
        expect_message(c->message);
        free(c->features.p);
        free(c->labels.p);
    }
}

static void special_files_and_bad_arguments_are_refused(void **state)
{
    (void)state;
    galann_dataset *d = (galann_dataset *)1;
    const char *fifo = path_of("fifo.npy"), *x = path_of("good.npy");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    write_npy(x, npy_of_values(1, "|u1", 3, 4, pixels));
    alarm(10); /* a FIFO read would block: die rather than hang */
    expect_status(galann_dataset_load_npy(fifo, NULL, &d), GALANN_ERR_IO);
    expect_message("fifo.npy: not a regular file");
    assert_null(d);
    expect_status(galann_dataset_load_npy(x, fifo, &d), GALANN_ERR_IO);
    expect_message("fifo.npy: not a regular file");
    expect_status(galann_dataset_load_npy(folder, NULL, &d), GALANN_ERR_IO);
    expect_message(": not a regular file");
    alarm(0);
    expect_status(galann_dataset_load_npy(path_of("missing.npy"), NULL, &d), GALANN_ERR_IO);
    expect_message("missing.npy: cannot open: No such file or directory");
    expect_status(galann_dataset_load_npy(x, NULL, NULL), GALANN_ERR_INVALID);
    expect_status(galann_dataset_load_npy(NULL, NULL, &d), GALANN_ERR_INVALID);
    galann_npy_options o;
    galann_npy_options_init(&o);
    o.divisor = 0.0;
    expect_status(galann_dataset_load_npy_with(x, NULL, &o, &d), GALANN_ERR_INVALID);
    galann_npy_options_init(&o);
    o.labelled = 2;
    expect_status(galann_dataset_load_npy_with(x, NULL, &o, &d), GALANN_ERR_INVALID);
    galann_npy_options_init(&o);
    o.map = -1;
    expect_status(galann_dataset_load_npy_with(x, NULL, &o, &d), GALANN_ERR_INVALID);
    galann_npy_options_init(&o);
    o.labelled = 0;
    expect_status(galann_dataset_load_npy_with(x, x, &o, &d), GALANN_ERR_INVALID);
    o.struct_size = 0;
    expect_status(galann_dataset_load_npy_with(x, NULL, &o, &d), GALANN_ERR_INVALID);
    o.struct_size = sizeof o + 8;
    expect_status(galann_dataset_load_npy_with(x, NULL, &o, &d), GALANN_ERR_INVALID);
    /* an older, shorter options struct: the fields beyond keep their defaults */
    galann_npy_options_init(&o);
    o.struct_size = offsetof(galann_npy_options, labelled);
    o.labelled = 0;
    expect_status(galann_dataset_load_npy_with(x, NULL, &o, &d), GALANN_OK);
    assert_int_equal(galann_dataset_n_features(d), 3);
    galann_dataset_free(d);
    expect_status(galann_dataset_save_npy(NULL, x, NULL), GALANN_ERR_INVALID);
}

/* ------------------------------------------------------ round trips */

static void expect_same_dataset(const galann_dataset *a, const galann_dataset *b, int storage)
{
    size_t m = galann_dataset_n_samples(a), n = galann_dataset_n_features(a);
    assert_int_equal(galann_dataset_n_samples(b), m);
    assert_int_equal(galann_dataset_n_features(b), n);
    assert_int_equal(galann_dataset_n_labels(b), galann_dataset_n_labels(a));
    assert_int_equal(galann_dataset_storage(b), storage);
    assert_memory_equal(galann_dataset_labels(a), galann_dataset_labels(b), m * sizeof(int32_t));
    double *xa = malloc(m * n * sizeof *xa), *xb = malloc(m * n * sizeof *xb);
    assert_non_null(xa);
    assert_non_null(xb);
    expect_status(galann_dataset_copy_features(a, 0, m, xa), GALANN_OK);
    expect_status(galann_dataset_copy_features(b, 0, m, xb), GALANN_OK);
    assert_memory_equal(xa, xb, m * n * sizeof *xa);
    free(xa);
    free(xb);
}

static unsigned char *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *p = malloc(*size + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, *size, f), *size);
    fclose(f);
    return p;
}

static void each_storage_round_trips_through_save_npy(void **state)
{
    (void)state;
    galann_dataset *u8 = NULL, *u8_by_2 = NULL, *f32 = NULL, *f64 = NULL;
    expect_status(galann_dataset_synthesize(60, 4, &u8), GALANN_OK);
    size_t m = galann_dataset_n_samples(u8), n = galann_dataset_n_features(u8);
    const uint8_t *bytes_of = galann_dataset_stored_features(u8);
    float *floats = malloc(m * n * sizeof *floats);
    assert_non_null(floats);
    for (size_t i = 0; i < m * n; i++)
        floats[i] = (float)bytes_of[i] / 7.0f;
    expect_status(galann_dataset_new_u8(bytes_of, galann_dataset_labels(u8), m, n, 3, 2.0, &u8_by_2), GALANN_OK);
    expect_status(galann_dataset_new_f32(floats, galann_dataset_labels(u8), m, n, 3, &f32), GALANN_OK);
    expect_status(galann_dataset_new(galann_dataset_features(f32), galann_dataset_labels(u8), m, n, 3, &f64),
                  GALANN_OK);
    free(floats);
    struct {
        const galann_dataset *d;
        const char *descr;
        int storage_back;
    } cases[] = {
        { u8, "|u1", GALANN_STORAGE_U8 },
        { u8_by_2, "<f8", GALANN_STORAGE_F64 }, /* another divisor: the values, as doubles */
        { f32, "<f4", GALANN_STORAGE_F32 },
        { f64, "<f8", GALANN_STORAGE_F64 },
    };
    for (size_t i = 0; i < 4; i++) {
        const char *x = path_of("trip.npy"), *y = path_of("trip-y.npy");
        expect_status(galann_dataset_save_npy(cases[i].d, x, y), GALANN_OK);
        galann_dataset *back = load(x, y, GALANN_OK);
        expect_same_dataset(cases[i].d, back, cases[i].storage_back);
        galann_dataset_free(back);

        /* numpy's layout: version 1.0, the header to 64 bytes, then the array */
        size_t size;
        unsigned char *file = read_whole(x, &size);
        size_t header = 10 + (size_t)(file[8] | file[9] << 8);
        assert_memory_equal(file, "\x93NUMPY\1\0", 8);
        assert_int_equal(header % 64, 0);
        assert_int_equal(file[header - 1], '\n');
        char expected[128];
        snprintf(expected, sizeof expected, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }",
                 cases[i].descr, m, n);
        assert_memory_equal(file + 10, expected, strlen(expected));
        if (cases[i].storage_back == galann_dataset_storage(cases[i].d))
            assert_memory_equal(file + header, galann_dataset_stored_features(cases[i].d),
                                size - header);
        free(file);
        file = read_whole(y, &size);
        snprintf(expected, sizeof expected, "{'descr': '<i4', 'fortran_order': False, 'shape': (%zu,), }", m);
        assert_memory_equal(file + 10, expected, strlen(expected));
        assert_int_equal(size, 128 + 4 * m);
        free(file);

        /* no labels path: the labels are column 0, and load back so */
        expect_status(galann_dataset_save_npy(cases[i].d, x, NULL), GALANN_OK);
        back = load(x, NULL, GALANN_OK);
        expect_same_dataset(cases[i].d, back, cases[i].storage_back);
        galann_dataset_free(back);
    }
    /* a '|u1' label column holds labels up to 255 only; no rows, no file */
    int32_t wide_labels[2] = { 0, 300 };
    uint8_t two_rows[4] = { 1, 2, 3, 4 };
    galann_dataset *wide = NULL, *empty = NULL;
    expect_status(galann_dataset_new_u8(two_rows, wide_labels, 2, 2, 301, 255.0, &wide), GALANN_OK);
    const char *x = path_of("wide.npy"), *y = path_of("wide-y.npy");
    expect_status(galann_dataset_save_npy(wide, x, NULL), GALANN_ERR_INVALID);
    expect_message("label 300 of sample 1 does not fit the '|u1' label column");
    assert_int_not_equal(access(x, F_OK), 0);
    expect_status(galann_dataset_save_npy(wide, x, y), GALANN_OK);
    galann_dataset *back = load(x, y, GALANN_OK);
    expect_same_dataset(wide, back, GALANN_STORAGE_U8);
    galann_dataset_free(back);
    expect_status(galann_dataset_new(NULL, NULL, 0, 4, 3, &empty), GALANN_OK);
    expect_status(galann_dataset_save_npy(empty, x, y), GALANN_ERR_INVALID);
    /* a folder that is not there: nothing written */
    expect_status(galann_dataset_save_npy(u8, path_of("no-such-folder/x.npy"), NULL), GALANN_ERR_IO);
    expect_message("no-such-folder/x.npy");
    galann_dataset_free(wide);
    galann_dataset_free(empty);
    galann_dataset_free(u8);
    galann_dataset_free(u8_by_2);
    galann_dataset_free(f32);
    galann_dataset_free(f64);
}

/* save_npy replaces a file by rename: a dataset mapping the old file
 * keeps its bytes. */
static void a_mapped_dataset_keeps_its_bytes_when_save_replaces_the_file(void **state)
{
    (void)state;
    galann_dataset *first = NULL, *second = NULL;
    expect_status(galann_dataset_synthesize(30, 1, &first), GALANN_OK);
    expect_status(galann_dataset_synthesize(30, 2, &second), GALANN_OK);
    const char *x = path_of("replaced.npy"), *y = path_of("replaced-y.npy");
    expect_status(galann_dataset_save_npy(first, x, y), GALANN_OK);
    galann_dataset *mapped = load(x, y, GALANN_OK);
    expect_status(galann_dataset_save_npy(second, x, y), GALANN_OK);
    expect_same_dataset(first, mapped, GALANN_STORAGE_U8);
    galann_dataset *now = load(x, y, GALANN_OK);
    expect_same_dataset(second, now, GALANN_STORAGE_U8);
    galann_dataset_free(now);
    galann_dataset_free(mapped);
    galann_dataset_free(first);
    galann_dataset_free(second);
}

/* The features and labels files change together: both are written and
 * fsynced before either is renamed, so a labels file that cannot be
 * written leaves an existing features file as it was, byte for byte, and
 * no temporary file behind. */
static void an_unwritable_labels_file_leaves_the_old_features_file_untouched(void **state)
{
    (void)state;
    char pair[256], x[320], y[320];
    snprintf(pair, sizeof pair, "%s", path_of("pair"));
    assert_int_equal(mkdir(pair, 0777), 0);
    snprintf(x, sizeof x, "%s/x.npy", pair);
    snprintf(y, sizeof y, "%s/no-such-folder/y.npy", pair);
    galann_dataset *old = NULL, *replacement = NULL;
    expect_status(galann_dataset_synthesize(30, 1, &old), GALANN_OK);
    expect_status(galann_dataset_synthesize(40, 2, &replacement), GALANN_OK);
    expect_status(galann_dataset_save_npy(old, x, NULL), GALANN_OK);
    size_t before_size, after_size;
    unsigned char *before = read_whole(x, &before_size);

    expect_status(galann_dataset_save_npy(replacement, x, y), GALANN_ERR_IO);
    expect_message("no-such-folder/y.npy");
    unsigned char *after = read_whole(x, &after_size);
    if (after_size != before_size || memcmp(after, before, before_size) != 0)
        fail_msg("%s changed (%zu bytes before, %zu after) although its labels file could not be written", x,
                 before_size, after_size);
    DIR *dir = opendir(pair);
    assert_non_null(dir);
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && strcmp(e->d_name, "x.npy") != 0)
            fail_msg("the failed save left %s/%s behind", pair, e->d_name);
    }
    closedir(dir);
    free(before);
    free(after);
    galann_dataset_free(old);
    galann_dataset_free(replacement);
}

/* ------------------------------------------------ the same training */

/* Cost and gradient bits of a and b on every usable backend. */
static void expect_same_cost_and_gradient(const galann_dataset *a, const galann_dataset *b, const char *what)
{
    size_t sizes[] = { galann_dataset_n_features(a), 8, galann_dataset_n_labels(a) };
    galann_model *model = NULL;
    expect_status(galann_model_new(sizes, 3, &model), GALANN_OK);
    expect_status(galann_model_init_random(model, 917), GALANN_OK);
    size_t p = galann_model_n_params(model);
    double *ga = malloc(p * sizeof *ga), *gb = malloc(p * sizeof *gb);
    assert_non_null(ga);
    assert_non_null(gb);
    for (size_t i = 0; i < usable_backend_count(); i++) {
        galann_context *c = NULL;
        expect_status(galann_context_new(usable_backend(i), &c), GALANN_OK);
        double ja, jb;
        expect_status(galann_cost_gradient(c, model, a, 1.0, &ja, ga, p), GALANN_OK);
        expect_status(galann_cost_gradient(c, model, b, 1.0, &jb, gb, p), GALANN_OK);
        print_message("%s on %s: J = %.17g from CSV, %.17g from .npy\n", what, usable_backend(i), ja, jb);
        assert_true(ja == jb);
        assert_memory_equal(ga, gb, p * sizeof *ga);
        galann_context_free(c);
    }
    free(ga);
    free(gb);
    galann_model_free(model);
}

static void training_on_npy_gives_the_csv_bits(void **state)
{
    (void)state;
    char *csv = shared_path("data/galaxy/train.csv");
    if (!csv) {
        skip_without_data("the galaxy data is not in the shared folder");
        return;
    }
    const char *x = path_of("galaxy.npy"), *y = path_of("galaxy-y.npy");
    static const int storages[] = { GALANN_STORAGE_U8, GALANN_STORAGE_F64, GALANN_STORAGE_F32 };
    static const char *const names[] = { "u8 ('|u1')", "f64 ('<f8')", "f32 ('<f4')" };
    for (size_t s = 0; s < 3; s++) {
        galann_csv_options o;
        galann_csv_options_init(&o);
        o.storage = storages[s];
        galann_dataset *from_csv = NULL;
        expect_status(galann_dataset_load_csv_with(csv, &o, &from_csv), GALANN_OK);
        assert_int_equal(galann_dataset_n_samples(from_csv), 2700);
        expect_status(galann_dataset_save_npy(from_csv, x, y), GALANN_OK);
        galann_dataset *from_npy = load(x, y, GALANN_OK);
        assert_int_equal(galann_dataset_storage(from_npy), storages[s]);
        expect_same_cost_and_gradient(from_csv, from_npy, names[s]);
        galann_dataset_free(from_npy);
        galann_dataset_free(from_csv);
    }
    free(csv);
}

/* -------------------------------------------------- the corpus */

/* A result is either an error (out NULL, a message) or a dataset that
 * keeps its promises. */
static void expect_error_or_valid(int status, galann_dataset *d, size_t *valid)
{
    if (status != GALANN_OK) {
        if (d != NULL || galann_last_error()[0] == '\0')
            fail_msg("status %d left a dataset or no message", status);
        return;
    }
    size_t m = galann_dataset_n_samples(d), n = galann_dataset_n_features(d), k = galann_dataset_n_labels(d);
    assert_true(m > 0 && n > 0 && k > 0 && k <= 65536);
    double *x = malloc(m * n * sizeof *x);
    assert_non_null(x);
    expect_status(galann_dataset_copy_features(d, 0, m, x), GALANN_OK);
    for (size_t i = 0; i < m * n; i++)
        assert_true(isfinite(x[i]));
    for (size_t i = 0; i < m; i++)
        assert_true(galann_dataset_labels(d)[i] >= 0 && (size_t)galann_dataset_labels(d)[i] < k);
    free(x);
    galann_dataset_free(d);
    (*valid)++;
}

/* Every truncation and every single-byte change (all 256 values at every
 * position) of the features file and of the labels file. */
static void every_truncation_and_byte_corruption_is_an_error_or_a_valid_dataset(void **state)
{
    (void)state;
    const double values[6] = { 1, 0.5, 2, 3, 4.25, 0 }, labels[2] = { 1, 0 };
    struct {
        bytes features, labels;
    } corpora[] = {
        { npy_of_values(1, "<f8", 2, 3, values), npy_of_values(1, "<i2", 2, 0, labels) },
        { npy_of_values(2, "|u1", 2, 3, values), npy_of_values(3, "|u1", 2, 0, labels) },
        { npy_of_values(3, "<f4", 2, 3, values), no_file() }, /* labels in column 0 */
    };
    size_t runs = 0, valid = 0;
    for (size_t c = 0; c < sizeof corpora / sizeof corpora[0]; c++) {
        bytes f = corpora[c].features, l = corpora[c].labels;
        const char *l_name = l.p ? "y.npy" : NULL;
        galann_dataset *d = NULL;
        expect_status(galann_npy_load_memory(f.p, f.size, "x.npy", l.p, l.size, l_name, NULL, &d), GALANN_OK);
        galann_dataset_free(d);
        for (int file = 0; file < (l.p ? 2 : 1); file++) {
            bytes *b = file == 0 ? &f : &l;
            unsigned char *copy = malloc(b->size);
            assert_non_null(copy);
            for (size_t size = 0; size < b->size; size++) {
                /* an exact-size copy: ASan sees a read past the end */
                unsigned char *part = malloc(size ? size : 1);
                assert_non_null(part);
                memcpy(part, b->p, size);
                int status = file == 0 ? galann_npy_load_memory(part, size, "x.npy", l.p, l.size, l_name, NULL, &d)
                                       : galann_npy_load_memory(f.p, f.size, "x.npy", part, size, l_name, NULL, &d);
                if (status == GALANN_OK)
                    fail_msg("corpus %zu, file %d cut to %zu bytes loaded", c, file, size);
                expect_error_or_valid(status, d, &valid);
                free(part);
                runs++;
            }
            for (size_t at = 0; at < b->size; at++) {
                for (int value = 0; value < 256; value++) {
                    memcpy(copy, b->p, b->size);
                    if (copy[at] == value)
                        continue;
                    copy[at] = (unsigned char)value;
                    int status = file == 0
                                     ? galann_npy_load_memory(copy, b->size, "x.npy", l.p, l.size, l_name, NULL, &d)
                                     : galann_npy_load_memory(f.p, f.size, "x.npy", copy, b->size, l_name, NULL, &d);
                    expect_error_or_valid(status, d, &valid);
                    runs++;
                }
            }
            free(copy);
        }
        free(f.p);
        free(l.p);
    }
    print_message("%zu truncated or corrupted files: %zu loaded as valid datasets, the others refused\n", runs, valid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_dtype_and_version_loads_with_the_values_written),
        cmocka_unit_test(labels_come_from_column_0_without_a_labels_file),
        cmocka_unit_test(a_usable_file_is_mapped_not_copied),
        cmocka_unit_test(loading_a_large_u8_file_costs_no_anonymous_memory),
        cmocka_unit_test(each_defect_is_refused_with_its_message),
        cmocka_unit_test(special_files_and_bad_arguments_are_refused),
        cmocka_unit_test(each_storage_round_trips_through_save_npy),
        cmocka_unit_test(a_mapped_dataset_keeps_its_bytes_when_save_replaces_the_file),
        cmocka_unit_test(an_unwritable_labels_file_leaves_the_old_features_file_untouched),
        cmocka_unit_test(training_on_npy_gives_the_csv_bits),
        cmocka_unit_test(every_truncation_and_byte_corruption_is_an_error_or_a_valid_dataset),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, setup, teardown));
}
