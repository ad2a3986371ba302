/*
 * test-special-files.c -- the library reads only regular files: a FIFO,
 * a device or a directory given as a dataset or a model is refused at
 * once with GALANN_ERR_IO and "path: not a regular file", and a model
 * file longer than its header describes is refused before it is read.
 *
 * Every test arms alarm() first: a call that blocks on a FIFO without a
 * writer, or reads /dev/zero until memory runs out, dies of SIGALRM and
 * fails the program instead of hanging the suite.
 *
 * Not here: malformed CSV text or model bytes (test-csv*.c,
 * test-model-io.c).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

/* Seconds any one call may take before the test is killed. */
#define HANG_GUARD 10

static char folder[64];
static char fifo[128];

static int setup(void **state)
{
    (void)state;
    snprintf(folder, sizeof folder, "/tmp/galann-special-XXXXXX");
    if (!mkdtemp(folder))
        return -1;
    snprintf(fifo, sizeof fifo, "%s/fifo", folder);
    if (mkfifo(fifo, 0600) != 0)
        return -1;
    alarm(HANG_GUARD);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    return system(command) == 0 ? 0 : -1;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The last message names the path and says it is not a regular file. */
static void expect_not_regular(const char *path)
{
    char wanted[256];
    snprintf(wanted, sizeof wanted, "%s: not a regular file", path);
    if (strcmp(galann_last_error(), wanted) != 0)
        fail_msg("message \"%s\", expected \"%s\"", galann_last_error(), wanted);
}

static void dataset_from_fifo_is_refused_at_once(void **state)
{
    (void)state;
    galann_dataset *d = NULL;
    double start = seconds_now();
    expect_status(galann_dataset_load_csv(fifo, &d), GALANN_ERR_IO);
    assert_null(d);
    expect_not_regular(fifo);
    double took = seconds_now() - start;
    print_message("refused in %.6f s\n", took);
    assert_true(took < 1.0);
}

static void dataset_shares_from_fifo_are_refused(void **state)
{
    (void)state;
    uint64_t rows = 7;
    galann_dataset *d = NULL;
    expect_status(galann_csv_count_rows(fifo, 0, 100, &rows), GALANN_ERR_IO);
    expect_not_regular(fifo);
    expect_status(galann_dataset_load_csv_rows(fifo, 0, 0, 0, 1, &d), GALANN_ERR_IO);
    expect_not_regular(fifo);
    assert_null(d);
}

static void model_from_fifo_is_refused_at_once(void **state)
{
    (void)state;
    galann_model *m = NULL;
    double start = seconds_now();
    expect_status(galann_model_load(fifo, &m), GALANN_ERR_IO);
    assert_null(m);
    expect_not_regular(fifo);
    assert_true(seconds_now() - start < 1.0);
}

static void devices_are_refused(void **state)
{
    (void)state;
    galann_model *m = NULL;
    galann_dataset *d = NULL;
    /* /dev/zero never ends: read, it would fill memory */
    expect_status(galann_model_load("/dev/zero", &m), GALANN_ERR_IO);
    expect_not_regular("/dev/zero");
    expect_status(galann_model_load("/dev/null", &m), GALANN_ERR_IO);
    expect_not_regular("/dev/null");
    expect_status(galann_dataset_load_csv("/dev/zero", &d), GALANN_ERR_IO);
    expect_not_regular("/dev/zero");
    assert_null(m);
    assert_null(d);
}

static void directories_are_refused(void **state)
{
    (void)state;
    galann_model *m = NULL;
    galann_dataset *d = NULL;
    expect_status(galann_model_load(folder, &m), GALANN_ERR_IO);
    expect_not_regular(folder);
    expect_status(galann_dataset_load_csv(folder, &d), GALANN_ERR_IO);
    expect_not_regular(folder);
}

/* A valid model saved, then made 1 TiB long (a sparse file: nothing is
 * written): refused from its header, without reading the terabyte. */
static void model_longer_than_its_header_is_refused_unread(void **state)
{
    (void)state;
    static const size_t sizes[] = { 4, 3, 2 };
    char path[128];
    snprintf(path, sizeof path, "%s/long.model", folder);
    galann_model *m = NULL, *loaded = NULL;
    assert_int_equal(galann_model_new(sizes, 3, &m), GALANN_OK);
    assert_int_equal(galann_model_init_random(m, 917), GALANN_OK);
    assert_int_equal(galann_model_save(m, path), GALANN_OK);
    galann_model_free(m);
    /* the file itself loads */
    expect_status(galann_model_load(path, &loaded), GALANN_OK);
    galann_model_free(loaded);
    loaded = NULL;

    const uint64_t tib = (uint64_t)1 << 40;
    assert_int_equal(truncate(path, (off_t)tib), 0);
    double start = seconds_now();
    expect_status(galann_model_load(path, &loaded), GALANN_ERR_FORMAT);
    double took = seconds_now() - start;
    assert_null(loaded);
    /* 24 header bytes, 3 sizes, divisor, count, 23 weights, checksum */
    const uint64_t described = 24 + 3 * 8 + 16 + 23 * 8 + 4;
    char wanted[256];
    snprintf(wanted, sizeof wanted, "%s: model has %llu unexpected bytes after the checksum (the file has %llu "
             "bytes, its header describes %llu)", path, (unsigned long long)(tib - described),
             (unsigned long long)tib, (unsigned long long)described);
    assert_string_equal(galann_last_error(), wanted);
    print_message("refused in %.6f s\n", took);
    assert_true(took < 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(dataset_from_fifo_is_refused_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(dataset_shares_from_fifo_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(model_from_fifo_is_refused_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(devices_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(directories_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(model_longer_than_its_header_is_refused_unread, setup, teardown),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
