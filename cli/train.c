/*
 * train.c -- `galann train`: the original program's whole job.
 *
 * Loads (or synthesises) the data, initialises the weights like the
 * original, trains with the conjugate-gradient minimizer, prints one line
 * per iteration, and keeps the iterate with the lowest validation cost
 * (a validation file or a stratified share of the training set; the
 * original's choice by the test set only on request). A test set is only
 * reported. Optional outputs: the model (--save), the per-iteration trace
 * (--trace, CSV) and the learning curves (--plot, SVG).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "distributed.h"
#include "output_file.h"
#include "plot.h"

static const char train_help[] =
    "usage: galann train [--train FILE] [--validation FILE | --validation-fraction F] [--test FILE]\n"
    "                    [--train-labels FILE.npy] [--validation-labels FILE.npy] [--test-labels FILE.npy]\n"
    "                    [--patience N] [--select-by-test] [--classes E,S,I] [--scale S] [--header auto|yes|no]\n"
    "                    [--hidden N | --layers 1024,8,3] [--lambda L] [--maxiter N] [--seed S]\n"
    "                    [--backend NAME] [--threads N] [--precision P] [--save MODEL] [--trace FILE.csv]\n"
    "                    [--plot FILE.svg]\n"
    "                    [--quiet]\n"
    "\n"
    "Train the galaxy classifier with nonlinear conjugate gradient (as scipy's fmin_cg).\n"
    "Without --train, trains on the built-in synthetic galaxy set.\n"
    "\n"
    "data (CSV, label,p1..pn; - reads standard input, for one of the files):\n"
    "  --train FILE      the training set\n"
    "  --validation FILE a validation set: the iterate with the lowest validation cost is kept\n"
    "  --validation-fraction F\n"
    "                    hold out a stratified share F of the training set (seeded by --seed) as the\n"
    "                    validation set\n"
    "  --test FILE       a test set: reported every iteration, never used to choose anything\n"
    "  --patience N      stop when the validation cost has not improved for N iterations (default: off)\n"
    "  --select-by-test  the original program's choice: keep the iterate with the lowest TEST cost. The\n"
    "                    test accuracy it reports is then optimistic (the test set chose the model)\n"
    "  --classes LIST    class names, in label order: E,S,I names labels 0, 1, 2; saved in the model\n"
    "  --scale S         features are pixel / S (default 255; 1 for values already in [0, 1])\n"
    "  --header WHEN     auto (default: a first line with a non-number is a header), yes or no\n"
    "  A FILE ending in .npy is numpy's .npy: a 2-D array, uint8 pixels (divided by --scale) or float32/float64\n"
    "  values (used as stored); its labels in column 0, or in a 1-D integer .npy given by:\n"
    "  --train-labels FILE, --validation-labels FILE, --test-labels FILE\n"
    "                    the labels of a .npy --train, --validation, --test (--header does not apply to .npy)\n"
    "\n"
    "model and training:\n"
    "  --hidden N        hidden units of a 3-layer network (default 8)\n"
    "  --layers LIST     all layer sizes, e.g. 1024,16,8,3 (overrides --hidden)\n"
    "  --lambda L        regularisation (default 1)\n"
    "  --maxiter N       iterations (default 600)\n"
    "  --seed S          initial weights as numpy.random.seed(S) (default 917)\n"
    "  --backend NAME    reference, blas or opencl (default: best available)\n"
    "  --threads N       worker threads for the blas backend\n"
    "  --precision P     double (default: GALANN_PRECISION, else double), single (blas, opencl: float32\n"
    "                    products, float64 sums) or any (double where the device has it)\n"
    "\n"
    "outputs (checked before training starts):\n"
    "  --save MODEL      save the kept iterate (the last one without a validation set)\n"
    "  --trace FILE      per-iteration CSV: iter,J_train,acc_train,J_validation,acc_validation,J_test,acc_test\n"
    "                    (nan where a set is absent)\n"
    "  --plot FILE       SVG of the cost and accuracy curves, the kept iterate marked\n"
    "  --quiet           no per-iteration lines\n";

/* Ctrl-C asks the training loop to stop at the next iteration; the
 * program's own flag, not the library's. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Columns of a trace row. */
enum { COL_ITER, COL_J_TRAIN, COL_ACC_TRAIN, COL_J_VALID, COL_ACC_VALID, COL_J_TEST, COL_ACC_TEST, COLUMNS };

typedef struct train_history {
    size_t count, capacity;
    double *rows;     /* COLUMNS values per iteration */
    int quiet;
    int has_validation;
    int has_test;
    int test_is_validation; /* --select-by-test: the test set chooses */
} train_history;

static int record_iteration(void *user, const galann_fit_progress *p)
{
    train_history *h = user;
    if (h->count == h->capacity) {
        size_t cap = h->capacity ? 2 * h->capacity : 1024;
        double *rows = realloc(h->rows, cap * COLUMNS * sizeof *rows);
        if (!rows)
            return 1;
        h->rows = rows;
        h->capacity = cap;
    }
    double *row = h->rows + COLUMNS * h->count++;
    row[COL_ITER] = (double)p->iteration;
    row[COL_J_TRAIN] = p->train_cost;
    row[COL_ACC_TRAIN] = p->train_accuracy;
    row[COL_J_VALID] = h->test_is_validation ? NAN : p->validation_cost;
    row[COL_ACC_VALID] = h->test_is_validation ? NAN : p->validation_accuracy;
    row[COL_J_TEST] = h->test_is_validation ? p->validation_cost : p->test_cost;
    row[COL_ACC_TEST] = h->test_is_validation ? p->validation_accuracy : p->test_accuracy;
    if (!h->quiet) {
        printf("iter=%3zu:  Jtrain= %.4f acc= %.2f%%", p->iteration, p->train_cost, 100.0 * p->train_accuracy);
        if (h->has_validation)
            printf("  |  Jval= %.4f acc= %.2f%%", row[COL_J_VALID], 100.0 * row[COL_ACC_VALID]);
        if (h->has_test)
            printf("  |  Jtest= %.4f acc= %.2f%%", row[COL_J_TEST], 100.0 * row[COL_ACC_TEST]);
        putchar('\n');
        fflush(stdout);
    }
    return interrupted ? 1 : 0;
}

static int write_trace(const char *path, const train_history *h)
{
    output_file out;
    FILE *f = output_file_open(path, &out);
    if (!f)
        return -1;
    fprintf(f, "iter,J_train,acc_train,J_validation,acc_validation,J_test,acc_test\n");
    for (size_t i = 0; i < h->count; i++) {
        const double *r = h->rows + COLUMNS * i;
        fprintf(f, "%zu", (size_t)r[COL_ITER]);
        for (int c = COL_J_TRAIN; c < COLUMNS; c++)
            fprintf(f, ",%.17g", r[c]);
        fputc('\n', f);
    }
    return output_file_commit(&out);
}

static int parse_layers(const cli_args *a, const char *text, size_t *sizes, size_t *n_layers)
{
    size_t n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9')
            return usage_error(a, "--layers '%s' is not a list of positive sizes like 1024,8,3", text);
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v == 0 || n == 64)
            return usage_error(a, "--layers '%s' is not a list of positive sizes like 1024,8,3", text);
        sizes[n++] = v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return usage_error(a, "--layers '%s' is not a list of positive sizes like 1024,8,3", text);
    }
    if (n < 2)
        return usage_error(a, "--layers needs at least an input and an output size");
    *n_layers = n;
    return EXIT_OK;
}

typedef struct train_data {
    galann_dataset *train;
    galann_dataset *validation;
    galann_dataset *test;
} train_data;

static void free_train_data(train_data *d)
{
    galann_dataset_free(d->train);
    galann_dataset_free(d->validation);
    galann_dataset_free(d->test);
}

static int count_stdin(const char *const *paths, size_t n)
{
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += paths[i] && strcmp(paths[i], "-") == 0;
    return count;
}

/* The training, validation and test sets as the options name them; with
 * --validation-fraction, the validation set is split off the training set. */
static int load_data(const cli_args *a, const csv_reading *r, double fraction, uint32_t seed, train_data *d)
{
    const char *train = arg_value(a, "train"), *test = arg_value(a, "test");
    const char *validation = arg_value(a, "validation");
    int rc = EXIT_OK;
    if (!train) {
        if (test || validation)
            return usage_error(a, "--test and --validation need --train");
        printf("No --train given: training on the built-in synthetic galaxy set (%d train / %d test images, "
               "seed %u; 'galann synth' writes it as CSV).\n", SYNTH_DEFAULT_TRAIN, SYNTH_DEFAULT_TEST,
               SYNTH_DEFAULT_SEED);
        if (galann_dataset_synthesize(SYNTH_DEFAULT_TRAIN, SYNTH_DEFAULT_SEED, &d->train) != GALANN_OK ||
            galann_dataset_synthesize(SYNTH_DEFAULT_TEST, SYNTH_DEFAULT_SEED + 1, &d->test) != GALANN_OK)
            return runtime_error(a, "cannot synthesise the built-in data");
    } else {
        const char *paths[] = { train, validation, test };
        if (count_stdin(paths, 3) > 1)
            return usage_error(a, "only one of --train, --validation and --test can be - (standard input)");
        if (count_stdin(paths, 3) > 0 && distributed_processes() > 1)
            return usage_error(a, "- (standard input) cannot be shared between processes under mpirun");
        rc = load_dataset_labels(a, train, arg_value(a, "train-labels"), "cannot load the training set", r, 0,
                                 &d->train);
        if (rc == EXIT_OK && validation)
            rc = load_dataset_labels(a, validation, arg_value(a, "validation-labels"),
                                     "cannot load the validation set", r, 0, &d->validation);
        if (rc == EXIT_OK && test)
            rc = load_dataset_labels(a, test, arg_value(a, "test-labels"), "cannot load the test set", r, 0,
                                     &d->test);
        if (rc != EXIT_OK)
            return rc;
    }
    if (fraction > 0.0) {
        galann_dataset *rest = NULL, *held = NULL;
        if (galann_dataset_split(d->train, fraction, seed, &rest, &held) != GALANN_OK)
            return runtime_error(a, "cannot split off the validation set");
        galann_dataset_free(d->train);
        d->train = rest;
        d->validation = held;
        printf("validation set: %zu of the training images (a stratified %g, seed %u); training on %zu\n",
               galann_dataset_n_samples(held), fraction, seed, galann_dataset_n_samples(rest));
    }
    if (!train) {
        /* the synthetic sets were built whole on every process */
        rc = distributed_take_share(a, &d->train);
        if (rc == EXIT_OK && d->validation)
            rc = distributed_take_share(a, &d->validation);
        if (rc == EXIT_OK)
            rc = distributed_take_share(a, &d->test);
    }
    return rc;
}

/* Every set knows the same k classes: the most any set uses, or the
 * number of --classes names. */
static int agree_on_classes(const cli_args *a, train_data *d, const class_names *names, size_t *k)
{
    galann_dataset **sets[] = { &d->train, &d->validation, &d->test };
    *k = 0;
    for (size_t i = 0; i < 3; i++) {
        if (*sets[i] && galann_dataset_n_labels(*sets[i]) > *k)
            *k = galann_dataset_n_labels(*sets[i]);
    }
    if (names->count > 0 && names->count < *k)
        return usage_error(a, "--classes names %zu classes, the data has labels up to %zu", names->count, *k - 1);
    if (names->count > *k)
        *k = names->count;
    int rc = EXIT_OK;
    for (size_t i = 0; i < 3 && rc == EXIT_OK; i++) {
        if (*sets[i])
            rc = widen_dataset_labels(a, sets[i], *k);
    }
    return rc;
}

/* --save, --trace and --plot are checked before training, not after it;
 * only the process that writes checks, and all agree. */
static int check_outputs(const cli_args *a)
{
    static const char *const outputs[] = { "save", "trace", "plot" };
    int rc = EXIT_OK;
    for (size_t i = 0; i < 3 && rc == EXIT_OK; i++) {
        const char *path = arg_value(a, outputs[i]);
        if (path && distributed_is_leader())
            rc = check_writable_folder(a, path);
    }
    return distributed_agree(rc);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

/* The plot: the history's columns, the kept iterate marked. */
static int write_plot(const char *path, const train_history *h, size_t kept)
{
    size_t n = h->count;
    double *columns = malloc((n ? n : 1) * COLUMNS * sizeof *columns);
    if (!columns)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < COLUMNS; c++)
            columns[(size_t)c * n + i] = h->rows[i * COLUMNS + (size_t)c];
    learning_curve curve;
    memset(&curve, 0, sizeof curve);
    curve.n = n;
    curve.iteration = columns + COL_ITER * n;
    curve.train_cost = columns + COL_J_TRAIN * n;
    curve.train_accuracy = columns + COL_ACC_TRAIN * n;
    if (h->has_validation) {
        curve.validation_cost = columns + COL_J_VALID * n;
        curve.validation_accuracy = columns + COL_ACC_VALID * n;
    }
    if (h->has_test) {
        curve.test_cost = columns + COL_J_TEST * n;
        curve.test_accuracy = columns + COL_ACC_TEST * n;
    }
    curve.kept_iteration = kept;
    curve.title = "galann train";
    int rc = write_learning_curve_svg(path, &curve);
    free(columns);
    return rc;
}

typedef struct train_settings {
    size_t hidden, maxiter, patience, sizes[64], n_layers;
    double lambda, fraction;
    uint32_t seed;
    int select_by_test;
    csv_reading reading;
    class_names names;
} train_settings;

static int parse_settings(const cli_args *a, train_settings *t)
{
    static const char *const with_value[] = { "train", "test", "validation", "validation-fraction", "patience",
                                              "classes", "scale", "header", "hidden", "layers", "lambda",
                                              "maxiter", "seed", "backend", "threads", "precision", "save", "trace", "plot",
                                              "train-labels", "validation-labels", "test-labels", NULL };
    static const char *const labels_options[] = { "train", "train-labels", "validation", "validation-labels",
                                                   "test", "test-labels", NULL };
    static const char *const flags[] = { "quiet", "help", "select-by-test", NULL };
    memset(t, 0, sizeof *t);
    t->hidden = 8;
    t->maxiter = 600;
    t->lambda = 1.0;
    t->seed = 917;
    t->select_by_test = arg_flag(a, "select-by-test");
    int rc = check_known_options(a, with_value, flags);
    if (rc == EXIT_OK)
        rc = parse_size_option(a, "hidden", &t->hidden, 1);
    if (rc == EXIT_OK)
        rc = parse_size_option(a, "maxiter", &t->maxiter, 1);
    if (rc == EXIT_OK)
        rc = parse_size_option(a, "patience", &t->patience, 1);
    if (rc == EXIT_OK)
        rc = parse_double_option(a, "lambda", &t->lambda);
    if (rc == EXIT_OK)
        rc = parse_double_option(a, "validation-fraction", &t->fraction);
    if (rc == EXIT_OK)
        rc = parse_u32_option(a, "seed", &t->seed);
    if (rc == EXIT_OK && arg_value(a, "layers"))
        rc = parse_layers(a, arg_value(a, "layers"), t->sizes, &t->n_layers);
    if (rc == EXIT_OK)
        rc = parse_csv_reading(a, &t->reading);
    if (rc == EXIT_OK)
        rc = parse_class_names(a, &t->names);
    if (rc == EXIT_OK)
        rc = check_labels_options(a, labels_options);
    if (rc != EXIT_OK)
        return rc;
    if (!(t->lambda >= 0.0))
        return usage_error(a, "--lambda must be >= 0");
    if (arg_value(a, "validation-fraction") && !(t->fraction > 0.0 && t->fraction < 1.0))
        return usage_error(a, "--validation-fraction must be between 0 and 1 (e.g. 0.2)");
    if (t->fraction > 0.0 && arg_value(a, "validation"))
        return usage_error(a, "--validation and --validation-fraction exclude each other");
    if (t->fraction > 0.0 && arg_value(a, "train") && distributed_processes() > 1)
        return usage_error(a, "--validation-fraction splits the whole training file, which no process holds under "
                           "mpirun: give a --validation file");
    if (t->select_by_test && (arg_value(a, "validation") || t->fraction > 0.0))
        return usage_error(a, "--select-by-test chooses by the test set: it excludes --validation and "
                           "--validation-fraction");
    if (t->select_by_test && arg_value(a, "train") && !arg_value(a, "test"))
        return usage_error(a, "--select-by-test needs --test");
    int has_validation = arg_value(a, "validation") || t->fraction > 0.0 || t->select_by_test;
    if (arg_value(a, "patience") && !has_validation)
        return usage_error(a, "--patience needs a validation set (--validation or --validation-fraction)");
    return EXIT_OK;
}

static void print_network(const train_settings *t, const galann_model *model, galann_context *ctx)
{
    char device[256];
    galann_context_describe(ctx, device, sizeof device);
    printf("network %zu", t->sizes[0]);
    for (size_t l = 1; l < t->n_layers; l++)
        printf("-%zu", t->sizes[l]);
    printf(", %zu parameters, lambda %g, seed %u, %s\n", galann_model_n_params(model), t->lambda, t->seed, device);
    if (galann_model_class_name(model, 0)) {
        printf("classes:");
        for (size_t c = 0; c < t->sizes[t->n_layers - 1]; c++)
            printf(" %zu=%s", c, galann_model_class_name(model, c));
        putchar('\n');
    }
}

static void print_outcome(const train_history *h, const galann_fit_report *report, double elapsed)
{
    printf("stopped: %s after %zu iterations, %zu evaluations, %.2f s\n", galann_stop_reason_string(report->stop_reason),
           report->iterations, report->evaluations, elapsed);
    if (h->test_is_validation)
        printf("kept iterate %zu: the lowest TEST cost (--select-by-test: the test accuracy below is optimistic)\n",
               report->best_iteration);
    else if (h->has_validation)
        printf("kept iterate %zu: the lowest validation cost\n", report->best_iteration);
    printf("accuracy on training set = %.2f%%\n", 100.0 * report->train_accuracy);
    if (h->has_validation && !h->test_is_validation)
        printf("accuracy on validation set = %.2f%%\n", 100.0 * report->validation_accuracy);
    if (h->has_test)
        printf("accuracy on test set = %.2f%%%s\n",
               100.0 * (h->test_is_validation ? report->validation_accuracy : report->test_accuracy),
               h->test_is_validation ? " (optimistic: chosen by this set)" : "");
}

int command_train(const cli_args *a)
{
    if (arg_flag(a, "help")) {
        fputs(train_help, stdout);
        return EXIT_OK;
    }
    train_settings t;
    int rc = parse_settings(a, &t);
    if (rc == EXIT_OK)
        rc = check_outputs(a);
    if (rc != EXIT_OK)
        return rc;

    train_data data = { NULL, NULL, NULL };
    galann_context *ctx = NULL;
    galann_model *model = NULL;
    train_history history;
    memset(&history, 0, sizeof history);
    history.quiet = arg_flag(a, "quiet");
    size_t k = 0;
    /* the context first: a bad --backend, --threads or --precision is
     * then the only output, before any data is loaded or synthesised */
    rc = distributed_agree(open_context(a, &ctx));
    if (rc == EXIT_OK)
        rc = load_data(a, &t.reading, t.fraction, t.seed, &data);
    if (rc == EXIT_OK)
        rc = agree_on_classes(a, &data, &t.names, &k);
    if (rc == EXIT_OK)
        rc = distributed_attach(a, ctx);
    if (rc != EXIT_OK)
        goto done;

    size_t n = galann_dataset_n_features(data.train);
    if (t.n_layers == 0) {
        t.sizes[0] = n;
        t.sizes[1] = t.hidden;
        t.sizes[2] = k;
        t.n_layers = 3;
    } else if (t.sizes[0] != n || t.sizes[t.n_layers - 1] != k) {
        rc = usage_error(a, "--layers must start with the %zu features and end with the %zu labels", n, k);
        goto done;
    }
    if (galann_model_new(t.sizes, t.n_layers, &model) != GALANN_OK ||
        galann_model_init_random(model, t.seed) != GALANN_OK ||
        galann_model_set_input_divisor(model, t.reading.scale) != GALANN_OK ||
        (t.names.count && galann_model_set_class_names(model, t.names.names, t.names.count) != GALANN_OK)) {
        rc = runtime_error(a, "cannot create the model");
        goto done;
    }

    double j0 = 0.0, acc0 = 0.0;
    if (galann_cost(ctx, model, data.train, t.lambda, &j0) != GALANN_OK ||
        galann_accuracy(ctx, model, data.train, &acc0) != GALANN_OK) {
        rc = runtime_error(a, "cannot evaluate the initial model");
        goto done;
    }
    print_network(&t, model, ctx);
    printf("initial cost function J = %.17g, accuracy on training set = %.2f%%\n", j0, 100.0 * acc0);

    history.test_is_validation = t.select_by_test && data.test != NULL;
    history.has_validation = data.validation != NULL || history.test_is_validation;
    history.has_test = data.test != NULL;
    galann_fit_options fo;
    galann_fit_options_init(&fo);
    fo.lambda = t.lambda;
    fo.max_iterations = t.maxiter;
    fo.validation = history.test_is_validation ? data.test : data.validation;
    fo.test = history.test_is_validation ? NULL : data.test;
    fo.patience = t.patience;
    fo.progress = record_iteration;
    fo.progress_user = &history;
    galann_fit_report report;
    memset(&report, 0, sizeof report);
    report.struct_size = sizeof report;

    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, &old_sa);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = galann_fit(ctx, model, data.train, &fo, &report);
    double elapsed = seconds_since(&start);
    sigaction(SIGINT, &old_sa, NULL);
    if (status != GALANN_OK && status != GALANN_ERR_CANCELLED) {
        rc = runtime_error(a, "training failed");
        goto done;
    }
    if (status == GALANN_ERR_CANCELLED)
        printf("interrupted after %zu iterations\n", report.iterations);
    print_outcome(&history, &report, elapsed);

    /* every process holds the same model and history: one writes them */
    if (!distributed_is_leader()) {
        rc = status == GALANN_ERR_CANCELLED ? EXIT_INTERRUPTED : EXIT_OK;
        goto done;
    }
    if (arg_value(a, "save") && galann_model_save(model, arg_value(a, "save")) != GALANN_OK) {
        rc = runtime_error(a, "cannot save the model");
        goto done;
    }
    if (arg_value(a, "trace") && write_trace(arg_value(a, "trace"), &history) != 0) {
        fprintf(stderr, "galann train: cannot write the trace %s: %s\n", arg_value(a, "trace"), strerror(errno));
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (arg_value(a, "plot") &&
        write_plot(arg_value(a, "plot"), &history, history.has_validation ? report.best_iteration : 0) != 0) {
        fprintf(stderr, "galann train: cannot write the plot %s: %s\n", arg_value(a, "plot"), strerror(errno));
        rc = EXIT_RUNTIME;
        goto done;
    }
    rc = status == GALANN_ERR_CANCELLED ? EXIT_INTERRUPTED : EXIT_OK;

done:
    free(history.rows);
    galann_model_free(model);
    galann_context_free(ctx);
    free_train_data(&data);
    return rc;
}
