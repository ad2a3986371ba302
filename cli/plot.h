/*
 * plot.h -- the galann program's figures, as standalone SVG files fit
 * for a paper: the learning curve of a training run and the confusion
 * matrix of an evaluation. Drawing only: the numbers come from the
 * caller. Files are replaced atomically (cli/output_file.h).
 *
 * Axes carry round ticks (1, 2 or 5 times a power of ten). A NaN or
 * infinite value is skipped (the line breaks there); a series with one
 * point is drawn as a dot; a constant series gets a range around its
 * value; n == 0 draws empty axes. Long runs are thinned to at most four
 * points per pixel column (first, lowest, highest, last), so 10^5
 * iterations stay a file of a few hundred kilobytes. Titles and class
 * names are written as XML text (escaped; bytes that are not UTF-8
 * become U+FFFD).
 */
#ifndef GALANN_CLI_PLOT_H
#define GALANN_CLI_PLOT_H

#include <stddef.h>

/* One training run's curves; any *_cost or *_accuracy pointer may be NULL
 * (that series is not drawn). Accuracies are fractions 0..1, drawn as %. */
typedef struct learning_curve {
    size_t n;                        /* iterations recorded (rows) */
    const double *iteration;         /* n values, 1, 2, ... */
    const double *train_cost, *train_accuracy;
    const double *validation_cost, *validation_accuracy;
    const double *test_cost, *test_accuracy;
    size_t kept_iteration;           /* iterate kept (marked); 0 = none */
    const char *title;               /* may be NULL */
} learning_curve;

/* Write the learning curve as an SVG: two panels (cost J, accuracy %),
 * shared iteration axis. 0 on success; -1 with errno set (and the file
 * left as it was) on failure. */
int write_learning_curve_svg(const char *path, const learning_curve *c);

/* Write a k x k confusion matrix (counts[true * k + predicted]) as an SVG
 * heat map with the class names on both axes and the count (and row
 * percentage) in each cell. class_names may be NULL (then 0..k-1). */
int write_confusion_svg(const char *path, const size_t *counts, size_t k,
                        const char *const *class_names, const char *title);

#endif /* GALANN_CLI_PLOT_H */
