/*
 * test-csv.c -- loading datasets from CSV text and files: LF and CRLF,
 * an optional final newline, features scaled as p / 255.0 bit for bit,
 * labels and n_labels, numbers through the slow path; every kind of
 * defect rejected with its status and a "file:line: ..." message; the
 * real galaxy data loaded with the right shape.
 */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

/* A non-NULL value no allocation returns: failures must overwrite it. */
#define NOT_SET ((galann_dataset *)(uintptr_t)0x1)

static char temp_dir[] = "/tmp/galann-test-csv-XXXXXX";

/* ------------------------------------------------------------ helpers */

static int parse_text(const char *text, galann_dataset **out)
{
    return galann_dataset_parse_csv(text, strlen(text), "train.csv", 255.0, out);
}

static galann_dataset *parse_ok(const char *text)
{
    galann_dataset *d = NOT_SET;
    int status = parse_text(text, &d);
    if (status != GALANN_OK) {
        print_error("parsing \"%s\": status %d, message \"%s\"\n", text, status, galann_last_error());
        fail();
    }
    assert_non_null(d);
    return d;
}

/* Parse text, expect status and a message containing every given piece. */
#define expect_parse_error(text, status, ...) \
    expect_parse_error_at(text, status, __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)

static void expect_message_at(const char *what, const char *file, int line, va_list pieces)
{
    const char *message = galann_last_error();
    for (const char *piece = va_arg(pieces, const char *); piece; piece = va_arg(pieces, const char *)) {
        if (!strstr(message, piece)) {
            print_error("%s: message \"%s\" does not contain \"%s\"\n", what, message, piece);
            _fail(file, line);
        }
    }
}

static void expect_parse_error_at(const char *text, int expected, const char *file, int line, ...)
{
    galann_dataset *d = NOT_SET;
    int status = parse_text(text, &d);
    if (status != expected) {
        print_error("parsing \"%s\": status %d (%s), expected %d; message \"%s\"\n", text, status,
                    galann_strerror(status), expected, galann_last_error());
        galann_dataset_free(status == GALANN_OK ? d : NULL);
        _fail(file, line);
    }
    if (d != NULL) {
        print_error("parsing \"%s\" failed but *out was not set to NULL\n", text);
        _fail(file, line);
    }
    va_list pieces;
    va_start(pieces, line);
    expect_message_at(text, file, line, pieces);
    va_end(pieces);
}

static void assert_bitwise_equal_at(double actual, double expected, const char *what, const char *file, int line)
{
    if (memcmp(&actual, &expected, sizeof actual) != 0) {
        print_error("%s: got %.17g, expected %.17g (not bit for bit)\n", what, actual, expected);
        _fail(file, line);
    }
}
#define assert_bitwise_equal(actual, expected, what) \
    assert_bitwise_equal_at(actual, expected, what, __FILE__, __LINE__)

/* Write a file in the temporary folder; the result is malloc'ed. */
static char *write_temp_file(const char *name, const char *content, size_t length)
{
    size_t size = strlen(temp_dir) + strlen(name) + 2;
    char *path = malloc(size);
    assert_non_null(path);
    snprintf(path, size, "%s/%s", temp_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, length, f), length);
    assert_int_equal(fclose(f), 0);
    return path;
}

static int make_temp_dir(void **state)
{
    (void)state;
    return mkdtemp(temp_dir) ? 0 : -1;
}

static int remove_temp_dir(void **state)
{
    (void)state;
    DIR *dir = opendir(temp_dir);
    if (dir) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", temp_dir, e->d_name);
            if (remove(path) != 0)
                rmdir(path);
        }
        closedir(dir);
    }
    rmdir(temp_dir);
    free_galaxy_data();
    return 0;
}

/* --------------------------------------------------------- happy paths */

static const char three_rows_lf[] = "2,0,128,255\n0,1,2,3\n1,10,20,30\n";
static const char three_rows_crlf[] = "2,0,128,255\r\n0,1,2,3\r\n1,10,20,30\r\n";
static const char three_rows_unterminated[] = "2,0,128,255\n0,1,2,3\n1,10,20,30";
static const int32_t three_rows_labels[] = { 2, 0, 1 };
static const double three_rows_pixels[] = { 0, 128, 255, 1, 2, 3, 10, 20, 30 };

static void expect_three_rows(const galann_dataset *d)
{
    assert_int_equal(galann_dataset_n_samples(d), 3);
    assert_int_equal(galann_dataset_n_features(d), 3);
    assert_int_equal(galann_dataset_n_labels(d), 3);
    const int32_t *y = galann_dataset_labels(d);
    const double *x = galann_dataset_features(d);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(y[i], three_rows_labels[i]);
    for (size_t i = 0; i < 9; i++)
        assert_bitwise_equal(x[i], three_rows_pixels[i] / 255.0, "feature");
}

static void lf_rows_give_samples_labels_and_scaled_features(void **state)
{
    (void)state;
    galann_dataset *d = parse_ok(three_rows_lf);
    expect_three_rows(d);
    galann_dataset_free(d);
}

static void crlf_rows_parse_exactly_like_lf(void **state)
{
    (void)state;
    galann_dataset *d = parse_ok(three_rows_crlf);
    expect_three_rows(d);
    galann_dataset_free(d);
}

static void missing_final_newline_keeps_the_last_row(void **state)
{
    (void)state;
    galann_dataset *d = parse_ok(three_rows_unterminated);
    expect_three_rows(d);
    galann_dataset_free(d);
    /* the same for CRLF files without the final line end */
    d = parse_ok("2,0,128,255\r\n0,1,2,3\r\n1,10,20,30");
    expect_three_rows(d);
    galann_dataset_free(d);
}

static void every_pixel_value_is_divided_by_255_bit_for_bit(void **state)
{
    (void)state;
    /* one row holding every pixel value 0..255 */
    char text[2048];
    size_t len = (size_t)snprintf(text, sizeof text, "0");
    for (int p = 0; p <= 255; p++)
        len += (size_t)snprintf(text + len, sizeof text - len, ",%d", p);
    snprintf(text + len, sizeof text - len, "\n");
    galann_dataset *d = parse_ok(text);
    assert_int_equal(galann_dataset_n_samples(d), 1);
    assert_int_equal(galann_dataset_n_features(d), 256);
    const double *x = galann_dataset_features(d);
    for (int p = 0; p <= 255; p++) {
        double expected = p / 255.0;
        if (memcmp(&x[p], &expected, sizeof expected) != 0) {
            print_error("pixel %d: got %.17g, expected %.17g\n", p, x[p], expected);
            fail();
        }
    }
    galann_dataset_free(d);
}

static void n_labels_is_one_more_than_the_largest_label(void **state)
{
    (void)state;
    galann_dataset *d = parse_ok("0,1\n4,2\n1,3\n");
    assert_int_equal(galann_dataset_n_labels(d), 5);
    assert_int_equal(galann_dataset_labels(d)[1], 4);
    galann_dataset_free(d);

    d = parse_ok("0,1\n0,2\n");
    assert_int_equal(galann_dataset_n_labels(d), 1);
    galann_dataset_free(d);

    /* the largest accepted label */
    d = parse_ok("65535,7\n");
    assert_int_equal(galann_dataset_n_labels(d), 65536);
    assert_int_equal(galann_dataset_labels(d)[0], 65535);
    galann_dataset_free(d);

    /* labels written as decimal or exponent integers are classes too */
    d = parse_ok("2.0,1\n1e0,2\n");
    assert_int_equal(galann_dataset_labels(d)[0], 2);
    assert_int_equal(galann_dataset_labels(d)[1], 1);
    assert_int_equal(galann_dataset_n_labels(d), 3);
    galann_dataset_free(d);
}

static void decimal_and_exponent_fields_equal_strtod_over_255(void **state)
{
    (void)state;
    static const char *fields[] = {
        "0.5", "1e2", "2.5E-1", "-3", "+7", "1.25e+1", ".75", "0.1", "255.000",
        "123456789012345",     /* 15 digits: the fast path's limit */
        "1234567890123456",    /* 16 digits: the slow path */
        "12345678901234567",   /* 17 digits: rounds in strtod */
        "0000000000000000042", /* leading zeros past the fast path */
    };
    size_t n = sizeof fields / sizeof fields[0];
    char text[1024];
    size_t len = (size_t)snprintf(text, sizeof text, "1");
    for (size_t j = 0; j < n; j++)
        len += (size_t)snprintf(text + len, sizeof text - len, ",%s", fields[j]);
    snprintf(text + len, sizeof text - len, "\n");
    galann_dataset *d = parse_ok(text);
    assert_int_equal(galann_dataset_n_features(d), n);
    const double *x = galann_dataset_features(d);
    for (size_t j = 0; j < n; j++) {
        double expected = strtod(fields[j], NULL) / 255.0;
        if (memcmp(&x[j], &expected, sizeof expected) != 0) {
            print_error("field \"%s\": got %.17g, expected %.17g\n", fields[j], x[j], expected);
            fail();
        }
    }
    galann_dataset_free(d);
}

static void divisor_one_keeps_values_as_written(void **state)
{
    (void)state;
    const char text[] = "1,128,0.25,-2e3\n";
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_parse_csv(text, strlen(text), NULL, 1.0, &d), GALANN_OK);
    const double *x = galann_dataset_features(d);
    assert_bitwise_equal(x[0], 128.0, "128");
    assert_bitwise_equal(x[1], 0.25, "0.25");
    assert_bitwise_equal(x[2], -2000.0, "-2e3");
    galann_dataset_free(d);
}

/* length, not the NUL, ends the text: what follows is ignored */
static void parse_reads_exactly_length_bytes(void **state)
{
    (void)state;
    const char text[] = "1,2,3\n0,4,5\nGARBAGE";
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_parse_csv(text, 12, "train.csv", 255.0, &d), GALANN_OK);
    assert_int_equal(galann_dataset_n_samples(d), 2);
    assert_bitwise_equal(galann_dataset_features(d)[3], 5 / 255.0, "last feature");
    galann_dataset_free(d);
}

/* A finite subnormal value is a number; the header promises to reject only
 * non-numeric and non-finite fields. */
static void finite_subnormal_field_is_accepted(void **state)
{
    (void)state;
    const char text[] = "0,1e-310\n";
    galann_dataset *d = NOT_SET;
    int status = galann_dataset_parse_csv(text, strlen(text), "train.csv", 1.0, &d);
    if (status != GALANN_OK)
        print_error("status %d, message \"%s\"\n", status, galann_last_error());
    assert_int_equal(status, GALANN_OK);
    assert_bitwise_equal(galann_dataset_features(d)[0], strtod("1e-310", NULL), "1e-310");
    galann_dataset_free(d);
}

/* --------------------------------------------------------------- errors */

static void empty_text_is_a_parse_error_on_line_1(void **state)
{
    (void)state;
    expect_parse_error("", GALANN_ERR_PARSE, "train.csv:1:", "empty");
    /* NULL text of length 0 is the same empty file */
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_parse_csv(NULL, 0, "train.csv", 255.0, &d), GALANN_ERR_PARSE);
    assert_null(d);
    assert_non_null(strstr(galann_last_error(), "train.csv:1:"));
}

static void row_with_too_few_fields_names_its_line_and_counts(void **state)
{
    (void)state;
    expect_parse_error("0,1,2,3\n1,2,3\n", GALANN_ERR_PARSE, "train.csv:2: expected 4 fields, found 3");
    expect_parse_error("0,1,2,3\n1,2,3,4\n2,5\n", GALANN_ERR_PARSE, "train.csv:3: expected 4 fields, found 2");
    expect_parse_error("0,1,2,3\r\n1,2,3\r\n", GALANN_ERR_PARSE, "train.csv:2: expected 4 fields, found 3");
}

static void row_with_too_many_fields_names_its_line_and_counts(void **state)
{
    (void)state;
    expect_parse_error("0,1,2,3\n1,2,3,4,5\n", GALANN_ERR_PARSE, "train.csv:2: expected 4 fields, found 5");
    expect_parse_error("0,1,2,3\n1,2,3,4,5,6,7\n", GALANN_ERR_PARSE, "train.csv:2: expected 4 fields, found 7");
    expect_parse_error("0,1,2,3\r\n1,2,3,4,5\r\n", GALANN_ERR_PARSE, "train.csv:2: expected 4 fields, found 5");
    /* an unterminated last row */
    expect_parse_error("0,1,2,3\n1,2,3,4,5", GALANN_ERR_PARSE, "train.csv:2: expected 4 fields, found 5");
}

static void first_row_without_features_is_rejected(void **state)
{
    (void)state;
    expect_parse_error("1\n2\n", GALANN_ERR_PARSE, "train.csv:1:");
}

static void non_numeric_field_is_rejected_with_field_number(void **state)
{
    (void)state;
    expect_parse_error("0,1,2\n1,2,x7\n", GALANN_ERR_PARSE, "train.csv:2: field 3", "not a number", "x7");
    expect_parse_error("0,1,2\n1,2a,7\n", GALANN_ERR_PARSE, "train.csv:2: field 2", "not a number");
    expect_parse_error("0, 1,2\n", GALANN_ERR_PARSE, "train.csv:1: field 2");
    expect_parse_error("0,0x10,2\n", GALANN_ERR_PARSE, "train.csv:1: field 2");
    expect_parse_error("0,1.2.3,2\n", GALANN_ERR_PARSE, "train.csv:1: field 2");
    expect_parse_error("0,-,2\n", GALANN_ERR_PARSE, "train.csv:1: field 2");
    expect_parse_error("0,\"5\",2\n", GALANN_ERR_PARSE, "train.csv:1: field 2");
    /* an empty field */
    expect_parse_error("0,1,,3\n", GALANN_ERR_PARSE, "train.csv:1: field 3", "empty");
    expect_parse_error("0,1,2\n1,2,\n", GALANN_ERR_PARSE, "train.csv:2: field 3", "empty");
}

static void nan_and_infinite_fields_are_rejected(void **state)
{
    (void)state;
    static const char *rows[] = {
        "0,NaN,1\n", "0,nan,1\n", "0,Inf,1\n", "0,inf,1\n", "0,-inf,1\n",
        "0,infinity,1\n", "0,1e999,1\n", "0,-1e999,1\n", "0,1e400,1\n",
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        expect_parse_error(rows[i], GALANN_ERR_PARSE, "train.csv:1: field 2");
    /* the same on a later line and in the last column */
    expect_parse_error("0,1,2\n1,2,3\n1,2,nan\n", GALANN_ERR_PARSE, "train.csv:3: field 3");
    expect_parse_error("0,1,2\n1,2,1e999\n", GALANN_ERR_PARSE, "train.csv:2: field 3");
}

static void labels_that_are_not_small_non_negative_integers_are_rejected(void **state)
{
    (void)state;
    expect_parse_error("-1,2,3\n", GALANN_ERR_PARSE, "train.csv:1:", "\"-1\"");
    expect_parse_error("1.5,2,3\n", GALANN_ERR_PARSE, "train.csv:1:", "\"1.5\"");
    expect_parse_error("abc,2,3\n", GALANN_ERR_PARSE, "train.csv:1:", "\"abc\"");
    expect_parse_error("70000,2,3\n", GALANN_ERR_PARSE, "train.csv:1:", "\"70000\"");
    expect_parse_error("65536,2,3\n", GALANN_ERR_PARSE, "train.csv:1:", "\"65536\"");
    expect_parse_error("nan,2,3\n", GALANN_ERR_PARSE, "train.csv:1:");
    expect_parse_error("1e999,2,3\n", GALANN_ERR_PARSE, "train.csv:1:");
    expect_parse_error(",2,3\n", GALANN_ERR_PARSE, "train.csv:1:");
    /* on a later line */
    expect_parse_error("0,2,3\n1,2,3\n-2,2,3\n", GALANN_ERR_PARSE, "train.csv:3:", "\"-2\"");
    expect_parse_error("0,2,3\r\n2.5,2,3\r\n", GALANN_ERR_PARSE, "train.csv:2:", "\"2.5\"");
}

static void empty_line_in_the_middle_is_rejected(void **state)
{
    (void)state;
    expect_parse_error("0,1\n\n1,2\n", GALANN_ERR_PARSE, "train.csv:2: empty line");
    expect_parse_error("0,1\r\n1,2\r\n\r\n1,2\r\n", GALANN_ERR_PARSE, "train.csv:3: empty line");
}

static void error_on_line_3_of_a_crlf_file_names_line_3(void **state)
{
    (void)state;
    expect_parse_error("0,1,2\r\n1,3,4\r\n2,5,oops\r\n1,2,3\r\n", GALANN_ERR_PARSE, "train.csv:3: field 3",
                       "oops");
    expect_parse_error("0,1,2\r\n1,3,4\r\n2,5\r\n", GALANN_ERR_PARSE, "train.csv:3: expected 3 fields, found 2");
    expect_parse_error("0,1,2\r\n1,3,4\r\n2,5,6,7\r\n", GALANN_ERR_PARSE, "train.csv:3: expected 3 fields, found 4");
}

static void unnamed_text_is_called_memory_in_messages(void **state)
{
    (void)state;
    const char text[] = "0,1\n1,x\n";
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_parse_csv(text, strlen(text), NULL, 255.0, &d), GALANN_ERR_PARSE);
    assert_null(d);
    assert_non_null(strstr(galann_last_error(), "<memory>:2:"));
}

static void parse_rejects_null_and_unusable_arguments(void **state)
{
    (void)state;
    const char text[] = "0,1\n";
    assert_int_equal(galann_dataset_parse_csv(text, 4, "train.csv", 255.0, NULL), GALANN_ERR_INVALID);
    assert_true(strlen(galann_last_error()) > 0);

    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_parse_csv(NULL, 4, "train.csv", 255.0, &d), GALANN_ERR_INVALID);
    assert_null(d);

    static const double bad_divisors[] = { 0.0, -0.0, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad_divisors / sizeof bad_divisors[0]; i++) {
        d = NOT_SET;
        assert_int_equal(galann_dataset_parse_csv(text, 4, "train.csv", bad_divisors[i], &d), GALANN_ERR_INVALID);
        assert_null(d);
    }
}

/* ----------------------------------------------------------- from files */

static void load_csv_reads_a_file_like_parse_csv(void **state)
{
    (void)state;
    char *path = write_temp_file("train.csv", three_rows_crlf, strlen(three_rows_crlf));
    galann_dataset *d = NOT_SET;
    int status = galann_dataset_load_csv(path, &d);
    if (status != GALANN_OK)
        print_error("%s: %s\n", path, galann_last_error());
    assert_int_equal(status, GALANN_OK);
    expect_three_rows(d);
    galann_dataset_free(d);

    /* no final newline */
    char *path2 = write_temp_file("short.csv", three_rows_unterminated, strlen(three_rows_unterminated));
    assert_int_equal(galann_dataset_load_csv(path2, &d), GALANN_OK);
    expect_three_rows(d);
    galann_dataset_free(d);
    remove(path);
    remove(path2);
    free(path);
    free(path2);
}

static void load_csv_of_an_empty_file_is_a_parse_error(void **state)
{
    (void)state;
    char *path = write_temp_file("train.csv", "", 0);
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_load_csv(path, &d), GALANN_ERR_PARSE);
    assert_null(d);
    char expected[4200];
    snprintf(expected, sizeof expected, "%s:1:", path);
    if (!strstr(galann_last_error(), expected)) {
        print_error("message \"%s\" does not contain \"%s\"\n", galann_last_error(), expected);
        fail();
    }
    remove(path);
    free(path);
}

static void load_csv_messages_name_the_file_and_line(void **state)
{
    (void)state;
    const char text[] = "0,1,2,3\n1,2,3\n";
    char *path = write_temp_file("train.csv", text, strlen(text));
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_load_csv(path, &d), GALANN_ERR_PARSE);
    assert_null(d);
    char expected[4200];
    snprintf(expected, sizeof expected, "%s:2: expected 4 fields, found 3", path);
    if (!strstr(galann_last_error(), expected)) {
        print_error("message \"%s\" does not contain \"%s\"\n", galann_last_error(), expected);
        fail();
    }

    const char crlf[] = "0,1\r\n1,2\r\n2,nan\r\n";
    char *path2 = write_temp_file("crlf.csv", crlf, strlen(crlf));
    assert_int_equal(galann_dataset_load_csv(path2, &d), GALANN_ERR_PARSE);
    assert_non_null(strstr(galann_last_error(), "crlf.csv:3: field 2"));
    remove(path);
    remove(path2);
    free(path);
    free(path2);
}

static void load_csv_of_a_missing_file_is_an_io_error(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/no-such-file.csv", temp_dir);
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_load_csv(path, &d), GALANN_ERR_IO);
    assert_null(d);
    if (!strstr(galann_last_error(), path)) {
        print_error("message \"%s\" does not name %s\n", galann_last_error(), path);
        fail();
    }
}

/* A directory opens with fopen on Linux but cannot be read as a file. The
 * call runs in a child process so that a crash (an allocation of the
 * directory's "size" under a sanitizer) fails this test only. */
static void load_csv_of_a_directory_is_an_io_error(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        galann_dataset *d = NOT_SET;
        int status = galann_dataset_load_csv(temp_dir, &d);
        fprintf(stderr, "child: status %d, message \"%s\"\n", status, galann_last_error());
        _exit(d == NULL ? 100 + status : 99);
    }
    int wstatus = 0;
    assert_int_equal(waitpid(child, &wstatus, 0), child);
    if (WIFSIGNALED(wstatus)) {
        print_error("loading a directory killed the process with signal %d\n", WTERMSIG(wstatus));
        fail();
    }
    int code = WEXITSTATUS(wstatus);
    if (code != 100 + GALANN_ERR_IO) {
        if (code >= 100)
            print_error("loading a directory gave status %d (%s), expected GALANN_ERR_IO\n", code - 100,
                        galann_strerror(code - 100));
        else
            print_error("loading a directory: the child exited with %d (crash or *out not NULL)\n", code);
        fail();
    }
}

static void load_csv_rejects_null_arguments(void **state)
{
    (void)state;
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_load_csv(NULL, &d), GALANN_ERR_INVALID);
    assert_null(d);
    assert_int_equal(galann_dataset_load_csv("/tmp/x.csv", NULL), GALANN_ERR_INVALID);
    assert_true(strlen(galann_last_error()) > 0);
}

/* ----------------------------------------------------------- real data */

static void check_galaxy_set(const galann_dataset *d, size_t samples, size_t per_class, double first_pixel,
                             int32_t first_label)
{
    assert_int_equal(galann_dataset_n_samples(d), samples);
    assert_int_equal(galann_dataset_n_features(d), 1024);
    assert_int_equal(galann_dataset_n_labels(d), 3);
    const int32_t *y = galann_dataset_labels(d);
    size_t counts[3] = { 0, 0, 0 };
    for (size_t i = 0; i < samples; i++) {
        assert_in_range(y[i], 0, 2);
        counts[y[i]]++;
    }
    for (int c = 0; c < 3; c++) {
        if (counts[c] != per_class) {
            print_error("class %d: %zu samples, expected %zu\n", c, counts[c], per_class);
            fail();
        }
    }
    assert_int_equal(y[0], first_label);
    const double *x = galann_dataset_features(d);
    assert_bitwise_equal(x[0], first_pixel, "first pixel of the first row");
    for (size_t i = 0; i < samples * 1024; i++) {
        if (!(x[i] >= 0.0 && x[i] <= 1.0)) {
            print_error("feature %zu = %.17g is not a pixel / 255\n", i, x[i]);
            fail();
        }
    }
}

static void galaxy_train_has_2700_samples_900_per_class(void **state)
{
    (void)state;
    const galann_dataset *d = galaxy_train();
    if (!d) {
        skip_without_data("the galaxy data is not under %s/data/galaxy (train.csv and test.csv)", shared_root());
    }
    /* the file starts "0,243,239,..." */
    check_galaxy_set(d, 2700, 900, 243 / 255.0, 0);
}

static void galaxy_test_has_675_samples_225_per_class(void **state)
{
    (void)state;
    char *path = shared_path("data/galaxy/test.csv");
    if (!path) {
        skip_without_data("%s/data/galaxy/test.csv is not there", shared_root());
    }
    galann_dataset *d = NOT_SET;
    int status = galann_dataset_load_csv(path, &d);
    if (status != GALANN_OK)
        print_error("%s\n", galann_last_error());
    free(path);
    assert_int_equal(status, GALANN_OK);
    /* the file starts "0,248,244,..." */
    check_galaxy_set(d, 675, 225, 248 / 255.0, 0);
    galann_dataset_free(d);
}

/* A feature that only overflows once scaled breaks the dataset's promise
 * of finite numbers: refused with the line and field. */
static void feature_infinite_after_scaling_is_rejected(void **state)
{
    (void)state;
    galann_dataset *d = NOT_SET;
    const char text[] = "0,1\n1,1e308\n";
    assert_int_equal(galann_dataset_parse_csv(text, strlen(text), "train.csv", 0.5, &d), GALANN_ERR_PARSE);
    assert_null(d);
    assert_non_null(strstr(galann_last_error(), "train.csv:2: field 2 is out of range once divided by 0.5"));
}

/* A wide first line followed by many empty lines must be reported as the
 * parse error it is, not attempted as a huge allocation. */
static void wide_line_then_empty_lines_is_a_parse_error_without_a_huge_allocation(void **state)
{
    (void)state;
    size_t fields = 20000, empty = 20000;
    size_t length = 2 * fields + empty;
    char *text = malloc(length);
    assert_non_null(text);
    for (size_t i = 0; i < fields; i++) {
        text[2 * i] = '1';
        text[2 * i + 1] = ',';
    }
    text[2 * fields - 1] = '\n';
    memset(text + 2 * fields, '\n', empty);
    galann_dataset *d = NOT_SET;
    assert_int_equal(galann_dataset_parse_csv(text, length, "wide.csv", 255.0, &d), GALANN_ERR_PARSE);
    assert_null(d);
    assert_non_null(strstr(galann_last_error(), "wide.csv:2: empty line"));
    free(text);
}

/* A file whose last line ends in a lone CR still parses, and only its
 * bytes are read (ASan would see a step past the end). */
static void lone_carriage_return_at_the_end_is_a_line_end(void **state)
{
    (void)state;
    char *text = malloc(8);
    assert_non_null(text);
    memcpy(text, "1,2,3\r\n2", 8);
    galann_dataset *d = NULL;
    assert_int_equal(galann_dataset_parse_csv(text, 6, "cr.csv", 1.0, &d), GALANN_OK);
    assert_int_equal(galann_dataset_n_samples(d), 1);
    assert_true(galann_dataset_features(d)[1] == 3.0);
    galann_dataset_free(d);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lf_rows_give_samples_labels_and_scaled_features),
        cmocka_unit_test(crlf_rows_parse_exactly_like_lf),
        cmocka_unit_test(missing_final_newline_keeps_the_last_row),
        cmocka_unit_test(every_pixel_value_is_divided_by_255_bit_for_bit),
        cmocka_unit_test(n_labels_is_one_more_than_the_largest_label),
        cmocka_unit_test(decimal_and_exponent_fields_equal_strtod_over_255),
        cmocka_unit_test(divisor_one_keeps_values_as_written),
        cmocka_unit_test(parse_reads_exactly_length_bytes),
        cmocka_unit_test(finite_subnormal_field_is_accepted),
        cmocka_unit_test(empty_text_is_a_parse_error_on_line_1),
        cmocka_unit_test(row_with_too_few_fields_names_its_line_and_counts),
        cmocka_unit_test(row_with_too_many_fields_names_its_line_and_counts),
        cmocka_unit_test(first_row_without_features_is_rejected),
        cmocka_unit_test(non_numeric_field_is_rejected_with_field_number),
        cmocka_unit_test(nan_and_infinite_fields_are_rejected),
        cmocka_unit_test(labels_that_are_not_small_non_negative_integers_are_rejected),
        cmocka_unit_test(empty_line_in_the_middle_is_rejected),
        cmocka_unit_test(error_on_line_3_of_a_crlf_file_names_line_3),
        cmocka_unit_test(unnamed_text_is_called_memory_in_messages),
        cmocka_unit_test(parse_rejects_null_and_unusable_arguments),
        cmocka_unit_test(load_csv_reads_a_file_like_parse_csv),
        cmocka_unit_test(load_csv_of_an_empty_file_is_a_parse_error),
        cmocka_unit_test(load_csv_messages_name_the_file_and_line),
        cmocka_unit_test(load_csv_of_a_missing_file_is_an_io_error),
        cmocka_unit_test(load_csv_of_a_directory_is_an_io_error),
        cmocka_unit_test(load_csv_rejects_null_arguments),
        cmocka_unit_test(galaxy_train_has_2700_samples_900_per_class),
        cmocka_unit_test(galaxy_test_has_675_samples_225_per_class),
        cmocka_unit_test(feature_infinite_after_scaling_is_rejected),
        cmocka_unit_test(wide_line_then_empty_lines_is_a_parse_error_without_a_huge_allocation),
        cmocka_unit_test(lone_carriage_return_at_the_end_is_a_line_end),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, make_temp_dir, remove_temp_dir));
}
