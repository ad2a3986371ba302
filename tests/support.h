/*
 * support.h -- helpers shared by the test programs: finding the shared
 * reference data, reading fixture files, comparing vectors, small random
 * datasets, and skipping honestly (counted, so that a program with a
 * skipped test exits 77, meson's "skipped"; a failure instead when the
 * build requires what is missing).
 */
#ifndef GALANN_TEST_SUPPORT_H
#define GALANN_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "galann.h"

/* The shared folder: $GALANN_SHARED_DIR when set, else
 * $GALANN_TEST_SHARED_DEFAULT (meson sets it to ../shared beside the
 * project), else "../shared". */
const char *shared_root(void);

/* Path of a file under the shared folder, or NULL if it does not exist.
 * The result is malloc'ed. */
char *shared_path(const char *relative);

/* Read whitespace-separated numbers from a fixture file; '#' starts a
 * comment line. Returns a malloc'ed array and its length, NULL on failure. */
double *read_numbers(const char *path, size_t *count);

/* max_i |a_i - b_i| / max(|b|_inf, tiny): relative max-norm difference. */
double relative_max_difference(const double *a, const double *b, size_t n);

/* A deterministic random dataset (features in [0,1), labels in [0,k)). */
galann_dataset *random_dataset(size_t m, size_t n, size_t k, uint32_t seed);

/* A fresh folder /tmp/galann-<name>-XXXXXX, its path in folder (size
 * bytes, 64 is enough); 0, or -1 when it cannot be made. */
int temp_folder_make(char *folder, size_t size, const char *name);
/* Remove such a folder and everything in it (rm -rf); 0 or -1. */
int temp_folder_remove(const char *folder);

/* The galaxy train/test set from the shared folder, loaded once per test
 * program; NULL (and the test skips) when the files are absent. Files that
 * are there but do not load fail the calling test. */
const galann_dataset *galaxy_train(void);
const galann_dataset *galaxy_test(void);
void free_galaxy_data(void);
/* free_galaxy_data as a cmocka group teardown. */
int teardown_galaxy_data(void **state);

/* Backends compiled in and usable here, by index; count first. */
size_t usable_backend_count(void);
const char *usable_backend(size_t i);

/* A number from summary.json by key ("J0_train"), NAN when absent. */
double summary_number(const char *key);

/* Fail the current cmocka test, printing both numbers, unless
 * |actual - expected| <= tol * max(|expected|, tiny). */
#define assert_relative(actual, expected, tol, what) \
    assert_relative_at(actual, expected, tol, what, __FILE__, __LINE__)
void assert_relative_at(double actual, double expected, double tol, const char *what, const char *file, int line);

/* Fail the current cmocka test unless a call returned the expected status;
 * a failure must also leave a message in galann_last_error(). Prints the
 * call, both statuses and the message. */
#define expect_status(got, expected) expect_status_at(got, expected, #got, __FILE__, __LINE__)
void expect_status_at(int got, int expected, const char *call, const char *file, int line);

/* Skip the current cmocka test with a message ("skipped: ..."), counted
 * for tests_exit_status(). */
#define skip_test(...) skip_test_at(__FILE__, __LINE__, __VA_ARGS__)
void skip_test_at(const char *file, int line, const char *format, ...);

/* Skip because the shared data or fixtures are absent; fail instead when
 * GALANN_REQUIRE_DATA=1 (meson -Drequire_data=true). */
#define skip_without_data(...) skip_without_data_at(__FILE__, __LINE__, __VA_ARGS__)
void skip_without_data_at(const char *file, int line, const char *format, ...);

/* Skip because no usable OpenCL device is there; fail instead when
 * GALANN_REQUIRE_OPENCL=1 (meson -Drequire_opencl=true). */
#define skip_without_opencl_device(...) skip_without_opencl_at(__FILE__, __LINE__, __VA_ARGS__)
void skip_without_opencl_at(const char *file, int line, const char *format, ...);

/* Whether GALANN_REQUIRE_DATA / GALANN_REQUIRE_OPENCL is "1". */
int data_required(void);
int opencl_required(void);

/* The exit status of a test program given cmocka's failure count: 1 if
 * anything failed, else 77 if any test skipped, else 0. */
int tests_exit_status(int failed);

#endif /* GALANN_TEST_SUPPORT_H */
