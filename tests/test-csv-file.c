/*
 * test-csv-file.c -- the chunked file reader gives exactly what the
 * in-memory reader gives on the same bytes: the same status, the same
 * "file:line" message, the same numbers bit for bit, whatever the chunk
 * size, so that line and chunk boundaries can fall anywhere.
 */
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

static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 0 /* the default, 4 MiB */ };

static char *write_file(const char *text, size_t length)
{
    char *path = strdup("/tmp/galann-csv-file-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, length), (ssize_t)length);
    assert_int_equal(close(fd), 0);
    return path;
}

/* Both readers on the same bytes must agree in everything. */
static void expect_same_result(const char *text, size_t length)
{
    char *path = write_file(text, length);
    galann_dataset *memory = NULL;
    int memory_status = galann_dataset_parse_csv(text, length, path, 255.0, &memory);
    char memory_message[1024];
    snprintf(memory_message, sizeof memory_message, "%s", galann_last_error());

    for (size_t s = 0; s < sizeof chunk_sizes / sizeof chunk_sizes[0]; s++) {
        galann_dataset *file = NULL;
        int file_status = galann_csv_load_file(path, 255.0, chunk_sizes[s], &file);
        if (file_status != memory_status || strcmp(galann_last_error(), memory_message) != 0) {
            print_error("chunk %zu on \"%.*s\": file reader %d \"%s\", memory reader %d \"%s\"\n", chunk_sizes[s],
                        (int)(length > 60 ? 60 : length), text, file_status, galann_last_error(), memory_status,
                        memory_message);
            fail();
        }
        if (memory_status == GALANN_OK) {
            size_t m = galann_dataset_n_samples(memory), n = galann_dataset_n_features(memory);
            assert_int_equal(galann_dataset_n_samples(file), m);
            assert_int_equal(galann_dataset_n_features(file), n);
            assert_int_equal(galann_dataset_n_labels(file), galann_dataset_n_labels(memory));
            assert_memory_equal(galann_dataset_features(file), galann_dataset_features(memory), m * n * sizeof(double));
            assert_memory_equal(galann_dataset_labels(file), galann_dataset_labels(memory), m * sizeof(int32_t));
        } else {
            assert_null(file);
        }
        galann_dataset_free(file);
    }
    galann_dataset_free(memory);
    unlink(path);
    free(path);
}

static void readers_agree_on_every_written_case(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "0,1,2\n1,3,4\n", "0,1,2\n1,3,4", "0,1,2\r\n1,3,4\r\n", "0,1,2\r\n1,3,4\r", "2,255,0\n0,1.5e1,7\n",
        "", "\n", "0\n", "0,1,2\n\n1,3,4\n", "0,1,2\n1,3,4\n\n", "0,1,2\n1,3\n", "0,1,2\n1,3,4,5\n",
        "0,1,x\n", "-1,1,2\n", "1.5,1,2\n", "0,nan,2\n", "0,1e999,2\n", "0,,2\n", "0,1,2\r\r\n",
        "1,1,2\n0,2,3\n2,4,5\n1,6,7\n", "70000,1,2\n", "0,1,2\n1,3,4\n2,5",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_same_result(cases[i], strlen(cases[i]));
}

/* Deterministic random edits of a valid file: each replaces, inserts or
 * deletes a byte with one of the characters that matter to the parser. */
static void readers_agree_on_mutated_files(void **state)
{
    (void)state;
    static const char base[] = "0,12,250,3\n1,0,7,255\n2,1.5,2e1,9\r\n0,4,5,6\n1,7,8,9\n";
    static const char alphabet[] = "0123456789,\n\r.-e x";
    uint64_t rng = 917;
    char text[sizeof base + 8];
    for (int trial = 0; trial < 400; trial++) {
        size_t length = sizeof base - 1;
        memcpy(text, base, length);
        int edits = 1 + trial % 3;
        for (int e = 0; e < edits; e++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(rng >> 33) % length;
            char c = alphabet[(rng >> 20) % (sizeof alphabet - 1)];
            switch ((rng >> 10) % 3) {
            case 0:
                text[at] = c;
                break;
            case 1:
                memmove(text + at + 1, text + at, length - at);
                text[at] = c;
                length++;
                break;
            default:
                memmove(text + at, text + at + 1, length - at - 1);
                length--;
                break;
            }
        }
        expect_same_result(text, length);
    }
}

static void galaxy_train_reads_the_same_in_chunks_and_whole(void **state)
{
    (void)state;
    char *path = shared_path("data/galaxy/train.csv");
    if (!path) {
        skip_without_data("the galaxy data is not under %s/data/galaxy", shared_root());
    }
    galann_dataset *whole = NULL, *chunked = NULL;
    assert_int_equal(galann_dataset_load_csv(path, &whole), GALANN_OK);
    /* 1000 bytes per read: several thousand chunk boundaries inside lines */
    assert_int_equal(galann_csv_load_file(path, 255.0, 1000, &chunked), GALANN_OK);
    size_t m = galann_dataset_n_samples(whole), n = galann_dataset_n_features(whole);
    assert_int_equal(m, 2700);
    assert_int_equal(galann_dataset_n_samples(chunked), m);
    assert_memory_equal(galann_dataset_features(chunked), galann_dataset_features(whole), m * n * sizeof(double));
    assert_memory_equal(galann_dataset_labels(chunked), galann_dataset_labels(whole), m * sizeof(int32_t));
    galann_dataset_free(whole);
    galann_dataset_free(chunked);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readers_agree_on_every_written_case),
        cmocka_unit_test(readers_agree_on_mutated_files),
        cmocka_unit_test(galaxy_train_reads_the_same_in_chunks_and_whole),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
