/*
 * test-dataset-split.c -- galann_dataset_split: the stratified, seeded
 * split the CLI's --validation-fraction and Python use. Both parts keep
 * each class's share, the rows' order and every label; together they are
 * the whole, row for row; the same seed gives the same split and another
 * seed another one; bad arguments are refused.
 *
 * Not here: training with the held-out part (test-fit.c, test-cli.sh).
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

/* rows whose first feature is the row number: a part's rows are then
 * known by their first feature */
static galann_dataset *numbered_dataset(const int32_t *labels, size_t m, size_t k)
{
    double *x = malloc(m * 2 * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < m; i++) {
        x[2 * i] = (double)i;
        x[2 * i + 1] = 0.5;
    }
    galann_dataset *d = NULL;
    expect_status(galann_dataset_new(x, labels, m, 2, k, &d), GALANN_OK);
    free(x);
    return d;
}

static size_t count_label(const galann_dataset *d, int32_t label)
{
    size_t count = 0;
    for (size_t i = 0; i < galann_dataset_n_samples(d); i++)
        count += galann_dataset_labels(d)[i] == label;
    return count;
}

/* 1000 rows sorted by class like the galaxy file: 500, 300, 200 */
static int32_t *sorted_labels(size_t *m)
{
    *m = 1000;
    int32_t *y = malloc(*m * sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < *m; i++)
        y[i] = i < 500 ? 0 : i < 800 ? 1 : 2;
    return y;
}

static void each_class_gives_its_share_and_the_parts_make_the_whole(void **state)
{
    (void)state;
    size_t m;
    int32_t *y = sorted_labels(&m);
    galann_dataset *d = numbered_dataset(y, m, 3), *rest = NULL, *held = NULL;
    expect_status(galann_dataset_split(d, 0.15, 7, &rest, &held), GALANN_OK);

    /* round(0.15 * c) per class: 75, 45, 30 */
    assert_int_equal(count_label(held, 0), 75);
    assert_int_equal(count_label(held, 1), 45);
    assert_int_equal(count_label(held, 2), 30);
    assert_int_equal(galann_dataset_n_samples(held), 150);
    assert_int_equal(galann_dataset_n_samples(rest), 850);
    assert_int_equal(galann_dataset_n_labels(held), 3);
    assert_int_equal(galann_dataset_n_labels(rest), 3);

    /* every row in exactly one part, in its original order, its label and
     * features with it */
    int *seen = calloc(m, sizeof *seen);
    assert_non_null(seen);
    galann_dataset *parts[2] = { rest, held };
    for (int p = 0; p < 2; p++) {
        const double *x = galann_dataset_features(parts[p]);
        double previous = -1.0;
        for (size_t i = 0; i < galann_dataset_n_samples(parts[p]); i++) {
            size_t row = (size_t)x[2 * i];
            assert_true(x[2 * i] > previous);
            previous = x[2 * i];
            assert_true(x[2 * i + 1] == 0.5);
            assert_int_equal(galann_dataset_labels(parts[p])[i], y[row]);
            seen[row]++;
        }
    }
    for (size_t i = 0; i < m; i++)
        assert_int_equal(seen[i], 1);

    /* the held-out rows are spread over each class, not its first rows */
    const double *hx = galann_dataset_features(held);
    assert_true(hx[0] < 50.0 && hx[2 * 74] > 450.0);

    free(seen);
    free(y);
    galann_dataset_free(d);
    galann_dataset_free(rest);
    galann_dataset_free(held);
}

static int same_rows(const galann_dataset *a, const galann_dataset *b)
{
    size_t m = galann_dataset_n_samples(a);
    return m == galann_dataset_n_samples(b)
        && memcmp(galann_dataset_features(a), galann_dataset_features(b), 2 * m * sizeof(double)) == 0;
}

static void the_same_seed_splits_the_same_way_and_another_seed_differently(void **state)
{
    (void)state;
    size_t m;
    int32_t *y = sorted_labels(&m);
    galann_dataset *d = numbered_dataset(y, m, 3);
    galann_dataset *rest1, *held1, *rest2, *held2, *rest3, *held3;
    expect_status(galann_dataset_split(d, 0.2, 917, &rest1, &held1), GALANN_OK);
    expect_status(galann_dataset_split(d, 0.2, 917, &rest2, &held2), GALANN_OK);
    expect_status(galann_dataset_split(d, 0.2, 918, &rest3, &held3), GALANN_OK);
    assert_true(same_rows(held1, held2) && same_rows(rest1, rest2));
    assert_true(galann_dataset_n_samples(held3) == galann_dataset_n_samples(held1));
    assert_false(same_rows(held1, held3));
    /* pinned: the first held-out rows of seed 917 (MT19937, Fisher-Yates
     * from the front of each class) never change between releases */
    const double *x = galann_dataset_features(held1);
    assert_true(x[0] == 2.0 && x[2] == 6.0 && x[4] == 9.0);
    free(y);
    galann_dataset *all[] = { d, rest1, held1, rest2, held2, rest3, held3 };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        galann_dataset_free(all[i]);
}

static void small_classes_keep_a_row_on_each_side(void **state)
{
    (void)state;
    /* class 0: 1 row (stays in training), class 1: 2 rows (one each),
     * class 2: 10 rows, fraction 0.01 (rounds to 0, but one is held) */
    int32_t y[13] = { 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 };
    galann_dataset *d = numbered_dataset(y, 13, 3), *rest, *held;
    expect_status(galann_dataset_split(d, 0.01, 1, &rest, &held), GALANN_OK);
    assert_int_equal(count_label(held, 0), 0);
    assert_int_equal(count_label(held, 1), 1);
    assert_int_equal(count_label(held, 2), 1);
    galann_dataset_free(rest);
    galann_dataset_free(held);
    /* fraction 0.99: never a whole class */
    expect_status(galann_dataset_split(d, 0.99, 1, &rest, &held), GALANN_OK);
    assert_int_equal(count_label(rest, 0), 1);
    assert_int_equal(count_label(rest, 1), 1);
    assert_int_equal(count_label(rest, 2), 1);
    galann_dataset_free(rest);
    galann_dataset_free(held);
    galann_dataset_free(d);
}

static void bad_fractions_and_nulls_are_refused(void **state)
{
    (void)state;
    int32_t y[4] = { 0, 1, 2, 0 };
    galann_dataset *d = numbered_dataset(y, 4, 3), *rest = (galann_dataset *)1, *held = (galann_dataset *)1;
    double bad[] = { 0.0, 1.0, -0.5, 1.5, NAN };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_status(galann_dataset_split(d, bad[i], 1, &rest, &held), GALANN_ERR_INVALID);
        assert_non_null(strstr(galann_last_error(), "fraction must be in (0, 1)"));
        assert_null(rest);
        assert_null(held);
    }
    /* one row per class: nothing can be held out */
    int32_t one_each[3] = { 0, 1, 2 };
    galann_dataset *tiny = numbered_dataset(one_each, 3, 3);
    expect_status(galann_dataset_split(tiny, 0.5, 1, &rest, &held), GALANN_ERR_INVALID);
    assert_non_null(strstr(galann_last_error(), "leaves one part empty"));
    expect_status(galann_dataset_split(NULL, 0.5, 1, &rest, &held), GALANN_ERR_INVALID);
    expect_status(galann_dataset_split(d, 0.5, 1, NULL, &held), GALANN_ERR_INVALID);
    galann_dataset_free(tiny);
    galann_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_class_gives_its_share_and_the_parts_make_the_whole),
        cmocka_unit_test(the_same_seed_splits_the_same_way_and_another_seed_differently),
        cmocka_unit_test(small_classes_keep_a_row_on_each_side),
        cmocka_unit_test(bad_fractions_and_nulls_are_refused),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
