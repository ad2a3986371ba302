/*
 * test-csv-options.c -- galann_dataset_load_csv_with and
 * galann_dataset_parse_csv_with: a header line skipped (asked for, or
 * detected because a field of the first line is not a number), rows of
 * pixels only (no label column), another divisor; the file reader (with
 * chunks small enough to split every line) and the memory reader agree
 * bit for bit and in their messages, whose line numbers count the header;
 * bad options are refused.
 *
 * Not here: the grammar of numbers and labels (test-csv-grammar.c), the
 * plain readers (test-csv.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"
#include "csv.h"

static char temp_dir[] = "/tmp/galann-test-csv-options-XXXXXX";
static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 0 /* the default */ };

typedef struct read_result {
    int status;
    galann_dataset *d;
    char message[512];
} read_result;

/* The message without the function's name (the two readers' differ). */
static const char *message_without_function(void)
{
    const char *m = galann_last_error();
    if (strncmp(m, "galann_dataset_", 15) == 0 && strstr(m, ": "))
        return strstr(m, ": ") + 2;
    return m;
}

static read_result parse_with(const char *text, const galann_csv_options *o)
{
    read_result r = { 0, NULL, "" };
    r.status = galann_dataset_parse_csv_with(text, strlen(text), "data.csv", o, &r.d);
    snprintf(r.message, sizeof r.message, "%s", message_without_function());
    return r;
}

static read_result load_with(const char *text, const galann_csv_options *o, size_t chunk)
{
    char path[256];
    snprintf(path, sizeof path, "%s/data.csv", temp_dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    read_result r = { 0, NULL, "" };
    r.status = chunk ? galann_csv_load_file_laid_out(path, o, chunk, &r.d) : galann_dataset_load_csv_with(path, o, &r.d);
    /* messages name the file by its path: compare them by what follows */
    const char *m = message_without_function(), *tail = strstr(m, "data.csv");
    snprintf(r.message, sizeof r.message, "%s", tail ? tail : m);
    return r;
}

static void assert_same_dataset(const galann_dataset *a, const galann_dataset *b)
{
    size_t m = galann_dataset_n_samples(a), n = galann_dataset_n_features(a);
    assert_int_equal(galann_dataset_n_samples(b), m);
    assert_int_equal(galann_dataset_n_features(b), n);
    assert_int_equal(galann_dataset_n_labels(b), galann_dataset_n_labels(a));
    assert_memory_equal(galann_dataset_features(a), galann_dataset_features(b), m * n * sizeof(double));
    assert_memory_equal(galann_dataset_labels(a), galann_dataset_labels(b), m * sizeof(int32_t));
}

/* Both readers, every chunk size: the same status, dataset and message. */
static read_result read_everywhere(const char *text, const galann_csv_options *o)
{
    read_result memory = parse_with(text, o);
    for (size_t i = 0; i < sizeof chunk_sizes / sizeof chunk_sizes[0]; i++) {
        read_result file = load_with(text, o, chunk_sizes[i]);
        if (file.status != memory.status || (memory.status != GALANN_OK && strcmp(file.message, memory.message) != 0)) {
            print_error("chunk %zu: file status %d \"%s\", memory status %d \"%s\"\n", chunk_sizes[i], file.status,
                        file.message, memory.status, memory.message);
            fail();
        }
        if (memory.status == GALANN_OK)
            assert_same_dataset(memory.d, file.d);
        galann_dataset_free(file.d);
    }
    return memory;
}

static void a_header_line_is_skipped_when_asked_or_detected(void **state)
{
    (void)state;
    const char *with_header = "label,p1,p2\r\n2,0,255\n0,51,102\n";
    const char *without = "2,0,255\n0,51,102\n";
    read_result plain = read_everywhere(without, NULL);
    assert_int_equal(plain.status, GALANN_OK);

    galann_csv_options o;
    galann_csv_options_init(&o);
    assert_int_equal(o.header, 0);
    assert_int_equal(o.labelled, 1);
    assert_true(o.divisor == 255.0);
    /* by default, a header is data, and not a number */
    read_result as_data = read_everywhere(with_header, &o);
    assert_int_equal(as_data.status, GALANN_ERR_PARSE);
    assert_string_equal(as_data.message, "data.csv:1: field 1 is not a number (\"label\")");

    int headers[] = { 1, -1 };
    for (size_t i = 0; i < 2; i++) {
        o.header = headers[i];
        read_result r = read_everywhere(with_header, &o);
        assert_int_equal(r.status, GALANN_OK);
        assert_same_dataset(r.d, plain.d);
        assert_true(galann_dataset_features(r.d)[1] == 1.0 && galann_dataset_features(r.d)[2] == 51.0 / 255.0);
        galann_dataset_free(r.d);
    }
    /* detection leaves a numeric first line alone */
    o.header = -1;
    read_result detected_none = read_everywhere(without, &o);
    assert_int_equal(detected_none.status, GALANN_OK);
    assert_same_dataset(detected_none.d, plain.d);
    galann_dataset_free(detected_none.d);
    galann_dataset_free(plain.d);
}

static void messages_count_the_header_line(void **state)
{
    (void)state;
    galann_csv_options o;
    galann_csv_options_init(&o);
    o.header = 1;
    read_result r = read_everywhere("a,b,c\n1,2,3\n1,2\n", &o);
    assert_int_equal(r.status, GALANN_ERR_PARSE);
    assert_string_equal(r.message, "data.csv:3: expected 3 fields, found 2");
    r = read_everywhere("a,b,c\n1,2,x\n", &o);
    assert_string_equal(r.message, "data.csv:2: field 3 is not a number (\"x\")");
    r = read_everywhere("a,b,c\n", &o);
    assert_int_equal(r.status, GALANN_ERR_PARSE);
    assert_string_equal(r.message, "data.csv:2: no rows after the header");
}

static void rows_of_pixels_only_have_no_label(void **state)
{
    (void)state;
    galann_csv_options o;
    galann_csv_options_init(&o);
    o.labelled = 0;
    read_result r = read_everywhere("0,255,51\n102,0,0\n", &o);
    assert_int_equal(r.status, GALANN_OK);
    assert_int_equal(galann_dataset_n_samples(r.d), 2);
    assert_int_equal(galann_dataset_n_features(r.d), 3);
    assert_int_equal(galann_dataset_n_labels(r.d), 1);
    const double expected[6] = { 0.0, 1.0, 51.0 / 255.0, 102.0 / 255.0, 0.0, 0.0 };
    assert_memory_equal(galann_dataset_features(r.d), expected, sizeof expected);
    assert_int_equal(galann_dataset_labels(r.d)[1], 0);
    galann_dataset_free(r.d);
    /* the same rows with a label column are one feature short */
    read_result labelled = read_everywhere("0,255,51\n102,0,0\n", NULL);
    assert_int_equal(galann_dataset_n_features(labelled.d), 2);
    galann_dataset_free(labelled.d);
    /* field numbers in messages are the file's */
    r = read_everywhere("0,255,51\n102,0\n", &o);
    assert_string_equal(r.message, "data.csv:2: expected 3 fields, found 2");
    r = read_everywhere("0,x,51\n", &o);
    assert_string_equal(r.message, "data.csv:1: field 2 is not a number (\"x\")");
    /* one field per row is a valid unlabelled row */
    r = read_everywhere("7\n8\n", &o);
    assert_int_equal(r.status, GALANN_OK);
    assert_int_equal(galann_dataset_n_features(r.d), 1);
    galann_dataset_free(r.d);
}

static void another_divisor_scales_every_feature(void **state)
{
    (void)state;
    galann_csv_options o;
    galann_csv_options_init(&o);
    o.divisor = 1.0;
    read_result r = read_everywhere("1,0.25,0.5\n0,1,0\n", &o);
    assert_int_equal(r.status, GALANN_OK);
    const double expected[4] = { 0.25, 0.5, 1.0, 0.0 };
    assert_memory_equal(galann_dataset_features(r.d), expected, sizeof expected);
    galann_dataset_free(r.d);
}

static void bad_options_are_refused(void **state)
{
    (void)state;
    galann_csv_options o;
    read_result r;
    galann_csv_options_init(&o);
    o.struct_size = 0;
    r = read_everywhere("1,2\n", &o);
    assert_int_equal(r.status, GALANN_ERR_INVALID);
    assert_non_null(strstr(r.message, "struct_size 0 is not valid"));
    galann_csv_options_init(&o);
    o.header = 2;
    r = read_everywhere("1,2\n", &o);
    assert_non_null(strstr(r.message, "header must be -1 (detect), 0 or 1, got 2"));
    galann_csv_options_init(&o);
    o.labelled = 5;
    r = read_everywhere("1,2\n", &o);
    assert_non_null(strstr(r.message, "labelled must be 0 or 1, got 5"));
    galann_csv_options_init(&o);
    o.divisor = 0.0;
    r = read_everywhere("1,2\n", &o);
    assert_non_null(strstr(r.message, "divisor 0 is not usable"));
    /* a shorter struct (an older program's) is read as far as it goes */
    galann_csv_options_init_size(&o, offsetof(galann_csv_options, header));
    r = read_everywhere("1,51\n", &o);
    assert_int_equal(r.status, GALANN_OK);
    assert_true(galann_dataset_features(r.d)[0] == 51.0 / 255.0);
    galann_dataset_free(r.d);
}

static int make_temp_dir(void **state)
{
    (void)state;
    return mkdtemp(temp_dir) ? 0 : -1;
}

static int remove_temp_dir(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/data.csv", temp_dir);
    unlink(path);
    return rmdir(temp_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_header_line_is_skipped_when_asked_or_detected),
        cmocka_unit_test(messages_count_the_header_line),
        cmocka_unit_test(rows_of_pixels_only_have_no_label),
        cmocka_unit_test(another_divisor_scales_every_feature),
        cmocka_unit_test(bad_options_are_refused),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, make_temp_dir, remove_temp_dir));
}
