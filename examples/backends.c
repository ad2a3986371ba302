/*
 * backends.c -- cost and gradient norm of the original's initial network
 * on every backend this build can run.
 *
 * Loads the galaxy training set if it is present (../shared/data/galaxy or
 * the path given), else the built-in synthetic galaxies, and prints one
 * line per backend: they must all agree to about 1e-12.
 *
 *   ./build/examples/backends [train.csv]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <galann.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "../shared/data/galaxy/train.csv";
    galann_dataset *data = NULL;
    galann_model *model = NULL;
    double *grad = NULL;
    int rc = 1;

    if (galann_dataset_load_csv(path, &data) == GALANN_OK) {
        printf("data: %s\n", path);
    } else {
        printf("data: built-in synthetic galaxies (%s)\n", galann_last_error());
        if (galann_dataset_synthesize(2700, 1, &data) != GALANN_OK)
            goto fail;
    }
    size_t layers[3] = { galann_dataset_n_features(data), 8, galann_dataset_n_labels(data) };
    if (galann_model_new(layers, 3, &model) != GALANN_OK || galann_model_init_random(model, 917) != GALANN_OK)
        goto fail;
    size_t n = galann_model_n_params(model);
    grad = malloc(n * sizeof *grad);
    if (!grad)
        goto fail;
    printf("%zu samples, network %zu-%zu-%zu, %zu parameters, lambda 1\n", galann_dataset_n_samples(data), layers[0],
           layers[1], layers[2], n);

    for (size_t b = 0; b < galann_backend_count(); b++) {
        const char *name = galann_backend_name(b);
        galann_context *ctx = NULL;
        if (galann_context_new(name, &ctx) != GALANN_OK) {
            printf("%-10s unavailable: %s\n", name, galann_last_error());
            continue;
        }
        double cost, norm = 0.0;
        if (galann_cost_gradient(ctx, model, data, 1.0, &cost, grad, n) != GALANN_OK) {
            printf("%-10s failed: %s\n", name, galann_last_error());
            galann_context_free(ctx);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            norm += grad[i] * grad[i];
        printf("%-10s J = %.17g   |grad| = %.17g\n", name, cost, sqrt(norm));
        galann_context_free(ctx);
    }
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "backends: %s\n", galann_last_error());
    free(grad);
    galann_model_free(model);
    galann_dataset_free(data);
    return rc;
}
