/*
 * backends.c -- cost and gradient norm of the original's initial network
 * on every backend this build can run, checked against each other.
 *
 * Loads the galaxy training set if it is present (the path given, else
 * $GALANN_SHARED_DIR/data/galaxy/train.csv, else
 * ../shared/data/galaxy/train.csv), else the built-in synthetic galaxies,
 * and prints one line per backend. The reference backend (the oracle) is
 * the yardstick: the example exits 1 when a built-in backend fails, or when its cost or any gradient component differs from the
 * yardstick's by more than 1e-12 relative (max norm). A backend that is
 * built in but cannot run on this machine (no OpenCL device) is reported
 * and does not fail the example.
 *
 *   ./build/examples/backends [train.csv]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <galann.h>

#define AGREEMENT 1e-12

/* Relative difference of the costs and max-norm relative difference of
 * the gradients: the larger of the two (infinite when anything is NaN). */
static double disagreement(double cost, const double *grad, double want_cost, const double *want_grad, size_t n)
{
    double diff = 0.0, scale = 1e-300;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(grad[i] - want_grad[i]);
        if (isnan(d))
            return INFINITY;
        diff = fmax(diff, d);
        scale = fmax(scale, fabs(want_grad[i]));
    }
    double cost_diff = fabs(cost - want_cost) / fmax(fabs(want_cost), 1e-300);
    if (isnan(cost_diff))
        return INFINITY;
    return fmax(cost_diff, diff / scale);
}

static const char *default_data_path(void)
{
    static char path[4096];
    const char *shared = getenv("GALANN_SHARED_DIR");
    snprintf(path, sizeof path, "%s/data/galaxy/train.csv", shared && *shared ? shared : "../shared");
    return path;
}

/* Evaluate on one backend. 0: agrees (or is the yardstick), 1: failed or
 * disagrees, -1: built in but not usable here. */
static int check_backend(const char *name, const galann_model *model, const galann_dataset *data, double *grad,
                         size_t n, double *want_cost, double *want_grad, int *have_yardstick)
{
    galann_context *ctx = NULL;
    int status = galann_context_new(name, &ctx);
    if (status == GALANN_ERR_UNAVAILABLE) {
        printf("%-10s unavailable here: %s\n", name, galann_last_error());
        return -1;
    }
    if (status != GALANN_OK) {
        printf("%-10s FAILED to start: %s\n", name, galann_last_error());
        return 1;
    }
    double cost, norm = 0.0;
    status = galann_cost_gradient(ctx, model, data, 1.0, &cost, grad, n);
    galann_context_free(ctx);
    if (status != GALANN_OK) {
        printf("%-10s FAILED: %s\n", name, galann_last_error());
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        norm += grad[i] * grad[i];
    printf("%-10s J = %.17g   |grad| = %.17g", name, cost, sqrt(norm));
    if (!*have_yardstick) {
        *want_cost = cost;
        for (size_t i = 0; i < n; i++)
            want_grad[i] = grad[i];
        *have_yardstick = 1;
        printf("   (the yardstick)\n");
        return 0;
    }
    double diff = disagreement(cost, grad, *want_cost, want_grad, n);
    printf("   differs by %.3g\n", diff);
    if (!(diff <= AGREEMENT)) {
        printf("%-10s DISAGREES: %.3g is more than %g\n", name, diff, AGREEMENT);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : default_data_path();
    galann_dataset *data = NULL;
    galann_model *model = NULL;
    double *grad = NULL, *want_grad = NULL;
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
    want_grad = malloc(n * sizeof *want_grad);
    if (!grad || !want_grad)
        goto fail;
    printf("%zu samples, network %zu-%zu-%zu, %zu parameters, lambda 1\n", galann_dataset_n_samples(data), layers[0],
           layers[1], layers[2], n);

    /* the reference first: it is the yardstick */
    double want_cost = 0.0;
    int have_yardstick = 0, bad = 0, ran = 0;
    int result = check_backend("reference", model, data, grad, n, &want_cost, want_grad, &have_yardstick);
    bad += result != 0;
    ran += result == 0;
    for (size_t b = 0; b < galann_backend_count() && have_yardstick; b++) {
        const char *name = galann_backend_name(b);
        if (strcmp(name, "reference") == 0)
            continue;
        result = check_backend(name, model, data, grad, n, &want_cost, want_grad, &have_yardstick);
        bad += result == 1;
        ran += result == 0;
    }
    if (bad || ran == 0) {
        fprintf(stderr, "backends: %d backend(s) failed or disagree, %d agree\n", bad, ran);
        rc = 1;
    } else {
        printf("all %d usable backends agree to %g\n", ran, AGREEMENT);
        rc = 0;
    }
    free(grad);
    free(want_grad);
    galann_model_free(model);
    galann_dataset_free(data);
    return rc;
fail:
    fprintf(stderr, "backends: %s\n", galann_last_error());
    free(grad);
    free(want_grad);
    galann_model_free(model);
    galann_dataset_free(data);
    return rc;
}
