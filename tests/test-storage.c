/*
 * test-storage.c -- datasets in three storage types (u8 pixels with a
 * divisor, f32, f64): the CSV readers pick u8 for 8-bit pixel files and
 * stay lossless otherwise; a caller can force a type; u8 holds exactly the
 * numbers the f64 dataset holds, so every backend's cost and gradient are
 * the same bits; f32 is within float rounding; the accessors, copies,
 * splits and the synthetic set keep the storage; a u8 dataset costs one
 * byte per value.
 *
 * Not here: the CSV grammar (test-csv-grammar.c), the fixtures
 * (test-fixtures.c, which now load u8 datasets and pass unchanged).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

static galann_dataset *parse(const char *text, int storage, int expected_status)
{
    galann_csv_options o;
    galann_csv_options_init(&o);
    o.storage = storage;
    galann_dataset *d = NULL;
    expect_status(galann_dataset_parse_csv_with(text, strlen(text), "s.csv", &o, &d), expected_status);
    return d;
}

static void pixel_files_load_as_u8_with_the_same_numbers_as_f64(void **state)
{
    (void)state;
    const char *text = "2,0,255,17\n0,51,102,3\n1,254,1,0\n";
    galann_dataset *u8 = parse(text, GALANN_STORAGE_AUTO, GALANN_OK);
    galann_dataset *f64 = parse(text, GALANN_STORAGE_F64, GALANN_OK);
    assert_int_equal(galann_dataset_storage(u8), GALANN_STORAGE_U8);
    assert_int_equal(galann_dataset_storage(f64), GALANN_STORAGE_F64);
    assert_true(galann_dataset_divisor(u8) == 255.0);
    const uint8_t *bytes = galann_dataset_stored_features(u8);
    const uint8_t expected_bytes[9] = { 0, 255, 17, 51, 102, 3, 254, 1, 0 };
    assert_memory_equal(bytes, expected_bytes, 9);
    /* the same doubles, bit for bit: p / 255 */
    double rows[9];
    expect_status(galann_dataset_copy_features(u8, 0, 3, rows), GALANN_OK);
    assert_memory_equal(rows, galann_dataset_features(f64), sizeof rows);
    assert_memory_equal(galann_dataset_features(u8), galann_dataset_features(f64), sizeof rows);
    assert_true(rows[2] == 17.0 / 255.0);
    double one_row[3];
    expect_status(galann_dataset_copy_features(u8, 2, 1, one_row), GALANN_OK);
    assert_true(one_row[0] == 254.0 / 255.0);
    expect_status(galann_dataset_copy_features(u8, 2, 2, one_row), GALANN_ERR_DIMENSION);
    galann_dataset_free(u8);
    galann_dataset_free(f64);
}

static void any_other_value_keeps_the_file_lossless_in_f64(void **state)
{
    (void)state;
    /* the first rows are bytes; then a value that is not: the rows read as
     * u8 so far are widened exactly */
    const char *cases[] = { "0,1,2\n1,3,2.5\n", "0,1,2\n1,256,0\n", "0,1,2\n1,-1,0\n", "0,1,2\n1,-0,0\n",
                            "0,1,2\n1,1e-3,0\n" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        galann_dataset *d = parse(cases[i], GALANN_STORAGE_AUTO, GALANN_OK);
        galann_dataset *f = parse(cases[i], GALANN_STORAGE_F64, GALANN_OK);
        assert_int_equal(galann_dataset_storage(d), GALANN_STORAGE_F64);
        assert_memory_equal(galann_dataset_features(d), galann_dataset_features(f), 4 * sizeof(double));
        assert_true(galann_dataset_features(d)[0] == 1.0 / 255.0);
        galann_dataset_free(d);
        galann_dataset_free(f);
    }
}

static void a_forced_storage_is_kept_or_refused_with_the_line(void **state)
{
    (void)state;
    galann_dataset *d = parse("0,1,2\n1,3,2.5\n", GALANN_STORAGE_U8, GALANN_ERR_PARSE);
    assert_null(d);
    assert_string_equal(galann_last_error(), "s.csv:2: field 3 (2.5) is not a whole number 0..255, as u8 storage needs");
    d = parse("0,1,2\n1,3,2.5\n", GALANN_STORAGE_F32, GALANN_OK);
    assert_int_equal(galann_dataset_storage(d), GALANN_STORAGE_F32);
    const float *f = galann_dataset_stored_features(d);
    assert_true(f[3] == (float)(2.5 / 255.0));
    galann_dataset_free(d);
    galann_csv_options o;
    galann_csv_options_init(&o);
    assert_int_equal(o.storage, GALANN_STORAGE_AUTO);
    o.storage = 7;
    expect_status(galann_dataset_parse_csv_with("0,1\n", 4, "s.csv", &o, &d), GALANN_ERR_INVALID);
    assert_non_null(strstr(galann_last_error(), "storage 7 is not a galann_storage"));
}

static void constructors_copy_each_storage_and_check_it(void **state)
{
    (void)state;
    const uint8_t pixels[6] = { 0, 128, 255, 7, 8, 9 };
    const float floats[6] = { 0.5f, -1.0f, 2.0f, 0.25f, 3.0f, 1e-3f };
    const int32_t labels[2] = { 1, 0 };
    galann_dataset *u8 = NULL, *f32 = NULL, *wide = NULL;
    expect_status(galann_dataset_new_u8(pixels, labels, 2, 3, 2, 128.0, &u8), GALANN_OK);
    expect_status(galann_dataset_new_f32(floats, labels, 2, 3, 2, &f32), GALANN_OK);
    assert_true(galann_dataset_features(u8)[1] == 1.0 && galann_dataset_features(u8)[2] == 255.0 / 128.0);
    assert_true(galann_dataset_features(f32)[5] == (double)1e-3f);
    /* the double copy is made once and kept */
    assert_ptr_equal(galann_dataset_features(u8), galann_dataset_features(u8));

    expect_status(galann_dataset_with_labels(u8, 5, &wide), GALANN_OK);
    assert_int_equal(galann_dataset_n_labels(wide), 5);
    assert_int_equal(galann_dataset_storage(wide), GALANN_STORAGE_U8);
    assert_memory_equal(galann_dataset_stored_features(wide), pixels, 6);
    galann_dataset *narrow = (galann_dataset *)1;
    expect_status(galann_dataset_with_labels(u8, 1, &narrow), GALANN_ERR_INVALID);
    assert_null(narrow);

    galann_dataset *bad = NULL;
    expect_status(galann_dataset_new_u8(pixels, labels, 2, 3, 2, 0.0, &bad), GALANN_ERR_INVALID);
    const float nan_row[3] = { 1.0f, NAN, 0.0f };
    expect_status(galann_dataset_new_f32(nan_row, labels, 1, 3, 2, &bad), GALANN_ERR_NONFINITE);
    galann_dataset_free(u8);
    galann_dataset_free(f32);
    galann_dataset_free(wide);
}

static double relative_difference(const double *a, const double *b, size_t n)
{
    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return worst / scale;
}

static void every_backend_gives_u8_the_f64_bits_and_f32_within_float_rounding(void **state)
{
    (void)state;
    galann_dataset *u8 = NULL;
    expect_status(galann_dataset_synthesize(300, 9, &u8), GALANN_OK);
    assert_int_equal(galann_dataset_storage(u8), GALANN_STORAGE_U8);
    size_t m = galann_dataset_n_samples(u8), n = galann_dataset_n_features(u8);
    galann_dataset *f64 = NULL, *f32 = NULL;
    expect_status(galann_dataset_new(galann_dataset_features(u8), galann_dataset_labels(u8), m, n, 3, &f64),
                  GALANN_OK);
    float *floats = malloc(m * n * sizeof *floats);
    assert_non_null(floats);
    for (size_t i = 0; i < m * n; i++)
        floats[i] = (float)galann_dataset_features(u8)[i];
    expect_status(galann_dataset_new_f32(floats, galann_dataset_labels(u8), m, n, 3, &f32), GALANN_OK);
    free(floats);

    static const size_t sizes[] = { 1024, 8, 3 };
    galann_model *model = NULL;
    expect_status(galann_model_new(sizes, 3, &model), GALANN_OK);
    expect_status(galann_model_init_random(model, 917), GALANN_OK);
    size_t p = galann_model_n_params(model);
    double *g64 = malloc(p * sizeof *g64), *g8 = malloc(p * sizeof *g8), *g32 = malloc(p * sizeof *g32);
    assert_non_null(g64);
    assert_non_null(g8);
    assert_non_null(g32);
    for (size_t b = 0; b < galann_backend_count(); b++) {
        const char *name = galann_backend_name(b);
        galann_context *c = NULL;
        if (galann_context_new(name, &c) != GALANN_OK)
            continue;
        double j64, j8, j32;
        expect_status(galann_cost_gradient(c, model, f64, 1.0, &j64, g64, p), GALANN_OK);
        expect_status(galann_cost_gradient(c, model, u8, 1.0, &j8, g8, p), GALANN_OK);
        expect_status(galann_cost_gradient(c, model, f32, 1.0, &j32, g32, p), GALANN_OK);
        print_message("%s: u8 vs f64 cost %.3g, f32 vs f64 cost %.3g gradient %.3g (relative)\n", name,
                      fabs(j8 - j64) / j64, fabs(j32 - j64) / j64, relative_difference(g32, g64, p));
        assert_true(j8 == j64);
        assert_memory_equal(g8, g64, p * sizeof *g64);
        assert_true(fabs(j32 - j64) <= 1e-6 * j64);
        assert_true(relative_difference(g32, g64, p) <= 1e-5);
        int32_t *pred8 = malloc(m * sizeof *pred8), *pred64 = malloc(m * sizeof *pred64);
        expect_status(galann_predict(c, model, u8, pred8, m), GALANN_OK);
        expect_status(galann_predict(c, model, f64, pred64, m), GALANN_OK);
        assert_memory_equal(pred8, pred64, m * sizeof *pred8);
        free(pred8);
        free(pred64);
        galann_context_free(c);
    }
    free(g64);
    free(g8);
    free(g32);
    galann_model_free(model);
    galann_dataset_free(u8);
    galann_dataset_free(f64);
    galann_dataset_free(f32);
}

/* The blas backend converts u8 rows to doubles by arithmetic, vectorised,
 * where the divisor allows it (checked against the table: test-narrow),
 * and its narrow-layer loops take rows of any length (masked tails): any
 * divisor and any row length still give the f64 dataset's bits, the same
 * for 1, 2 and 3 threads, and within 1e-12 of the reference backend's.
 * 1 601 samples are 4 chunks, spread over the workers, each of several
 * blocks. */
static void u8_with_any_divisor_and_row_length_gives_the_f64_bits(void **state)
{
    (void)state;
    static const double divisors[] = { 255.0, 7.0, 0.3, -2.5, 65535.0, 1e-300 };
    static const size_t widths[] = { 37, 8, 1 };
    galann_context *reference = NULL;
    expect_status(galann_context_new("reference", &reference), GALANN_OK);
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        size_t m = 1601, n = widths[w];
        uint8_t *pixels = malloc(m * n);
        int32_t *labels = malloc(m * sizeof *labels);
        double *values = malloc(m * n * sizeof *values);
        assert_non_null(pixels);
        assert_non_null(labels);
        assert_non_null(values);
        uint32_t seed = 12345u;
        for (size_t i = 0; i < m * n; i++) {
            seed = seed * 1664525u + 1013904223u;
            pixels[i] = (uint8_t)(seed >> 24);
        }
        for (size_t i = 0; i < m; i++)
            labels[i] = (int32_t)(i % 3);
        size_t sizes[] = { n, 5, 3 };
        galann_model *model = NULL;
        expect_status(galann_model_new(sizes, 3, &model), GALANN_OK);
        expect_status(galann_model_init_random(model, 3), GALANN_OK);
        size_t p = galann_model_n_params(model);
        double *g64 = malloc(p * sizeof *g64), *g8 = malloc(p * sizeof *g8);
        double *g1 = malloc(p * sizeof *g1), *gref = malloc(p * sizeof *gref);
        assert_non_null(g64);
        assert_non_null(g8);
        assert_non_null(g1);
        assert_non_null(gref);
        for (size_t k = 0; k < sizeof divisors / sizeof divisors[0]; k++) {
            double divisor = divisors[k], j1 = NAN, jref;
            for (size_t i = 0; i < m * n; i++)
                values[i] = (double)pixels[i] / divisor;
            galann_dataset *u8 = NULL, *f64 = NULL;
            expect_status(galann_dataset_new_u8(pixels, labels, m, n, 3, divisor, &u8), GALANN_OK);
            expect_status(galann_dataset_new(values, labels, m, n, 3, &f64), GALANN_OK);
            expect_status(galann_cost_gradient(reference, model, f64, 1.0, &jref, gref, p), GALANN_OK);
            for (int threads = 1; threads <= 3; threads++) {
                galann_context_options o;
                galann_context_options_init(&o);
                o.threads = threads;
                galann_context *c = NULL;
                if (galann_context_new_ex("blas", &o, &c) != GALANN_OK)
                    skip();
                double j64, j8;
                expect_status(galann_cost_gradient(c, model, f64, 1.0, &j64, g64, p), GALANN_OK);
                expect_status(galann_cost_gradient(c, model, u8, 1.0, &j8, g8, p), GALANN_OK);
                if (!(j8 == j64) || memcmp(g8, g64, p * sizeof *g8) != 0)
                    print_error("width %zu, divisor %g, %d threads: u8 cost %.17g, f64 %.17g\n", n, divisor,
                                threads, j8, j64);
                assert_true(j8 == j64);
                assert_memory_equal(g8, g64, p * sizeof *g64);
                if (threads == 1) {
                    j1 = j8;
                    memcpy(g1, g8, p * sizeof *g1);
                    assert_true(fabs(j8 - jref) <= 1e-12 * fabs(jref));
                    assert_true(relative_difference(g8, gref, p) <= 1e-12);
                } else {
                    assert_true(j8 == j1);
                    assert_memory_equal(g8, g1, p * sizeof *g1);
                }
                galann_context_free(c);
            }
            galann_dataset_free(u8);
            galann_dataset_free(f64);
        }
        free(g64);
        free(g8);
        free(g1);
        free(gref);
        galann_model_free(model);
        free(pixels);
        free(labels);
        free(values);
    }
    galann_context_free(reference);
}

static void splits_and_files_keep_the_storage(void **state)
{
    (void)state;
    galann_dataset *d = NULL, *rest = NULL, *held = NULL, *back = NULL;
    expect_status(galann_dataset_synthesize(90, 3, &d), GALANN_OK);
    expect_status(galann_dataset_split(d, 0.2, 1, &rest, &held), GALANN_OK);
    assert_int_equal(galann_dataset_storage(rest), GALANN_STORAGE_U8);
    assert_int_equal(galann_dataset_storage(held), GALANN_STORAGE_U8);
    galann_dataset *slice = NULL;
    expect_status(galann_dataset_slice(d, 10, 5, &slice), GALANN_OK);
    assert_int_equal(galann_dataset_storage(slice), GALANN_STORAGE_U8);
    assert_int_equal(galann_dataset_n_samples(slice), 5);
    assert_memory_equal(galann_dataset_stored_features(slice),
                        (const uint8_t *)galann_dataset_stored_features(d) + 10 * 1024, 5 * 1024);
    assert_memory_equal(galann_dataset_labels(slice), galann_dataset_labels(d) + 10, 5 * sizeof(int32_t));
    galann_dataset_free(slice);
    expect_status(galann_dataset_slice(d, 88, 3, &slice), GALANN_ERR_DIMENSION);
    char path[] = "/tmp/galann-test-storage-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    expect_status(galann_dataset_save_csv(d, path, 255.0), GALANN_OK);
    expect_status(galann_dataset_load_csv(path, &back), GALANN_OK);
    remove(path);
    assert_int_equal(galann_dataset_storage(back), GALANN_STORAGE_U8);
    assert_memory_equal(galann_dataset_stored_features(back), galann_dataset_stored_features(d), 90 * 1024);
    galann_dataset_free(d);
    galann_dataset_free(rest);
    galann_dataset_free(held);
    galann_dataset_free(back);
}

static void the_real_galaxy_files_load_as_u8(void **state)
{
    (void)state;
    char *path = shared_path("data/galaxy/train.csv");
    if (!path) {
        skip_without_data("the galaxy data is not in the shared folder");
        return;
    }
    galann_dataset *d = NULL;
    expect_status(galann_dataset_load_csv(path, &d), GALANN_OK);
    free(path);
    assert_int_equal(galann_dataset_storage(d), GALANN_STORAGE_U8);
    assert_int_equal(galann_dataset_n_samples(d), 2700);
    galann_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pixel_files_load_as_u8_with_the_same_numbers_as_f64),
        cmocka_unit_test(any_other_value_keeps_the_file_lossless_in_f64),
        cmocka_unit_test(a_forced_storage_is_kept_or_refused_with_the_line),
        cmocka_unit_test(constructors_copy_each_storage_and_check_it),
        cmocka_unit_test(every_backend_gives_u8_the_f64_bits_and_f32_within_float_rounding),
        cmocka_unit_test(u8_with_any_divisor_and_row_length_gives_the_f64_bits),
        cmocka_unit_test(splits_and_files_keep_the_storage),
        cmocka_unit_test(the_real_galaxy_files_load_as_u8),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
