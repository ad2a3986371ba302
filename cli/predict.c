/*
 * predict.c -- `galann predict` and `galann eval`: using a saved model on
 * a CSV data set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "distributed.h"
#include "plot.h"

static const char predict_help[] =
    "usage: galann predict --model MODEL --data FILE [--labels FILE.npy] [--proba | --outputs]\n"
    "                      [--header auto|yes|no] [--backend NAME] [--threads N]\n"
    "\n"
    "Print the predicted class of every image of FILE, one per line (its name when\n"
    "the model has class names), or with --proba the class probabilities,\n"
    "comma-separated under a header line naming the classes: the output sigmoids\n"
    "divided by their sum (as Python's Classifier.predict_proba gives them; equal\n"
    "when all underflow to 0), or with --outputs the raw output sigmoids (not\n"
    "probabilities: they need not sum to 1), under the same header.\n"
    "FILE is CSV: pixels only (p1..pn), or label,p1..pn (the label is not used);\n"
    "a header line is skipped; - reads standard input. Pixels are divided by the\n"
    "divisor the model was trained with.\n"
    "A FILE ending in .npy is numpy's .npy: a 2-D array of uint8 pixels (divided\n"
    "as above) or float32/float64 values (used as stored), pixels only or with\n"
    "the label in column 0; --labels FILE.npy names its labels' 1-D .npy.\n";

static const char eval_help[] =
    "usage: galann eval --model MODEL --data FILE [--labels FILE.npy] [--lambda L] [--plot FILE.svg]\n"
    "                   [--header auto|yes|no] [--backend NAME] [--threads N]\n"
    "\n"
    "Print the cost (regularised with lambda, default 1), the accuracy and the\n"
    "confusion matrix (rows: true class, columns: predicted; class names when the\n"
    "model has them) of MODEL on FILE (label,p1..pn; - reads standard input).\n"
    "--plot draws the confusion matrix as an SVG heat map.\n"
    "A FILE ending in .npy is numpy's .npy (uint8 pixels divided as the model\n"
    "was trained, floats used as stored): its labels in column 0, or in the\n"
    "1-D integer .npy given by --labels FILE.npy.\n";

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

/* labels_required: eval needs the label column; predict reads rows of
 * pixels only as well. */
static int open_model_and_data(const cli_args *a, loaded *l, int labels_required)
{
    const char *model = arg_value(a, "model"), *data = arg_value(a, "data");
    if (!model || !*model || !data || !*data)
        return usage_error(a, "--model and --data are required");
    static const char *const labels_options[] = { "data", "labels", NULL };
    csv_reading reading;
    int rc = parse_csv_reading(a, &reading);
    if (rc == EXIT_OK)
        rc = check_labels_options(a, labels_options);
    if (rc != EXIT_OK)
        return rc;
    if (distributed_processes() > 1 && strcmp(data, "-") == 0) {
        fprintf(stderr, "galann %s: --data - (standard input) cannot be shared between processes under mpirun\n",
                a->command);
        return EXIT_USAGE;
    }
    /* the backend first: a bad --backend, --threads or --precision is
     * the only error reported, before any file is read */
    rc = distributed_agree(open_context(a, &l->ctx));
    if (rc != EXIT_OK)
        return rc;
    if (galann_model_load(model, &l->model) != GALANN_OK)
        return distributed_agree(runtime_error(a, "cannot load the model"));
    /* the data is scaled with the divisor the model was trained with */
    reading.scale = galann_model_input_divisor(l->model);
    size_t inputs = galann_model_layer_size(l->model, 0);
    rc = load_dataset_labels(a, data, arg_value(a, "labels"), "cannot load the data", &reading,
                             labels_required ? 0 : inputs, &l->data);
    if (rc != EXIT_OK)
        return rc;
    if (galann_dataset_n_features(l->data) != inputs) {
        fprintf(stderr, "galann %s: %s has %zu features, the model takes %zu\n", a->command, data,
                galann_dataset_n_features(l->data), inputs);
        return EXIT_RUNTIME;
    }
    /* the data may use fewer classes than the model knows */
    size_t k = galann_model_layer_size(l->model, galann_model_n_layers(l->model) - 1);
    rc = widen_dataset_labels(a, &l->data, k);
    return rc == EXIT_OK ? distributed_attach(a, l->ctx) : rc;
}

int command_predict(const cli_args *a)
{
    static const char *const with_value[] = { "model", "data", "labels", "header", "backend", "threads", "precision", NULL };
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
    rc = open_model_and_data(a, &l, 0);
    if (rc != EXIT_OK) {
        free_loaded(&l);
        return rc;
    }
    size_t m = galann_dataset_n_samples(l.data), k = galann_dataset_n_labels(l.data);
    if (arg_flag(a, "proba") || arg_flag(a, "outputs")) {
        double *p = malloc(m * k * sizeof *p);
        if (!p || galann_predict_proba(l.ctx, l.model, l.data, p, m * k) != GALANN_OK)
            rc = p ? runtime_error(a, "prediction failed") : EXIT_RUNTIME;
        for (size_t c = 0; rc == EXIT_OK && c < k; c++) {
            if (c)
                putchar(',');
            print_class(l.model, c);
        }
        if (rc == EXIT_OK)
            putchar('\n');
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
        for (size_t i = 0; rc == EXIT_OK && i < m; i++) {
            print_class(l.model, (size_t)labels[i]);
            putchar('\n');
        }
        free(labels);
    }
    free_loaded(&l);
    return rc;
}

/* A class's label in a table: its name, or its number. */
static const char *class_label(const galann_model *m, size_t c, char *buf, size_t size)
{
    const char *name = galann_model_class_name(m, c);
    if (name)
        return name;
    snprintf(buf, size, "%zu", c);
    return buf;
}

static void print_confusion(const galann_model *m, const int64_t *counts, size_t k)
{
    char buf[32];
    int width = 7;
    for (size_t c = 0; c < k; c++) {
        int len = (int)strlen(class_label(m, c, buf, sizeof buf));
        if (len > width)
            width = len;
    }
    printf("confusion matrix (rows: true class, columns: predicted):\n%*s", width + 1, "");
    for (size_t c = 0; c < k; c++)
        printf(" %*s", width, class_label(m, c, buf, sizeof buf));
    putchar('\n');
    for (size_t t = 0; t < k; t++) {
        printf("%*s", width + 1, class_label(m, t, buf, sizeof buf));
        for (size_t c = 0; c < k; c++)
            printf(" %*lld", width, (long long)counts[t * k + c]);
        putchar('\n');
    }
}

static int plot_confusion(const cli_args *a, const galann_model *m, const int64_t *counts, size_t k)
{
    size_t *cells = malloc(k * k * sizeof *cells);
    const char **names = malloc(k * sizeof *names);
    char (*numbers)[32] = malloc(k * sizeof *numbers);
    int rc = EXIT_OK;
    if (!cells || !names || !numbers) {
        fprintf(stderr, "galann eval: out of memory for the plot\n");
        rc = EXIT_RUNTIME;
    }
    for (size_t i = 0; rc == EXIT_OK && i < k * k; i++)
        cells[i] = (size_t)counts[i];
    for (size_t c = 0; rc == EXIT_OK && c < k; c++)
        names[c] = class_label(m, c, numbers[c], sizeof numbers[c]);
    if (rc == EXIT_OK && write_confusion_svg(arg_value(a, "plot"), cells, k, names, "galann eval") != 0) {
        fprintf(stderr, "galann eval: cannot write the plot %s: %s\n", arg_value(a, "plot"), strerror(errno));
        rc = EXIT_RUNTIME;
    }
    free(cells);
    free(names);
    free(numbers);
    return rc;
}

int command_eval(const cli_args *a)
{
    static const char *const with_value[] = { "model", "data", "labels", "lambda", "plot", "header", "backend", "threads", "precision",
                                              NULL };
    static const char *const flags[] = { "help", NULL };
    if (arg_flag(a, "help")) {
        fputs(eval_help, stdout);
        return EXIT_OK;
    }
    double lambda = 1.0;
    int rc = check_known_options(a, with_value, flags);
    if (rc == EXIT_OK)
        rc = parse_double_option(a, "lambda", &lambda);
    if (rc == EXIT_OK && arg_value(a, "plot") && distributed_is_leader())
        rc = check_writable_folder(a, arg_value(a, "plot"));
    rc = distributed_agree(rc);
    if (rc != EXIT_OK)
        return rc;
    loaded l = { NULL, NULL, NULL };
    rc = open_model_and_data(a, &l, 1);
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
        print_confusion(l.model, counts, k);
        if (arg_value(a, "plot") && distributed_is_leader())
            rc = plot_confusion(a, l.model, counts, k);
    }
    free(pred);
    free(counts);
    free_loaded(&l);
    return rc;
}
