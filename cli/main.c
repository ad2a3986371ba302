/*
 * main.c -- the galann program: which subcommand runs, and the exit status
 * when its output could not be written. The helpers every subcommand uses
 * (options, errors, contexts): args.c; reading data: data.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "distributed.h"

static const char usage_text[] =
    "usage: galann <command> [options]\n"
    "\n"
    "commands:\n"
    "  train    train the galaxy classifier (built-in synthetic data without --train)\n"
    "  predict  predict classes (or probabilities) with a saved model\n"
    "  eval     cost, accuracy and confusion matrix of a saved model on a data set\n"
    "  synth    write the built-in synthetic galaxy set as train.csv and test.csv\n"
    "  info     version, backends and OpenCL devices\n"
    "\n"
    "Run 'galann <command> --help' for the options of a command.\n";

static int run_command(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("galann %s\n", galann_version());
        return EXIT_OK;
    }
    cli_args a = { argv[1], argc - 2, argv + 2 };
    static const struct {
        const char *name;
        int (*run)(const cli_args *);
    } commands[] = {
        { "train", command_train }, { "predict", command_predict }, { "eval", command_eval },
        { "synth", command_synth }, { "info", command_info },
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(&a);
    }
    fprintf(stderr, "galann: unknown command '%s'\n\n%s", argv[1], usage_text);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    int rc = distributed_start(&argc, &argv);
    if (rc != EXIT_OK)
        return rc;
    rc = run_command(argc, argv);
    /* output that could not be written is a failure, not a success (a full
     * disk, a closed pipe, > /dev/full) */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (distributed_is_leader())
            fprintf(stderr, "galann: cannot write the output: %s\n", strerror(errno));
        if (rc == EXIT_OK)
            rc = EXIT_RUNTIME;
    }
    distributed_finish();
    return rc;
}
