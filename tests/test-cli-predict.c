/*
 * test-cli-predict.c -- `galann predict` and `galann eval` print what the
 * library computes on the same model file and data file: the labels of
 * galann_predict, the outputs of galann_predict_proba bit for bit (--outputs)
 * and normalised as Python's predict_proba (--proba), the cost
 * of galann_cost, and the accuracy and confusion matrix counted from
 * galann_predict and the true labels, also on data that lacks a class.
 *
 * The model is trained by `galann train` on `galann synth` data and gets
 * most test images right, so a program that prints one class for every
 * image, or the true labels, or a transposed matrix cannot pass.
 *
 * Usage: test-cli-predict /path/to/galann   (meson passes the built program)
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

#define CLASSES 3

static const char *galann_program;
static char work_dir[] = "/tmp/galann-cli-predict-XXXXXX";
static char model_path[256], test_path[256], two_class_path[256];

/* ------------------------------------------------------------ helpers */

/* The whole file, malloc'ed and NUL-terminated; NULL if unreadable. */
static char *read_whole_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
        if (fread(text, 1, (size_t)size, f) == (size_t)size) {
            text[size] = '\0';
        } else {
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    return text;
}

/* Run galann with the arguments (already shell-quoted where needed);
 * returns its stdout, malloc'ed (NULL if unreadable), and its exit status
 * in *exit_status. */
static char *run_galann(int *exit_status, const char *format, ...)
{
    char args[1024], command[2048], stdout_path[512];
    va_list ap;
    va_start(ap, format);
    vsnprintf(args, sizeof args, format, ap);
    va_end(ap);
    snprintf(stdout_path, sizeof stdout_path, "%s/stdout", work_dir);
    snprintf(command, sizeof command, "'%s' %s >'%s' 2>'%s/stderr'", galann_program, args, stdout_path, work_dir);
    fflush(NULL);
    int status = system(command);
    *exit_status = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return read_whole_file(stdout_path);
}

static char *run_galann_ok_at(const char *what, const char *file, int line, const char *args)
{
    int status;
    char *out = run_galann(&status, "%s", args);
    if (status != 0 || !out) {
        print_error("galann %s: exit status %d (see %s/stderr)\n", what, status, work_dir);
        free(out);
        _fail(file, line);
    }
    return out;
}
#define run_galann_ok(what, args) run_galann_ok_at(what, __FILE__, __LINE__, args)

/* The data file as `galann predict` reads it: scaled by the model's
 * divisor, with the model's classes. */
static galann_dataset *load_like_the_cli(const char *path, const galann_model *m)
{
    char *text = read_whole_file(path);
    assert_non_null(text);
    galann_dataset *read = NULL;
    expect_status(galann_dataset_parse_csv(text, strlen(text), path, galann_model_input_divisor(m), &read),
                  GALANN_OK);
    free(text);
    size_t k = galann_model_layer_size(m, galann_model_n_layers(m) - 1);
    galann_dataset *d = NULL;
    expect_status(galann_dataset_new(galann_dataset_features(read), galann_dataset_labels(read),
                                     galann_dataset_n_samples(read), galann_dataset_n_features(read), k, &d),
                  GALANN_OK);
    galann_dataset_free(read);
    return d;
}

typedef struct library_view {
    galann_model *model;
    galann_dataset *data;
    galann_context *ctx;
    size_t m, k;
    int32_t *labels;
} library_view;

/* The model file and the data file through the library: what the CLI
 * must print. */
static library_view library_on(const char *data_path)
{
    library_view v = { 0 };
    expect_status(galann_model_load(model_path, &v.model), GALANN_OK);
    v.data = load_like_the_cli(data_path, v.model);
    expect_status(galann_context_new(NULL, &v.ctx), GALANN_OK);
    v.m = galann_dataset_n_samples(v.data);
    v.k = galann_dataset_n_labels(v.data);
    v.labels = malloc(v.m * sizeof *v.labels);
    assert_non_null(v.labels);
    expect_status(galann_predict(v.ctx, v.model, v.data, v.labels, v.m), GALANN_OK);
    return v;
}

static void free_view(library_view *v)
{
    free(v->labels);
    galann_context_free(v->ctx);
    galann_dataset_free(v->data);
    galann_model_free(v->model);
}

/* One integer per line, exactly m lines, each equal to the library's. */
static void expect_labels_printed(const char *out, const library_view *v)
{
    const char *p = out;
    for (size_t i = 0; i < v->m; i++) {
        char *end;
        long label = strtol(p, &end, 10);
        if (end == p || *end != '\n') {
            print_error("line %zu of the output is not a class number: \"%.20s\"\n", i + 1, p);
            fail();
        }
        if (label != v->labels[i]) {
            print_error("sample %zu: galann predict printed %ld, galann_predict gives %d\n", i, label,
                        (int)v->labels[i]);
            fail();
        }
        p = end + 1;
    }
    if (*p != '\0') {
        print_error("output has more than %zu lines: \"%.20s\"\n", v->m, p);
        fail();
    }
}

/* ------------------------------------------------------------- setup */

static int make_model_and_data(void **state)
{
    (void)state;
    if (!mkdtemp(work_dir))
        return -1;
    snprintf(model_path, sizeof model_path, "%s/model.galann", work_dir);
    snprintf(test_path, sizeof test_path, "%s/test.csv", work_dir);
    snprintf(two_class_path, sizeof two_class_path, "%s/two-classes.csv", work_dir);
    char args[1024];
    snprintf(args, sizeof args, "synth --out '%s' --train 600 --test 150 --seed 5", work_dir);
    int status;
    free(run_galann(&status, "%s", args));
    if (status != 0)
        return -1;
    snprintf(args, sizeof args, "train --train '%s/train.csv' --test '%s' --maxiter 40 --quiet --save '%s'",
             work_dir, test_path, model_path);
    free(run_galann(&status, "%s", args));
    return status == 0 ? 0 : -1;
}

static int remove_work_dir(void **state)
{
    (void)state;
    static const char *const names[] = { "train.csv", "test.csv", "two-classes.csv", "model.galann", "stdout",
                                         "stderr" };
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", work_dir, names[i]);
        remove(path);
    }
    rmdir(work_dir);
    return 0;
}

/* --------------------------------------------------------------- tests */

static void the_trained_model_is_well_above_chance(void **state)
{
    (void)state;
    library_view v = library_on(test_path);
    assert_int_equal(v.k, CLASSES);
    const int32_t *truth = galann_dataset_labels(v.data);
    size_t right = 0, per_class[CLASSES] = { 0 };
    for (size_t i = 0; i < v.m; i++) {
        right += v.labels[i] == truth[i];
        per_class[v.labels[i]]++;
    }
    /* chance is 1/3; every class is predicted for some image */
    if (!(right >= v.m * 6 / 10) || !per_class[0] || !per_class[1] || !per_class[2]) {
        print_error("%zu of %zu right, predicted per class %zu %zu %zu\n", right, v.m, per_class[0], per_class[1],
                    per_class[2]);
        fail();
    }
    free_view(&v);
}

static void predict_prints_the_labels_of_galann_predict(void **state)
{
    (void)state;
    library_view v = library_on(test_path);
    char args[1024];
    snprintf(args, sizeof args, "predict --model '%s' --data '%s'", model_path, test_path);
    char *out = run_galann_ok("predict", args);
    expect_labels_printed(out, &v);
    free(out);
    free_view(&v);
}

/* The printed rows of `galann predict FLAG` against want, bit for bit. */
static void expect_rows_printed(const char *flag, const double *want, size_t m, size_t k)
{
    char args[1024];
    snprintf(args, sizeof args, "predict --model '%s' --data '%s' %s", model_path, test_path, flag);
    char *out = run_galann_ok(flag, args);
    /* a header naming the classes (by number: the model has no names) */
    const char *header = "0,1,2\n";
    if (k != 3 || strncmp(out, header, strlen(header)) != 0) {
        print_error("%s: the output starts \"%.20s\", not the header %s", flag, out, header);
        fail();
    }
    const char *p = out + strlen(header);
    for (size_t i = 0; i < m; i++) {
        for (size_t c = 0; c < k; c++) {
            char *end;
            double got = strtod(p, &end);
            char expected_end = c + 1 < k ? ',' : '\n';
            if (end == p || *end != expected_end || memcmp(&got, &want[i * k + c], sizeof got) != 0) {
                print_error("%s: sample %zu, class %zu: printed \"%.30s\", expected %.17g\n", flag, i, c, p,
                            want[i * k + c]);
                fail();
            }
            p = end + 1;
        }
    }
    assert_int_equal(*p, '\0');
    free(out);
}

static void predict_outputs_prints_galann_predict_proba_bit_for_bit(void **state)
{
    (void)state;
    library_view v = library_on(test_path);
    double *want = malloc(v.m * v.k * sizeof *want);
    assert_non_null(want);
    expect_status(galann_predict_proba(v.ctx, v.model, v.data, want, v.m * v.k), GALANN_OK);
    expect_rows_printed("--outputs", want, v.m, v.k);
    free(want);
    free_view(&v);
}

/* --proba: the sigmoids over their sum, as Python's predict_proba (numpy
 * sums a row of 3 in order); every row sums to 1 within rounding. */
static void predict_proba_prints_normalised_probabilities(void **state)
{
    (void)state;
    library_view v = library_on(test_path);
    double *want = malloc(v.m * v.k * sizeof *want);
    assert_non_null(want);
    expect_status(galann_predict_proba(v.ctx, v.model, v.data, want, v.m * v.k), GALANN_OK);
    for (size_t i = 0; i < v.m; i++) {
        double total = 0.0, check = 0.0;
        for (size_t c = 0; c < v.k; c++)
            total += want[i * v.k + c];
        for (size_t c = 0; c < v.k; c++) {
            want[i * v.k + c] /= total;
            check += want[i * v.k + c];
        }
        assert_true(fabs(check - 1.0) < 1e-15);
    }
    expect_rows_printed("--proba", want, v.m, v.k);
    free(want);
    free_view(&v);
}

/* Numbers of `galann eval` output, in its order. */
typedef struct eval_output {
    size_t samples, correct, total;
    double cost, lambda, percent;
    size_t confusion[CLASSES][CLASSES];
} eval_output;

static void parse_eval(const char *out, eval_output *e)
{
    const char *at = strstr(out, "samples: ");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "samples: %zu", &e->samples), 1);
    at = strstr(out, "cost: ");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "cost: %lf (lambda %lf)", &e->cost, &e->lambda), 2);
    at = strstr(out, "accuracy: ");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "accuracy: %lf%% (%zu/%zu)", &e->percent, &e->correct, &e->total), 3);
    at = strstr(out, "confusion matrix");
    assert_non_null(at);
    at = strchr(at, '\n'); /* the title */
    assert_non_null(at);
    at = strchr(at + 1, '\n'); /* the column numbers */
    assert_non_null(at);
    for (size_t t = 0; t < CLASSES; t++) {
        size_t row;
        assert_int_equal(sscanf(at + 1, "%zu %zu %zu %zu", &row, &e->confusion[t][0], &e->confusion[t][1],
                                &e->confusion[t][2]), 4);
        assert_int_equal(row, t);
        at = strchr(at + 1, '\n');
        assert_non_null(at);
    }
}

static void expect_eval_of(const char *data_path, double lambda)
{
    library_view v = library_on(data_path);
    double want_cost;
    expect_status(galann_cost(v.ctx, v.model, v.data, lambda, &want_cost), GALANN_OK);
    const int32_t *truth = galann_dataset_labels(v.data);
    size_t want[CLASSES][CLASSES] = { { 0 } }, right = 0;
    for (size_t i = 0; i < v.m; i++) {
        want[truth[i]][v.labels[i]]++;
        right += truth[i] == v.labels[i];
    }

    char args[1024];
    snprintf(args, sizeof args, "eval --model '%s' --data '%s' --lambda %.17g", model_path, data_path, lambda);
    char *out = run_galann_ok("eval", args);
    eval_output e;
    parse_eval(out, &e);
    assert_int_equal(e.samples, v.m);
    assert_int_equal(e.total, v.m);
    assert_int_equal(e.correct, right);
    assert_true(e.lambda == lambda);
    assert_relative(e.percent, 100.0 * (double)right / (double)v.m, 5e-4, "printed accuracy (2 decimals)");
    if (memcmp(&e.cost, &want_cost, sizeof want_cost) != 0) {
        print_error("eval printed cost %.17g, galann_cost gives %.17g\n", e.cost, want_cost);
        fail();
    }
    for (size_t t = 0; t < CLASSES; t++) {
        for (size_t c = 0; c < CLASSES; c++) {
            if (e.confusion[t][c] != want[t][c]) {
                print_error("confusion[true %zu][predicted %zu] = %zu, counted %zu\n", t, c, e.confusion[t][c],
                            want[t][c]);
                fail();
            }
        }
    }
    free(out);
    free_view(&v);
}

static void eval_prints_the_cost_accuracy_and_confusion_the_library_gives(void **state)
{
    (void)state;
    expect_eval_of(test_path, 1.0);
    expect_eval_of(test_path, 0.25);
}

/* Classes 0 and 1 only: the CLI widens the labels to the model's three
 * classes, as galann_dataset_new with k = 3 does here. */
static void data_without_a_class_is_predicted_and_evaluated_with_the_models_classes(void **state)
{
    (void)state;
    galann_dataset *all = NULL;
    expect_status(galann_dataset_load_csv(test_path, &all), GALANN_OK);
    size_t m = galann_dataset_n_samples(all), n = galann_dataset_n_features(all), kept = 0;
    const double *x = galann_dataset_features(all);
    const int32_t *y = galann_dataset_labels(all);
    double *features = malloc(m * n * sizeof *features);
    int32_t *labels = malloc(m * sizeof *labels);
    assert_non_null(features);
    assert_non_null(labels);
    for (size_t i = 0; i < m; i++) {
        if (y[i] == 2)
            continue;
        memcpy(features + kept * n, x + i * n, n * sizeof *features);
        labels[kept++] = y[i];
    }
    galann_dataset *two = NULL;
    expect_status(galann_dataset_new(features, labels, kept, n, 2, &two), GALANN_OK);
    expect_status(galann_dataset_save_csv(two, two_class_path, 255.0), GALANN_OK);

    library_view v = library_on(two_class_path);
    assert_int_equal(v.m, kept);
    char args[1024];
    snprintf(args, sizeof args, "predict --model '%s' --data '%s'", model_path, two_class_path);
    char *out = run_galann_ok("predict", args);
    expect_labels_printed(out, &v);
    free(out);
    free_view(&v);
    expect_eval_of(two_class_path, 1.0);

    galann_dataset_free(two);
    galann_dataset_free(all);
    free(features);
    free(labels);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s /path/to/galann\n", argv[0]);
        return 2;
    }
    galann_program = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_trained_model_is_well_above_chance),
        cmocka_unit_test(predict_prints_the_labels_of_galann_predict),
        cmocka_unit_test(predict_outputs_prints_galann_predict_proba_bit_for_bit),
        cmocka_unit_test(predict_proba_prints_normalised_probabilities),
        cmocka_unit_test(eval_prints_the_cost_accuracy_and_confusion_the_library_gives),
        cmocka_unit_test(data_without_a_class_is_predicted_and_evaluated_with_the_models_classes),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, make_model_and_data, remove_work_dir));
}
