/*
 * train.c -- `galann train`: the original program's whole job.
 *
 * Loads (or synthesises) the data, initialises the weights like the
 * original, trains with the conjugate-gradient minimizer, prints one line
 * per iteration, and keeps the iterate with the lowest test cost. Optional
 * outputs: the model (--save), the per-iteration trace (--trace, CSV) and
 * the cost curves (--plot, SVG).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "distributed.h"

static const char train_help[] =
    "usage: galann train [--train FILE] [--test FILE] [--hidden N | --layers 1024,8,3] [--lambda L]\n"
    "                    [--maxiter N] [--seed S] [--backend NAME] [--threads N] [--save MODEL]\n"
    "                    [--trace FILE.csv] [--plot FILE.svg] [--quiet]\n"
    "\n"
    "Train the galaxy classifier with nonlinear conjugate gradient (as scipy's fmin_cg).\n"
    "Without --train, trains on the built-in synthetic galaxy set.\n"
    "\n"
    "  --train FILE      training CSV (label,p1..pn; pixels 0..255); - reads standard input\n"
    "  --test FILE       test CSV (- for standard input): reported every iteration; the iterate with the\n"
    "                    lowest test cost is kept (\"best\")\n"
    "  --hidden N        hidden units of a 3-layer network (default 8)\n"
    "  --layers LIST     all layer sizes, e.g. 1024,16,8,3 (overrides --hidden)\n"
    "  --lambda L        regularisation (default 1)\n"
    "  --maxiter N       iterations (default 600)\n"
    "  --seed S          initial weights as numpy.random.seed(S) (default 917)\n"
    "  --backend NAME    reference, blas or opencl (default: best available)\n"
    "  --threads N       worker threads for the blas backend\n"
    "  --save MODEL      save the best iterate (or the last, without --test)\n"
    "  --trace FILE      per-iteration CSV: iter,J_train,acc_train,J_test,acc_test\n"
    "  --plot FILE       SVG of the training and test cost curves\n"
    "  --quiet           no per-iteration lines\n";

/* Ctrl-C asks the training loop to stop at the next iteration; the
 * program's own flag, not the library's. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct train_history {
    size_t count, capacity;
    double *rows;     /* iter, J_train, acc_train, J_test, acc_test per row */
    int quiet;
    int has_test;
} train_history;

static int record_iteration(void *user, const galann_fit_progress *p)
{
    train_history *h = user;
    if (h->count == h->capacity) {
        size_t cap = h->capacity ? 2 * h->capacity : 1024;
        double *rows = realloc(h->rows, cap * 5 * sizeof *rows);
        if (!rows)
            return 1;
        h->rows = rows;
        h->capacity = cap;
    }
    double *row = h->rows + 5 * h->count++;
    row[0] = (double)p->iteration;
    row[1] = p->train_cost;
    row[2] = p->train_accuracy;
    row[3] = p->validation_cost;
    row[4] = p->validation_accuracy;
    if (!h->quiet) {
        printf("iter=%3zu:  Jtrain= %.4f acc= %.2f%%", p->iteration, p->train_cost, 100.0 * p->train_accuracy);
        if (h->has_test)
            printf("  |  Jtest= %.4f acc= %.2f%%", p->validation_cost, 100.0 * p->validation_accuracy);
        putchar('\n');
        fflush(stdout);
    }
    return interrupted ? 1 : 0;
}

static int write_trace(const char *path, const train_history *h)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "iter,J_train,acc_train,J_test,acc_test\n");
    for (size_t i = 0; i < h->count; i++) {
        const double *r = h->rows + 5 * i;
        fprintf(f, "%zu,%.17g,%.17g,%.17g,%.17g\n", (size_t)r[0], r[1], r[2], r[3], r[4]);
    }
    return fclose(f);
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
    galann_dataset *test;
} train_data;

static int load_data(const cli_args *a, train_data *d)
{
    const char *train = arg_value(a, "train"), *test = arg_value(a, "test");
    if (!train) {
        if (test)
            return usage_error(a, "--test needs --train");
        printf("No --train given: training on the built-in synthetic galaxy set (%d train / %d test images, "
               "seed %u; 'galann synth' writes it as CSV).\n", SYNTH_DEFAULT_TRAIN, SYNTH_DEFAULT_TEST,
               SYNTH_DEFAULT_SEED);
        if (galann_dataset_synthesize(SYNTH_DEFAULT_TRAIN, SYNTH_DEFAULT_SEED, &d->train) != GALANN_OK ||
            galann_dataset_synthesize(SYNTH_DEFAULT_TEST, SYNTH_DEFAULT_SEED + 1, &d->test) != GALANN_OK)
            return runtime_error(a, "cannot synthesise the built-in data");
        int rc = distributed_take_share(a, &d->train);
        return rc == EXIT_OK ? distributed_take_share(a, &d->test) : rc;
    }
    int train_stdin = strcmp(train, "-") == 0, test_stdin = test && strcmp(test, "-") == 0;
    if (train_stdin && test_stdin)
        return usage_error(a, "--train and --test cannot both be - (standard input)");
    if ((train_stdin || test_stdin) && distributed_processes() > 1)
        return usage_error(a, "- (standard input) cannot be shared between processes under mpirun");
    /* pixels 0..255, as galann_dataset_load_csv reads them */
    int rc = train_stdin ? load_csv_text(a, "-", 255.0, &d->train)
                         : distributed_load_csv(a, train, "cannot load the training set", &d->train);
    if (rc == EXIT_OK && test)
        rc = test_stdin ? load_csv_text(a, "-", 255.0, &d->test)
                        : distributed_load_csv(a, test, "cannot load the test set", &d->test);
    return rc;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

int command_train(const cli_args *a)
{
    static const char *const with_value[] = { "train", "test", "hidden", "layers", "lambda", "maxiter", "seed",
                                              "backend", "threads", "save", "trace", "plot", NULL };
    static const char *const flags[] = { "quiet", "help", NULL };
    if (arg_flag(a, "help")) {
        fputs(train_help, stdout);
        return EXIT_OK;
    }
    int rc = check_known_options(a, with_value, flags);
    size_t hidden = 8, maxiter = 600, sizes[64], n_layers = 0;
    double lambda = 1.0;
    uint32_t seed = 917;
    if (rc == EXIT_OK)
        rc = parse_size_option(a, "hidden", &hidden, 1);
    if (rc == EXIT_OK)
        rc = parse_size_option(a, "maxiter", &maxiter, 1);
    if (rc == EXIT_OK)
        rc = parse_double_option(a, "lambda", &lambda);
    if (rc == EXIT_OK)
        rc = parse_u32_option(a, "seed", &seed);
    if (rc == EXIT_OK && arg_value(a, "layers"))
        rc = parse_layers(a, arg_value(a, "layers"), sizes, &n_layers);
    if (rc == EXIT_OK && !(lambda >= 0.0))
        rc = usage_error(a, "--lambda must be >= 0");
    if (rc != EXIT_OK)
        return rc;

    if (rc != EXIT_OK)
        return rc;
    /* a --save that cannot succeed is found before training, not after;
     * only the process that writes checks, and all agree */
    if (arg_value(a, "save"))
        rc = distributed_agree(distributed_is_leader() ? check_writable_folder(a, arg_value(a, "save")) : EXIT_OK);
    if (rc != EXIT_OK)
        return rc;

    train_data data = { NULL, NULL };
    galann_context *ctx = NULL;
    galann_model *model = NULL;
    train_history history = { 0, 0, NULL, arg_flag(a, "quiet"), 0 };
    rc = load_data(a, &data);
    if (rc == EXIT_OK)
        rc = distributed_agree(open_context(a, &ctx));
    if (rc == EXIT_OK)
        rc = distributed_attach(a, ctx);
    if (rc != EXIT_OK)
        goto done;

    size_t n = galann_dataset_n_features(data.train), k = galann_dataset_n_labels(data.train);
    if (data.test && galann_dataset_n_labels(data.test) > k)
        k = galann_dataset_n_labels(data.test);
    /* both sets must know all k classes, even one a set never uses */
    rc = widen_dataset_labels(a, &data.train, k);
    if (rc == EXIT_OK && data.test)
        rc = widen_dataset_labels(a, &data.test, k);
    if (rc != EXIT_OK)
        goto done;
    if (n_layers == 0) {
        sizes[0] = n;
        sizes[1] = hidden;
        sizes[2] = k;
        n_layers = 3;
    } else if (sizes[0] != n || sizes[n_layers - 1] != k) {
        rc = usage_error(a, "--layers must start with the %zu features and end with the %zu labels", n, k);
        goto done;
    }
    if (galann_model_new(sizes, n_layers, &model) != GALANN_OK || galann_model_init_random(model, seed) != GALANN_OK) {
        rc = runtime_error(a, "cannot create the model");
        goto done;
    }

    double j0 = 0.0, acc0 = 0.0;
    if (galann_cost(ctx, model, data.train, lambda, &j0) != GALANN_OK ||
        galann_accuracy(ctx, model, data.train, &acc0) != GALANN_OK) {
        rc = runtime_error(a, "cannot evaluate the initial model");
        goto done;
    }
    char device[256];
    galann_context_describe(ctx, device, sizeof device);
    printf("network %zu", sizes[0]);
    for (size_t l = 1; l < n_layers; l++)
        printf("-%zu", sizes[l]);
    printf(", %zu parameters, lambda %g, seed %u, %s\n", galann_model_n_params(model), lambda, seed, device);
    printf("initial cost function J = %.17g, accuracy on training set = %.2f%%\n", j0, 100.0 * acc0);

    history.has_test = data.test != NULL;
    galann_fit_options fo;
    galann_fit_options_init(&fo);
    fo.lambda = lambda;
    fo.max_iterations = maxiter;
    fo.validation = data.test;
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

    printf("stopped: %s after %zu iterations, %zu evaluations, %.2f s\n", galann_stop_reason_string(report.stop_reason),
           report.iterations, report.evaluations, elapsed);
    if (data.test)
        printf("best iterate (lowest test cost): iter %zu\n", report.best_iteration);
    printf("accuracy on training set = %.2f%%\n", 100.0 * report.train_accuracy);
    if (data.test)
        printf("accuracy on test set = %.2f%%\n", 100.0 * report.validation_accuracy);

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
        fprintf(stderr, "galann train: cannot write the trace %s\n", arg_value(a, "trace"));
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (arg_value(a, "plot")) {
        double *train = malloc((history.count + 1) * sizeof *train), *test = malloc((history.count + 1) * sizeof *test);
        int failed = !train || !test;
        for (size_t i = 0; !failed && i < history.count; i++) {
            train[i] = history.rows[5 * i + 1];
            test[i] = history.rows[5 * i + 3];
        }
        if (!failed)
            failed = write_cost_plot(arg_value(a, "plot"), train, data.test ? test : NULL, history.count) != 0;
        free(train);
        free(test);
        if (failed) {
            fprintf(stderr, "galann train: cannot write the plot %s\n", arg_value(a, "plot"));
            rc = EXIT_RUNTIME;
            goto done;
        }
    }
    rc = status == GALANN_ERR_CANCELLED ? EXIT_INTERRUPTED : EXIT_OK;

done:
    free(history.rows);
    galann_model_free(model);
    galann_context_free(ctx);
    galann_dataset_free(data.train);
    galann_dataset_free(data.test);
    return rc;
}
