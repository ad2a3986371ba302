/*
 * predict.c -- `galann predict` and `galann eval`: using a saved model on
 * a CSV data set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "distributed.h"

static const char predict_help[] =
    "usage: galann predict --model MODEL --data FILE [--proba | --outputs] [--backend NAME] [--threads N]\n"
    "\n"
    "Print the predicted class of every sample of FILE, one per line, or with\n"
    "--proba the class probabilities, comma-separated: the output sigmoids\n"
    "divided by their sum (as Python's Classifier.predict_proba gives them;\n"
    "equal when all underflow to 0), or with --outputs the raw sigmoids.\n"
    "FILE is CSV (label,p1..pn); the label column is read but not used.\n"
    "FILE - reads standard input.\n";

static const char eval_help[] =
    "usage: galann eval --model MODEL --data FILE [--lambda L] [--backend NAME] [--threads N]\n"
    "\n"
    "Print the cost (regularised with lambda, default 1), the accuracy and the\n"
    "confusion matrix (rows: true class, columns: predicted) of MODEL on FILE\n"
    "(- reads standard input).\n";

typedef struct loaded {
    galann_model *model;
    galann_dataset *data;
    galann_context *ctx;
} loaded;

static void free_loaded(loaded *l)
{
    galann_context_free(l->ctx);
    galann_dataset_free(l->data);
    galann_model_free(l->model);
}

/* The sigmoids of one sample divided by their sum, summed in class order
 * as numpy sums a row, so the CLI prints the bits Python's predict_proba
 * returns; all equal when every output underflowed to 0. */
static void normalise_row(double *row, size_t k)
{
    double total = 0.0;
    for (size_t c = 0; c < k; c++)
        total += row[c];
    for (size_t c = 0; c < k; c++)
        row[c] = total > 0.0 ? row[c] / total : 1.0 / (double)k;
}

static int open_model_and_data(const cli_args *a, loaded *l)
{
    const char *model = arg_value(a, "model"), *data = arg_value(a, "data");
    if (!model || !*model || !data || !*data)
        return usage_error(a, "--model and --data are required");
    if (galann_model_load(model, &l->model) != GALANN_OK)
        return distributed_agree(runtime_error(a, "cannot load the model"));
    int rc;
    if (distributed_processes() > 1 && strcmp(data, "-") == 0) {
        fprintf(stderr, "galann %s: --data - (standard input) cannot be shared between processes under mpirun\n",
                a->command);
        return EXIT_USAGE;
    }
    if (distributed_processes() > 1) {
        /* shares are read as galann_dataset_load_csv reads: pixels / 255 */
        if (galann_model_input_divisor(l->model) != 255.0) {
            fprintf(stderr, "galann %s: under mpirun the model must take pixels / 255 (it divides by %g)\n",
                    a->command, galann_model_input_divisor(l->model));
            return EXIT_RUNTIME;
        }
        rc = distributed_load_csv(a, data, "cannot load the data", &l->data);
    } else {
        /* the data is scaled with the divisor the model was trained with */
        rc = load_csv_text(a, data, galann_model_input_divisor(l->model), &l->data);
    }
    if (rc != EXIT_OK)
        return rc;
    size_t inputs = galann_model_layer_size(l->model, 0);
    if (galann_dataset_n_features(l->data) != inputs) {
        fprintf(stderr, "galann %s: %s has %zu features, the model takes %zu\n", a->command, data,
                galann_dataset_n_features(l->data), inputs);
        return EXIT_RUNTIME;
    }
    /* the data may use fewer classes than the model knows */
    size_t k = galann_model_layer_size(l->model, galann_model_n_layers(l->model) - 1);
    rc = widen_dataset_labels(a, &l->data, k);
    if (rc == EXIT_OK)
        rc = distributed_agree(open_context(a, &l->ctx));
    return rc == EXIT_OK ? distributed_attach(a, l->ctx) : rc;
}

int command_predict(const cli_args *a)
{
    static const char *const with_value[] = { "model", "data", "backend", "threads", NULL };
    static const char *const flags[] = { "proba", "outputs", "help", NULL };
    if (arg_flag(a, "help")) {
        fputs(predict_help, stdout);
        return EXIT_OK;
    }
    int rc = check_known_options(a, with_value, flags);
    if (rc != EXIT_OK)
        return rc;
    if (arg_flag(a, "proba") && arg_flag(a, "outputs"))
        return usage_error(a, "--proba and --outputs exclude each other");
    if (distributed_processes() > 1) {
        fprintf(stderr, "galann predict: prints one line per image in order: run it as one process, not under "
                "mpirun\n");
        return EXIT_USAGE;
    }
    loaded l = { NULL, NULL, NULL };
    rc = open_model_and_data(a, &l);
    if (rc != EXIT_OK) {
        free_loaded(&l);
        return rc;
    }
    size_t m = galann_dataset_n_samples(l.data), k = galann_dataset_n_labels(l.data);
    if (arg_flag(a, "proba") || arg_flag(a, "outputs")) {
        double *p = malloc(m * k * sizeof *p);
        if (!p || galann_predict_proba(l.ctx, l.model, l.data, p, m * k) != GALANN_OK)
            rc = p ? runtime_error(a, "prediction failed") : EXIT_RUNTIME;
        for (size_t i = 0; rc == EXIT_OK && i < m; i++) {
            if (arg_flag(a, "proba"))
                normalise_row(p + i * k, k);
            for (size_t c = 0; c < k; c++)
                printf(c ? ",%.17g" : "%.17g", p[i * k + c]);
            putchar('\n');
        }
        free(p);
    } else {
        int32_t *labels = malloc(m * sizeof *labels);
        if (!labels || galann_predict(l.ctx, l.model, l.data, labels, m) != GALANN_OK)
            rc = labels ? runtime_error(a, "prediction failed") : EXIT_RUNTIME;
        for (size_t i = 0; rc == EXIT_OK && i < m; i++)
            printf("%d\n", (int)labels[i]);
        free(labels);
    }
    free_loaded(&l);
    return rc;
}

int command_eval(const cli_args *a)
{
    static const char *const with_value[] = { "model", "data", "lambda", "backend", "threads", NULL };
    static const char *const flags[] = { "help", NULL };
    if (arg_flag(a, "help")) {
        fputs(eval_help, stdout);
        return EXIT_OK;
    }
    double lambda = 1.0;
    int rc = check_known_options(a, with_value, flags);
    if (rc == EXIT_OK)
        rc = parse_double_option(a, "lambda", &lambda);
    if (rc != EXIT_OK)
        return rc;
    loaded l = { NULL, NULL, NULL };
    rc = open_model_and_data(a, &l);
    if (rc != EXIT_OK) {
        free_loaded(&l);
        return rc;
    }
    size_t m = galann_dataset_n_samples(l.data), k = galann_dataset_n_labels(l.data);
    int32_t *pred = malloc((m ? m : 1) * sizeof *pred);
    /* the k x k confusion counts, then the sample count: summed over
     * processes under mpirun */
    int64_t *counts = calloc(k * k + 1, sizeof *counts);
    double cost = 0.0;
    if (!pred || !counts)
        rc = EXIT_RUNTIME;
    else if (galann_cost(l.ctx, l.model, l.data, lambda, &cost) != GALANN_OK)
        rc = runtime_error(a, "evaluation failed");
    else if (m > 0 && galann_predict(l.ctx, l.model, l.data, pred, m) != GALANN_OK)
        rc = runtime_error(a, "evaluation failed");
    rc = distributed_agree(rc);
    if (rc == EXIT_OK) {
        const int32_t *truth = galann_dataset_labels(l.data);
        for (size_t i = 0; i < m; i++)
            counts[(size_t)truth[i] * k + (size_t)pred[i]]++;
        counts[k * k] = (int64_t)m;
        rc = distributed_sum_counts(a, counts, k * k + 1);
    }
    if (rc == EXIT_OK) {
        size_t correct = 0;
        m = (size_t)counts[k * k];
        for (size_t c = 0; c < k; c++)
            correct += (size_t)counts[c * k + c];
        printf("samples: %zu\ncost: %.17g (lambda %g)\naccuracy: %.2f%% (%zu/%zu)\n", m, cost, lambda,
               100.0 * (double)correct / (double)m, correct, m);
        printf("confusion matrix (rows: true class, columns: predicted):\n%8s", "");
        for (size_t c = 0; c < k; c++)
            printf(" %7zu", c);
        putchar('\n');
        for (size_t t = 0; t < k; t++) {
            printf("%8zu", t);
            for (size_t c = 0; c < k; c++)
                printf(" %7zu", (size_t)counts[t * k + c]);
            putchar('\n');
        }
    }
    free(pred);
    free(counts);
    free_loaded(&l);
    return rc;
}
