/*
 * support.h -- helpers shared by the test programs: finding the shared
 * reference data, reading fixture files, comparing vectors, small random
 * datasets.
 */
#ifndef GALANN_TEST_SUPPORT_H
#define GALANN_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "galann.h"

/* Path of a file under the shared folder (../shared from the project
 * root, or $GALANN_SHARED_DIR), or NULL if it does not exist. The result is
 * malloc'ed. */
char *shared_path(const char *relative);

/* Read whitespace-separated numbers from a fixture file; '#' starts a
 * comment line. Returns a malloc'ed array and its length, NULL on failure. */
double *read_numbers(const char *path, size_t *count);

/* max_i |a_i - b_i| / max(|b|_inf, tiny): relative max-norm difference. */
double relative_max_difference(const double *a, const double *b, size_t n);

/* A deterministic random dataset (features in [0,1), labels in [0,k)). */
galann_dataset *random_dataset(size_t m, size_t n, size_t k, uint32_t seed);

/* The galaxy train/test set from the shared folder, loaded once per test
 * program; NULL (and the test skips) when the data is absent. */
const galann_dataset *galaxy_train(void);
const galann_dataset *galaxy_test(void);
void free_galaxy_data(void);

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

#endif /* GALANN_TEST_SUPPORT_H */
