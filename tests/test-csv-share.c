/*
 * test-csv-share.c -- reading a share of a CSV file, as data-parallel
 * processes do: galann_csv_count_rows over byte ranges and
 * galann_dataset_load_csv_rows from an offset, against the whole-file
 * reader, for every split point, line ends with and without CR, files
 * with and without a final newline, and errors that name the file's line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

#define ROWS 23
#define FEATURES 5

/* A small CSV in a temporary file: ROWS rows of a label and FEATURES
 * pixels, line ends "\n" or "\r\n", with or without the final one. */
static char *write_csv(const char *line_end, int final_newline, size_t *bytes)
{
    char *path = strdup("/tmp/galann-share-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    for (int i = 0; i < ROWS; i++) {
        fprintf(f, "%d", i % 3);
        for (int j = 0; j < FEATURES; j++)
            fprintf(f, ",%d", (i * 37 + j * 11) % 256);
        if (i + 1 < ROWS || final_newline)
            fputs(line_end, f);
    }
    *bytes = (size_t)ftell(f);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void rows_split_at_every_byte_add_up_to_the_file(const char *line_end, int final_newline)
{
    size_t size;
    char *path = write_csv(line_end, final_newline, &size);
    uint64_t all = 0;
    expect_status(galann_csv_count_rows(path, 0, size, &all), GALANN_OK);
    assert_int_equal(all, ROWS);
    for (size_t b = 0; b <= size; b++) {
        uint64_t left = 99, right = 99;
        expect_status(galann_csv_count_rows(path, 0, b, &left), GALANN_OK);
        expect_status(galann_csv_count_rows(path, b, size + 10, &right), GALANN_OK);
        if (left + right != ROWS)
            fail_msg("split at byte %zu: %llu + %llu rows, not %d", b, (unsigned long long)left,
                     (unsigned long long)right, ROWS);
    }
    unlink(path);
    free(path);
}

static void counted_rows_add_up_for_every_split(void **state)
{
    (void)state;
    rows_split_at_every_byte_add_up_to_the_file("\n", 1);
    rows_split_at_every_byte_add_up_to_the_file("\n", 0);
    rows_split_at_every_byte_add_up_to_the_file("\r\n", 1);
}

/* Every (offset, first, count) the way galann_mpi_load_csv asks for them
 * gives exactly the whole reader's rows. */
static void shares_equal_the_whole_file(const char *line_end, int final_newline)
{
    size_t size;
    char *path = write_csv(line_end, final_newline, &size);
    galann_dataset *whole = NULL;
    expect_status(galann_dataset_load_csv(path, &whole), GALANN_OK);
    const double *x = galann_dataset_features(whole);
    const int32_t *y = galann_dataset_labels(whole);
    for (size_t offset = 0; offset < size; offset++) {
        uint64_t before = 0;
        expect_status(galann_csv_count_rows(path, 0, offset, &before), GALANN_OK);
        for (uint64_t first = before; first < ROWS; first += 3) {
            uint64_t count = ROWS - first < 4 ? ROWS - first : 4;
            galann_dataset *share = NULL;
            expect_status(galann_dataset_load_csv_rows(path, offset, before, first, count, &share), GALANN_OK);
            assert_int_equal(galann_dataset_n_samples(share), count);
            assert_int_equal(galann_dataset_n_features(share), FEATURES);
            assert_memory_equal(galann_dataset_features(share), x + first * FEATURES,
                                count * FEATURES * sizeof(double));
            assert_memory_equal(galann_dataset_labels(share), y + first, count * sizeof(int32_t));
            galann_dataset_free(share);
        }
    }
    galann_dataset_free(whole);
    unlink(path);
    free(path);
}

static void shares_read_from_any_offset_equal_the_whole_file(void **state)
{
    (void)state;
    shares_equal_the_whole_file("\n", 1);
    shares_equal_the_whole_file("\n", 0);
    shares_equal_the_whole_file("\r\n", 0);
}

static void share_errors_name_the_files_line(void **state)
{
    (void)state;
    size_t size;
    char *path = write_csv("\n", 1, &size);
    /* row 15 (line 16) gets a bad field */
    FILE *f = fopen(path, "rb");
    char *text = malloc(size + 16);
    assert_int_equal(fread(text, 1, size, f), size);
    fclose(f);
    size_t line = 1, at = 0;
    while (line < 16)
        line += text[at++] == '\n';
    text[at + 2] = 'x';
    f = fopen(path, "wb");
    assert_int_equal(fwrite(text, 1, size, f), size);
    fclose(f);
    free(text);

    galann_dataset *d = NULL;
    expect_status(galann_dataset_load_csv_rows(path, 0, 0, 12, 6, &d), GALANN_ERR_PARSE);
    assert_null(d);
    char want[64];
    snprintf(want, sizeof want, ":16:");
    if (!strstr(galann_last_error(), want))
        fail_msg("message \"%s\" does not name line 16", galann_last_error());
    /* rows before the bad one load */
    expect_status(galann_dataset_load_csv_rows(path, 0, 0, 10, 5, &d), GALANN_OK);
    galann_dataset_free(d);
    /* more rows than the file has */
    expect_status(galann_dataset_load_csv_rows(path, 0, 0, 20, 10, &d), GALANN_ERR_PARSE);
    assert_null(d);
    /* misuse */
    expect_status(galann_dataset_load_csv_rows(path, 0, 5, 2, 1, &d), GALANN_ERR_INVALID);
    expect_status(galann_dataset_load_csv_rows(path, 0, 0, 2, 0, &d), GALANN_ERR_INVALID);
    uint64_t rows;
    expect_status(galann_csv_count_rows("/nonexistent/x.csv", 0, 10, &rows), GALANN_ERR_IO);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counted_rows_add_up_for_every_split),
        cmocka_unit_test(shares_read_from_any_offset_equal_the_whole_file),
        cmocka_unit_test(share_errors_name_the_files_line),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
