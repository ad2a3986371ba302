/*
 * test-messages.c -- detailed messages stay readable at any length and
 * with any input bytes: a message longer than the buffer loses its
 * middle, never the reason at its end, and is cut only between UTF-8
 * characters; quoted input shows control bytes, NUL included, as \xNN.
 *
 * Not here: which message each error gives (the tests of each concern).
 */
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

/* galann_last_error's buffer, NUL included (docs/api.md §1.2) */
#define CAPACITY 1024

static const char reason[] = ": cannot open: No such file or directory";

static int ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);
    return n >= m && strcmp(s + n - m, end) == 0;
}

/* A path under a folder that does not exist: total bytes, made of
 * component (repeated, each followed by '/'), then "m". */
static char *missing_path(size_t length, const char *component)
{
    static const char start[] = "/nonexistent-galann/";
    char *path = malloc(length + 1);
    assert_non_null(path);
    size_t at = strlen(start), c = strlen(component);
    memcpy(path, start, at);
    while (at + c + 1 < length - 1) {
        memcpy(path + at, component, c);
        at += c;
        path[at++] = '/';
    }
    while (at < length)
        path[at++] = 'm';
    path[length] = '\0';
    return path;
}

static void long_path_keeps_the_reason(void **state)
{
    (void)state;
    char *path = missing_path(3000, "a-folder-name-of-forty-characters-123456");
    galann_model *m = NULL;
    expect_status(galann_model_load(path, &m), GALANN_ERR_IO);
    const char *message = galann_last_error();
    print_message("%zu bytes: %.60s ... %s\n", strlen(message), message, message + strlen(message) - 60);
    assert_int_equal(strlen(message), CAPACITY - 1);
    assert_true(ends_with(message, reason));
    assert_memory_equal(message, path, 600);   /* the start of the path */
    assert_memory_equal(message + 600, "...", 3);
    free(path);
}

static void message_that_fits_is_whole_and_one_byte_more_loses_its_middle(void **state)
{
    (void)state;
    size_t fits = CAPACITY - 1 - strlen(reason);
    for (size_t extra = 0; extra < 2; extra++) {
        char *path = missing_path(fits + extra, "folder");
        galann_model *m = NULL;
        expect_status(galann_model_load(path, &m), GALANN_ERR_IO);
        const char *message = galann_last_error();
        assert_int_equal(strlen(message), CAPACITY - 1);
        assert_true(ends_with(message, reason));
        if (extra == 0) {
            assert_memory_equal(message, path, fits);
        } else {
            assert_memory_equal(message, path, 600);
            assert_memory_equal(message + 600, "...", 3);
            /* the end of the path, after the elision */
            size_t tail = CAPACITY - 1 - 603 - strlen(reason);
            assert_memory_equal(message + 603, path + strlen(path) - tail, tail);
        }
        free(path);
    }
}

/* UTF-8 well formed: every lead byte followed by its continuations. */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        int follow = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : -1;
        if (follow < 0)
            return 0;
        s++;
        for (int i = 0; i < follow; i++, s++) {
            if ((*s & 0xc0) != 0x80)
                return 0;
        }
    }
    return 1;
}

static void long_message_is_cut_between_characters(void **state)
{
    (void)state;
    /* "é" is two bytes and "€" three: any cut inside one would show */
    static const char *const components[] = { "\xc3\xa9\xc3\xa9\xc3\xa9x", "\xe2\x82\xac\xe2\x82\xac" };
    for (size_t c = 0; c < 2; c++) {
        for (size_t length = 1900; length < 1906; length++) {
            char *path = missing_path(length, components[c]);
            galann_model *m = NULL;
            expect_status(galann_model_load(path, &m), GALANN_ERR_IO);
            const char *message = galann_last_error();
            assert_true(strlen(message) <= CAPACITY - 1);
            assert_true(ends_with(message, reason));
            if (!valid_utf8((const unsigned char *)message))
                fail_msg("a cut inside a character: %s", message);
            free(path);
        }
    }
}

static void quoted_fields_show_control_bytes_escaped(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t length;
        const char *message;
    } cases[] = {
        { "1,2,a\0b,4\n", 10, "nul.csv:1: field 3 is not a number (\"a\\x00b\")" },
        { "1,2,\0,4\n", 8, "nul.csv:1: field 3 is not a number (\"\\x00\")" },
        { "1,2,\x1b[31m,4\n", 12, "nul.csv:1: field 3 is not a number (\"\\x1b[31m\")" },
        { "1,2,3\r\x7f,4\n", 11, "nul.csv:1: field 3 is not a number (\"3\\x0d\\x7f\")" },
        { "\x01,2,3,4\n", 8, "nul.csv:1: field 1 is not a number (\"\\x01\")" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        galann_dataset *d = NULL;
        expect_status(galann_dataset_parse_csv(cases[i].text, cases[i].length, "nul.csv", 255.0, &d),
                      GALANN_ERR_PARSE);
        assert_string_equal(galann_last_error(), cases[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_path_keeps_the_reason),
        cmocka_unit_test(message_that_fits_is_whole_and_one_byte_more_loses_its_middle),
        cmocka_unit_test(long_message_is_cut_between_characters),
        cmocka_unit_test(quoted_fields_show_control_bytes_escaped),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
