/*
 * distributed_mpi.c -- distributed.h over MPI (libgalann-mpi), for a
 * galann program built with MPI.
 *
 * A program started without mpirun (no launcher variables) stays a single
 * process and never initialises MPI, so `galann train` behaves the same
 * whether or not it was built with MPI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distributed.h"
#include "galann_mpi.h"

/* The program's one MPI handle (a program may have globals; the library
 * has none). NULL: not distributed. */
static galann_mpi *world;
static char *argument_text;
static char **argument_list;

static int launched_by_mpirun(void)
{
    static const char *const variables[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS",
                                             NULL };
    for (size_t i = 0; variables[i]; i++) {
        if (getenv(variables[i]))
            return 1;
    }
    return 0;
}

/* Rank 0's arguments to everyone: mismatched flags cannot happen. */
static int share_arguments(int *argc, char ***argv)
{
    long long bytes = 0;
    int count = *argc;
    if (galann_mpi_rank(world) == 0) {
        for (int i = 0; i < *argc; i++)
            bytes += (long long)strlen((*argv)[i]) + 1;
    }
    MPI_Bcast(&count, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(&bytes, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    argument_text = malloc((size_t)bytes + 1);
    argument_list = calloc((size_t)count + 1, sizeof *argument_list);
    if (!argument_text || !argument_list)
        return EXIT_RUNTIME;
    if (galann_mpi_rank(world) == 0) {
        char *p = argument_text;
        for (int i = 0; i < count; i++) {
            size_t len = strlen((*argv)[i]) + 1;
            memcpy(p, (*argv)[i], len);
            p += len;
        }
    }
    MPI_Bcast(argument_text, (int)bytes, MPI_CHAR, 0, MPI_COMM_WORLD);
    char *p = argument_text;
    for (int i = 0; i < count; i++) {
        argument_list[i] = p;
        p += strlen(p) + 1;
    }
    *argc = count;
    *argv = argument_list;
    return EXIT_OK;
}

int distributed_start(int *argc, char ***argv)
{
    if (!launched_by_mpirun())
        return EXIT_OK;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "galann: cannot initialise MPI\n");
        return EXIT_RUNTIME;
    }
    if (galann_mpi_new(MPI_COMM_WORLD, &world) != GALANN_OK) {
        fprintf(stderr, "galann: cannot set up the MPI communicator\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_RUNTIME);
    }
    if (galann_mpi_rank(world) != 0) {
        /* only rank 0 speaks; the others compute the same numbers */
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            MPI_Abort(MPI_COMM_WORLD, EXIT_RUNTIME);
    }
    if (share_arguments(argc, argv) != EXIT_OK) {
        fprintf(stderr, "galann: out of memory for the arguments\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_RUNTIME);
    }
    return EXIT_OK;
}

void distributed_finish(void)
{
    if (!world)
        return;
    galann_mpi_free(world);
    world = NULL;
    MPI_Finalize();
    free(argument_list);
    free(argument_text);
}

int distributed_is_leader(void) { return !world || galann_mpi_rank(world) == 0; }
int distributed_processes(void) { return world ? galann_mpi_size(world) : 1; }

int distributed_load_csv(const cli_args *a, const char *path, const char *what, const galann_csv_options *o,
                         galann_dataset **out)
{
    if (!world)
        return galann_dataset_load_csv_with(path, o, out) == GALANN_OK ? EXIT_OK : runtime_error(a, what);
    /* galann_mpi_load_csv reads labelled rows without a header, / 255: each
     * process its share; any other layout is read whole, then shared */
    int plain = o->header == 0 && o->labelled == 1 && o->divisor == 255.0;
    if (!plain) {
        int rc = galann_dataset_load_csv_with(path, o, out) == GALANN_OK ? EXIT_OK : runtime_error(a, what);
        rc = distributed_agree(rc);
        return rc == EXIT_OK ? distributed_take_share(a, out) : rc;
    }
    if (galann_mpi_load_csv(world, path, out) == GALANN_OK)
        return EXIT_OK;
    fprintf(stderr, "galann %s: %s: %s\n", a->command, what, galann_mpi_last_error(world));
    return EXIT_RUNTIME;
}

int distributed_take_share(const cli_args *a, galann_dataset **d)
{
    if (!world)
        return EXIT_OK;
    size_t m = galann_dataset_n_samples(*d);
    size_t chunk = galann_sum_chunk_samples(), chunks = (m + chunk - 1) / chunk;
    size_t rank = (size_t)galann_mpi_rank(world), size = (size_t)galann_mpi_size(world);
    size_t first = chunks * rank / size * chunk, last = chunks * (rank + 1) / size * chunk;
    if (last > m)
        last = m;
    if (first > last)
        first = last;
    galann_dataset *share = NULL;
    if (galann_dataset_slice(*d, first, last - first, &share) != GALANN_OK)
        return runtime_error(a, "cannot take this process's share");
    galann_dataset_free(*d);
    *d = share;
    return EXIT_OK;
}

int distributed_attach(const cli_args *a, galann_context *ctx)
{
    if (!world)
        return EXIT_OK;
    return galann_mpi_attach(world, ctx) == GALANN_OK ? EXIT_OK : runtime_error(a, "cannot attach the context");
}

int distributed_sum_counts(const cli_args *a, int64_t *counts, size_t n)
{
    if (!world)
        return EXIT_OK;
    if (galann_mpi_sum_counts(world, counts, n) == GALANN_OK)
        return EXIT_OK;
    fprintf(stderr, "galann %s: MPI failed\n", a->command);
    return EXIT_RUNTIME;
}

int distributed_agree(int rc)
{
    if (!world)
        return rc;
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}
