/*
 * train.c -- the life of a model from C: load CSV data, train with a
 * progress callback, save, reload, predict.
 *
 *   ./build/examples/train [train.csv test.csv] [model-file]
 *
 * Without arguments it writes and uses the built-in synthetic galaxies.
 */
#include <stdio.h>
#include <stdlib.h>

#include <galann.h>

static int print_progress(void *user, const galann_fit_progress *p)
{
    (void)user;
    if (p->iteration % 10 == 0)
        printf("iteration %3zu: J_train %.4f (%.1f%%), J_test %.4f (%.1f%%)\n", p->iteration, p->train_cost,
               100 * p->train_accuracy, p->validation_cost, 100 * p->validation_accuracy);
    return 0; /* nonzero would stop training */
}

int main(int argc, char **argv)
{
    const char *model_path = argc > 3 ? argv[3] : "example.model";
    galann_context *ctx = NULL;
    galann_dataset *train = NULL, *test = NULL;
    galann_model *model = NULL, *reloaded = NULL;
    int32_t *labels = NULL;
    int rc = 1;

    if (galann_context_new(NULL, &ctx) != GALANN_OK)
        goto fail;
    if (argc > 2) {
        if (galann_dataset_load_csv(argv[1], &train) != GALANN_OK || galann_dataset_load_csv(argv[2], &test) != GALANN_OK)
            goto fail;
    } else if (galann_dataset_synthesize(900, 1, &train) != GALANN_OK ||
               galann_dataset_synthesize(300, 2, &test) != GALANN_OK) {
        goto fail;
    }

    size_t layers[3] = { galann_dataset_n_features(train), 8, galann_dataset_n_labels(train) };
    if (galann_model_new(layers, 3, &model) != GALANN_OK || galann_model_init_random(model, 917) != GALANN_OK)
        goto fail;

    galann_fit_options opts;
    galann_fit_options_init(&opts);
    opts.max_iterations = 60;
    opts.validation = test;          /* keeps the iterate with the lowest test cost */
    opts.progress = print_progress;
    galann_fit_report report = { .struct_size = sizeof report };
    if (galann_fit(ctx, model, train, &opts, &report) != GALANN_OK)
        goto fail;
    printf("kept iteration %zu: train %.1f%%, test %.1f%%\n", report.best_iteration, 100 * report.train_accuracy,
           100 * report.validation_accuracy);

    if (galann_model_save(model, model_path) != GALANN_OK || galann_model_load(model_path, &reloaded) != GALANN_OK)
        goto fail;
    size_t m = galann_dataset_n_samples(test);
    labels = malloc(m * sizeof *labels);
    if (!labels || galann_predict(ctx, reloaded, test, labels, m) != GALANN_OK)
        goto fail;
    size_t correct = 0;
    for (size_t i = 0; i < m; i++)
        correct += labels[i] == galann_dataset_labels(test)[i];
    printf("reloaded %s: %zu of %zu test images right (%.1f%%)\n", model_path, correct, m, 100.0 * correct / m);
    rc = (double)correct / m == report.validation_accuracy ? 0 : 1;
    if (rc)
        fprintf(stderr, "train: the reloaded model predicts differently\n");

fail:
    if (rc && galann_last_error()[0])
        fprintf(stderr, "train: %s\n", galann_last_error());
    free(labels);
    galann_model_free(reloaded);
    galann_model_free(model);
    galann_dataset_free(train);
    galann_dataset_free(test);
    galann_context_free(ctx);
    return rc;
}
