/*
 * cli.h -- what the galann program's subcommands share: argument parsing,
 * error reporting with the right exit status, loading data and models.
 */
#ifndef GALANN_CLI_H
#define GALANN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "galann.h"

/* Exit statuses of the galann program. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
/* Stopped by Ctrl-C: 128 + SIGINT, as shells report it. */
#define EXIT_INTERRUPTED 130

/* The seeds of the built-in synthetic set: `galann train` with no --train
 * uses these, and `galann synth` writes the same set by default. */
#define SYNTH_DEFAULT_SEED 1u
#define SYNTH_DEFAULT_TRAIN 2700
#define SYNTH_DEFAULT_TEST 675

/* ---- args.c: options, errors, output folders, the context ---- */

/* A parsed command line: --name value pairs and bare --flags. */
typedef struct cli_args {
    const char *command;
    int argc;
    char **argv;
} cli_args;

/* Find --name's value (as "--name value" or "--name=value"); NULL if absent. */
const char *arg_value(const cli_args *a, const char *name);
int arg_flag(const cli_args *a, const char *name);
/* Reject any option not in the NULL-terminated lists (exit status 2). */
int check_known_options(const cli_args *a, const char *const *with_value, const char *const *flags);

/* Numeric option parsers: 0 on success, else they print a usage error. */
int parse_size_option(const cli_args *a, const char *name, size_t *out, size_t min);
int parse_double_option(const cli_args *a, const char *name, double *out);
int parse_u32_option(const cli_args *a, const char *name, uint32_t *out);

/* Print "galann <command>: <what>: <library message>" and return exit status 1. */
int runtime_error(const cli_args *a, const char *what);
/* Print a usage error and return exit status 2. */
int usage_error(const cli_args *a, const char *fmt, ...);

/* 0 when the folder a file would be written in exists and is writable;
 * else prints why and returns EXIT_RUNTIME. */
int check_writable_folder(const cli_args *a, const char *path);

/* How the data files are read: --scale (the divisor, default 255) and
 * --header auto|yes|no (-1, 1, 0). */
typedef struct csv_reading {
    double scale;
    int header;
} csv_reading;
int parse_csv_reading(const cli_args *a, csv_reading *r);

typedef enum first_line_kind {
    FIRST_LINE_DATA,      /* numbers */
    FIRST_LINE_HEADER,    /* a field that is not a number */
    FIRST_LINE_NUMBERED   /* numbers counting up from 0 or 1: column numbers? */
} first_line_kind;
/* What a CSV file's first line looks like, and its field count. */
first_line_kind classify_first_line(const char *line, size_t length, size_t *fields);

/* Load a CSV file ("-": standard input, "<stdin>" in messages) as r says;
 * a header line is skipped (with a note) when r->header is auto and the
 * first line has a field that is not a number. expected_features 0: the
 * rows have a label column; else rows of exactly that many fields are
 * pixels only. Under mpirun, this process's share. Prints the error and
 * returns an exit status on failure; warns when every value looks scaled
 * already. */
int load_dataset(const cli_args *a, const char *path, const char *what, const csv_reading *r,
                 size_t expected_features, galann_dataset **out);
/* The same for a path ending in .npy (read as .npy: every process loads
 * the whole file, then keeps its share), with the labels from the .npy
 * file labels, or from the first column when labels is NULL; --header
 * does not apply, --scale divides uint8 pixels only. A CSV path ignores
 * labels (check_labels_options refuses one first). */
int load_dataset_labels(const cli_args *a, const char *path, const char *labels, const char *what,
                        const csv_reading *r, size_t expected_features, galann_dataset **out);
/* pairs: data option, its labels option, ..., NULL ("train",
 * "train-labels", ...). A labels option needs its data option, and that
 * file must be .npy (usage error otherwise). */
int check_labels_options(const cli_args *a, const char *const *pairs);

/* Make *d know k classes when its labels use fewer (a test set without
 * any sample of the last class, say); more than k is an error. */
int widen_dataset_labels(const cli_args *a, galann_dataset **d, size_t k);

/* --classes E,S,I: the names of classes 0, 1, 2, ... */
#define CLASS_NAMES_MAX 256
typedef struct class_names {
    size_t count;               /* 0: none given */
    const char *names[CLASS_NAMES_MAX];
    char text[4096];            /* the names point in here */
} class_names;
int parse_class_names(const cli_args *a, class_names *c);
/* Print class index as its name, or its number when the model has none. */
void print_class(const galann_model *m, size_t index);

/* Create the context named by --backend / --threads. */
int open_context(const cli_args *a, galann_context **out);

int command_train(const cli_args *a);
int command_predict(const cli_args *a);
int command_eval(const cli_args *a);
int command_synth(const cli_args *a);
int command_info(const cli_args *a);

#endif /* GALANN_CLI_H */
