/*
 * distributed_serial.c -- distributed.h for a galann program built without
 * MPI: one process holding everything.
 */
#include "distributed.h"

int distributed_start(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return EXIT_OK;
}

void distributed_finish(void) {}
int distributed_is_leader(void) { return 1; }
int distributed_processes(void) { return 1; }

int distributed_load_csv(const cli_args *a, const char *path, const char *what, const galann_csv_options *o,
                         galann_dataset **out)
{
    return galann_dataset_load_csv_with(path, o, out) == GALANN_OK ? EXIT_OK : runtime_error(a, what);
}

int distributed_take_share(const cli_args *a, galann_dataset **d)
{
    (void)a;
    (void)d;
    return EXIT_OK;
}

int distributed_attach(const cli_args *a, galann_context *ctx)
{
    (void)a;
    (void)ctx;
    return EXIT_OK;
}

int distributed_sum_counts(const cli_args *a, int64_t *counts, size_t n)
{
    (void)a;
    (void)counts;
    (void)n;
    return EXIT_OK;
}

int distributed_agree(int rc) { return rc; }
