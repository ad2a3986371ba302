/*
 * test-csv-grammar.c -- the grammar of a CSV field, one table row per
 * field: which numbers and labels the readers accept, with the value each
 * must give, and which they reject, with the line and field named and the
 * text quoted in the message.
 *
 * A feature is a decimal number as strtod reads it, written with the
 * characters 0-9 + - . e E only, at most 63 of them, the whole field, and
 * finite (an underflow to a subnormal or zero is a number); a label is
 * such a number that is a whole number in 0..65535. The expected values
 * are written here as C constants, so the table does not depend on either
 * reader or on strtod; each field is read in several places of a row
 * (middle, last before LF, before CRLF, at the end of the text) by the
 * in-memory reader and by the chunked file reader with tiny and default
 * chunks.
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
#include "csv.h"
#include "support.h"

typedef struct number_case {
    const char *field;
    double value;
} number_case;

typedef struct label_case {
    const char *field;
    int32_t label;
} label_case;

/* 63 characters: the longest field the reader takes; 64: one too many */
#define ZEROS_62 "00000000000000000000000000000000000000000000000000000000000000"
#define LONGEST_FIELD ZEROS_62 "1"
#define TOO_LONG_FIELD "0" ZEROS_62 "1"

static const number_case accepted_numbers[] = {
    { "0", 0.0 },
    { "7", 7.0 },
    { "255", 255.0 },
    { "007", 7.0 },
    { "-0", -0.0 },
    { "+3", 3.0 },
    { "-3", -3.0 },
    { "1.", 1.0 },
    { ".5", 0.5 },
    { "+.5", 0.5 },
    { "-.25", -0.25 },
    { "1.5", 1.5 },
    { "0.1", 0.1 },
    { "255.000", 255.0 },
    { "3.14159265358979323846", 3.14159265358979323846 },
    { "1e5", 1e5 },
    { "1E5", 1e5 },
    { "1e+5", 1e5 },
    { "1e-5", 1e-5 },
    { "1.e2", 100.0 },
    { "2.5E-3", 2.5e-3 },
    { "-1.25e+2", -125.0 },
    { "1e308", 1e308 },
    { "1e-310", 1e-310 },            /* subnormal */
    { "1e-400", 0.0 },               /* underflows to zero: a number */
    { "123456789012345", 123456789012345.0 },           /* 15 digits: the fast path */
    { "1234567890123456", 1234567890123456.0 },         /* 16 digits */
    { "12345678901234567", 12345678901234567.0 },       /* 17 digits: rounds */
    { "99999999999999999999", 99999999999999999999.0 }, /* 20 digits: beyond 64-bit integers */
    { "0000000000000000042", 42.0 },
    { LONGEST_FIELD, 1.0 },
};

static const char *const rejected_numbers[] = {
    /* one character too many after a number */
    "12-", "1.5e", "3+", "1e5.", "1-", "5e-", "1e+", "1E", "7.5.", "2ee1", "1e5e5", "1e5.5", "9x",
    /* signs, points and exponents without digits */
    "+", "-", ".", "+.", "-.", "e5", "E5", ".e1", "-.e1", "e", "+e1",
    /* doubled or misplaced signs and points */
    "+-1", "-+1", "--1", "++1", "1..2", "1.2.3", "1+1", "1-1", "1e+-1",
    /* spaces, other characters, other notations */
    " 1", "1 ", "\t1", "1\t", "1 2", "0x10", "0x1p3", "1_000", "1d5", "1f", "1L", "0b1", "1/2", "\"1\"", "'1'",
    "\xd9\xa1", /* ARABIC-INDIC DIGIT ONE */
    /* not finite */
    "nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e309",
    /* empty, and one character too long */
    "", TOO_LONG_FIELD,
};

static const label_case accepted_labels[] = {
    { "0", 0 },     { "1", 1 },     { "2", 2 },       { "65535", 65535 }, { "007", 7 },   { "2.0", 2 },
    { "1e0", 1 },   { "1e1", 10 },  { "1.e1", 10 },   { "+1", 1 },        { "-0", 0 },    { "0.0", 0 },
    { "2.", 2 },    { "6.5535e4", 65535 },
};

static const char *const rejected_labels[] = {
    "-1", "1.5", "0.5", "-0.5", "1e-1", "65536", "70000", "1e5", "4294967296", "-65536", "9999999999999999",
    "12-", "3+", "1.5e", "1e5.", "2 ", " 2", "abc", "", "nan", "inf", "1e999", "0x1",
};

#define COUNT(a) (sizeof a / sizeof a[0])

/* --------------------------------------------------------- the readers */

/* chunk sizes for the file reader: every boundary inside a field, and the
 * default (0 = 4 MiB) */
static const size_t chunk_sizes[] = { 1, 3, 0 };

typedef struct read_result {
    int status;
    char message[512];
    galann_dataset *d;
} read_result;

static read_result read_in_memory(const char *text)
{
    read_result r;
    r.d = NULL;
    r.status = galann_dataset_parse_csv(text, strlen(text), "grammar.csv", 255.0, &r.d);
    snprintf(r.message, sizeof r.message, "%s", galann_last_error());
    return r;
}

static char file_path[] = "/tmp/galann-csv-grammar-XXXXXX";

static read_result read_from_file(const char *text, size_t chunk)
{
    FILE *f = fopen(file_path, "wb");
    assert_non_null(f);
    size_t length = strlen(text);
    assert_int_equal(fwrite(text, 1, length, f), length);
    assert_int_equal(fclose(f), 0);
    read_result r;
    r.d = NULL;
    r.status = galann_csv_load_file(file_path, 255.0, chunk, &r.d);
    /* the message names the path: keep the part after it */
    const char *message = galann_last_error(), *after = strstr(message, file_path);
    snprintf(r.message, sizeof r.message, "%s", after ? after + strlen(file_path) : message);
    return r;
}

/* Every reader on the text, in turn; *reader names the one returned. */
static read_result read_with(size_t reader, const char *text, char *name, size_t name_size)
{
    if (reader == 0) {
        snprintf(name, name_size, "in-memory reader");
        return read_in_memory(text);
    }
    snprintf(name, name_size, "file reader, chunk %zu", chunk_sizes[reader - 1]);
    return read_from_file(text, chunk_sizes[reader - 1]);
}
#define N_READERS (1 + COUNT(chunk_sizes))

/* The rows a field is tried in: where it sits, and its field number. */
typedef struct placement {
    const char *format; /* one %s: the field */
    size_t field;       /* 1-based field number of the %s */
    size_t feature;     /* its index among the features (fields 2..) */
} placement;

static const placement feature_places[] = {
    { "1,5,%s,6\n", 3, 1 },
    { "1,5,6,%s\n", 4, 2 },
    { "1,5,6,%s\r\n", 4, 2 },
    { "1,5,6,%s", 4, 2 },
    { "0,1,2,3\n1,5,6,%s\n", 4, 2 }, /* on line 2 */
};

static const placement label_places[] = {
    { "%s,5,6\n", 1, 0 },
    { "%s,5,6\r\n", 1, 0 },
    { "0,1,2\n%s,5,6", 1, 0 }, /* on line 2, at the end of the text */
};

static size_t line_of(const char *format)
{
    size_t line = 1;
    for (const char *p = format; *p && strncmp(p, "%s", 2) != 0; p++)
        line += *p == '\n';
    return line;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* ---------------------------------------------------------------- tests */

static void expect_feature_accepted(const number_case *c, const placement *where)
{
    char text[256], name[64];
    snprintf(text, sizeof text, where->format, c->field);
    size_t line = line_of(where->format);
    for (size_t reader = 0; reader < N_READERS; reader++) {
        read_result r = read_with(reader, text, name, sizeof name);
        if (r.status != GALANN_OK) {
            print_error("field \"%s\" in \"%s\": the %s refused it: %s\n", c->field, where->format, name, r.message);
            fail();
        }
        const double *x = galann_dataset_features(r.d) + (line - 1) * galann_dataset_n_features(r.d);
        double want = c->value / 255.0;
        if (!same_bits(x[where->feature], want)) {
            print_error("field \"%s\" in \"%s\", %s: got %.17g, expected %.17g\n", c->field, where->format, name,
                        x[where->feature], want);
            fail();
        }
        galann_dataset_free(r.d);
    }
}

/* The field as a message quotes it: its first 40 bytes, control bytes as
 * \xNN. */
static void quote_field(const char *field, char *quoted, size_t size)
{
    size_t at = (size_t)snprintf(quoted, size, "\"");
    for (size_t i = 0; field[i] && i < 40 && at + 6 < size; i++) {
        unsigned char c = (unsigned char)field[i];
        at += (size_t)snprintf(quoted + at, size - at, c < 0x20 || c == 0x7f ? "\\x%02x" : "%c", c);
    }
    snprintf(quoted + at, size - at, "\"");
}

/* A refusal names the line and the field and quotes the field's text (its
 * first 40 characters); an empty field is called empty. */
static void expect_refused(const char *field, const placement *where, const char *what)
{
    char text[256], name[64], place[64], quoted[200];
    snprintf(text, sizeof text, where->format, field);
    size_t line = line_of(where->format);
    if (where->field == 1)
        snprintf(place, sizeof place, ":%zu: ", line);
    else
        snprintf(place, sizeof place, ":%zu: field %zu ", line, where->field);
    if (*field)
        quote_field(field, quoted, sizeof quoted);
    else
        snprintf(quoted, sizeof quoted, "empty");
    for (size_t reader = 0; reader < N_READERS; reader++) {
        read_result r = read_with(reader, text, name, sizeof name);
        if (r.status != GALANN_ERR_PARSE || r.d != NULL || !strstr(r.message, place) || !strstr(r.message, quoted)) {
            print_error("%s \"%s\" in \"%s\", %s: status %d (%s), message \"%s\"; expected a parse error with "
                        "\"%s\" and %s\n", what, field, where->format, name, r.status, galann_strerror(r.status),
                        r.message, place, quoted);
            galann_dataset_free(r.d);
            fail();
        }
    }
}

static void every_number_in_the_table_is_read_as_its_value(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(accepted_numbers); i++)
        for (size_t p = 0; p < COUNT(feature_places); p++)
            expect_feature_accepted(&accepted_numbers[i], &feature_places[p]);
}

static void every_malformed_number_is_refused_naming_line_and_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(rejected_numbers); i++)
        for (size_t p = 0; p < COUNT(feature_places); p++)
            expect_refused(rejected_numbers[i], &feature_places[p], "feature");
}

static void every_class_number_in_the_table_is_read_as_its_label(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(accepted_labels); i++) {
        for (size_t p = 0; p < COUNT(label_places); p++) {
            const label_case *c = &accepted_labels[i];
            char text[256], name[64];
            snprintf(text, sizeof text, label_places[p].format, c->field);
            size_t line = line_of(label_places[p].format);
            for (size_t reader = 0; reader < N_READERS; reader++) {
                read_result r = read_with(reader, text, name, sizeof name);
                if (r.status != GALANN_OK) {
                    print_error("label \"%s\" in \"%s\": the %s refused it: %s\n", c->field, label_places[p].format,
                                name, r.message);
                    fail();
                }
                int32_t got = galann_dataset_labels(r.d)[line - 1];
                if (got != c->label) {
                    print_error("label \"%s\", %s: got %d, expected %d\n", c->field, name, (int)got, (int)c->label);
                    fail();
                }
                /* n_labels is one more than the largest label */
                size_t want_k = (size_t)c->label + 1;
                assert_int_equal(galann_dataset_n_labels(r.d), want_k);
                galann_dataset_free(r.d);
            }
        }
    }
}

static void every_label_that_is_not_a_class_number_is_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(rejected_labels); i++)
        for (size_t p = 0; p < COUNT(label_places); p++)
            expect_refused(rejected_labels[i], &label_places[p], "label");
}

/* The table itself: a field written with other characters is refused
 * before any number conversion, whatever strtod would make of it. */
static void accepted_fields_use_only_the_number_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(accepted_numbers); i++) {
        const char *f = accepted_numbers[i].field;
        assert_true(strlen(f) >= 1 && strlen(f) <= 63);
        assert_int_equal(strspn(f, "0123456789+-.eE"), strlen(f));
    }
    assert_int_equal(strlen(LONGEST_FIELD), 63);
    assert_int_equal(strlen(TOO_LONG_FIELD), 64);
}

static int make_file(void **state)
{
    (void)state;
    int fd = mkstemp(file_path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int remove_file(void **state)
{
    (void)state;
    unlink(file_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted_fields_use_only_the_number_characters),
        cmocka_unit_test(every_number_in_the_table_is_read_as_its_value),
        cmocka_unit_test(every_malformed_number_is_refused_naming_line_and_field),
        cmocka_unit_test(every_class_number_in_the_table_is_read_as_its_label),
        cmocka_unit_test(every_label_that_is_not_a_class_number_is_refused),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, make_file, remove_file));
}
