/*
 * galann_mpi.c -- libgalann's allreduce hook and share loader over MPI.
 *
 * Nothing numerical happens here: libgalann combines the exact partial
 * sums (lib/combine.c) and only asks for element-wise int64 SUM and MAX
 * reductions, which MPI_Allreduce does exactly in any order. What this
 * file adds is the choreography: a private communicator, splitting a CSV
 * file into chunk-aligned shares, and agreeing on one status and one
 * message when any process fails, so that no process waits forever.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "galann_mpi.h"

#define MESSAGE_BYTES 1024

struct galann_mpi {
    MPI_Comm comm;
    int rank, size;
    char message[MESSAGE_BYTES];
};

GALANN_MPI_API int galann_mpi_new(MPI_Comm comm, galann_mpi **out)
{
    if (!out)
        return GALANN_ERR_INVALID;
    *out = NULL;
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised)
        return GALANN_ERR_INVALID;
    galann_mpi *g = calloc(1, sizeof *g);
    if (!g)
        return GALANN_ERR_NOMEM;
    if (MPI_Comm_dup(comm, &g->comm) != MPI_SUCCESS) {
        free(g);
        return GALANN_ERR_BACKEND;
    }
    MPI_Comm_rank(g->comm, &g->rank);
    MPI_Comm_size(g->comm, &g->size);
    *out = g;
    return GALANN_OK;
}

GALANN_MPI_API void galann_mpi_free(galann_mpi *g)
{
    if (!g)
        return;
    MPI_Comm_free(&g->comm);
    free(g);
}

GALANN_MPI_API int galann_mpi_rank(const galann_mpi *g) { return g ? g->rank : 0; }
GALANN_MPI_API int galann_mpi_size(const galann_mpi *g) { return g ? g->size : 1; }
GALANN_MPI_API const char *galann_mpi_last_error(const galann_mpi *g) { return g ? g->message : ""; }

/* The hook libgalann calls: element-wise, in place, over every process. */
static int allreduce_int64(void *user, int64_t *values, size_t count, galann_reduce_op op)
{
    galann_mpi *g = user;
    MPI_Op mpi_op = op == GALANN_REDUCE_MAX ? MPI_MAX : MPI_SUM;
    while (count > 0) {
        int part = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        if (MPI_Allreduce(MPI_IN_PLACE, values, part, MPI_INT64_T, mpi_op, g->comm) != MPI_SUCCESS)
            return -1;
        values += part;
        count -= (size_t)part;
    }
    return 0;
}

GALANN_MPI_API int galann_mpi_attach(galann_mpi *g, galann_context *ctx)
{
    if (!g)
        return GALANN_ERR_INVALID;
    return galann_context_set_allreduce(ctx, allreduce_int64, g);
}

GALANN_MPI_API int galann_mpi_sum_counts(galann_mpi *g, int64_t *counts, size_t n)
{
    if (!g || (!counts && n > 0))
        return GALANN_ERR_INVALID;
    return allreduce_int64(g, counts, n, GALANN_REDUCE_SUM) == 0 ? GALANN_OK : GALANN_ERR_BACKEND;
}

/* A failure this process saw, in the form galann_mpi_agree passes on. */
static int local_failure(galann_mpi *g, int status, const char *fmt, const char *path, const char *detail)
{
    snprintf(g->message, sizeof g->message, fmt, path, detail);
    /* galann_last_error() is the library's; ours overrides it below */
    return status;
}

/* galann_mpi_agree, where this process's message may be its own. */
static int agree_with_message(galann_mpi *g, int status, int own_message)
{
    char mine[MESSAGE_BYTES];
    snprintf(mine, sizeof mine, "%s", own_message ? g->message : galann_last_error());
    int rank_failed = status != GALANN_OK ? g->rank : g->size, first = g->size;
    if (MPI_Allreduce(&rank_failed, &first, 1, MPI_INT, MPI_MIN, g->comm) != MPI_SUCCESS)
        return GALANN_ERR_BACKEND;
    if (first == g->size) {
        g->message[0] = '\0';
        return GALANN_OK;
    }
    snprintf(g->message, sizeof g->message, "%s", mine);
    int agreed = status;
    if (MPI_Bcast(&agreed, 1, MPI_INT, first, g->comm) != MPI_SUCCESS ||
        MPI_Bcast(g->message, MESSAGE_BYTES, MPI_CHAR, first, g->comm) != MPI_SUCCESS)
        return GALANN_ERR_BACKEND;
    g->message[MESSAGE_BYTES - 1] = '\0';
    return agreed;
}

/* Rank 0 measures the file; everyone learns its size or the failure. */
static int agree_on_size(galann_mpi *g, const char *path, uint64_t *size)
{
    int status = GALANN_OK, own = 0;
    uint64_t bytes = 0;
    if (g->rank == 0) {
        struct stat st;
        if (stat(path, &st) != 0) {
            status = local_failure(g, GALANN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
            own = 1;
        } else if (!S_ISREG(st.st_mode)) {
            status = local_failure(g, GALANN_ERR_IO, "%s: %s", path, "not a regular file");
            own = 1;
        } else if (st.st_size == 0) {
            status = local_failure(g, GALANN_ERR_PARSE, "%s:1: %s", path, "the file is empty");
            own = 1;
        }
        bytes = (uint64_t)st.st_size;
    }
    status = agree_with_message(g, status, own);
    if (status != GALANN_OK)
        return status;
    if (MPI_Bcast(&bytes, 1, MPI_UINT64_T, 0, g->comm) != MPI_SUCCESS)
        return GALANN_ERR_BACKEND;
    *size = bytes;
    return GALANN_OK;
}

/* Rows [first, end) of this process: shares move from the byte split to
 * chunk boundaries, each chunk going to the process that holds its first
 * row, so that every chunk's partial sums are computed whole, as in one
 * process. */
static void chunk_aligned_share(const uint64_t *row_offsets, int rank, int size, uint64_t *first, uint64_t *end)
{
    uint64_t chunk = galann_sum_chunk_samples(), total = row_offsets[size];
    uint64_t start = (row_offsets[rank] + chunk - 1) / chunk * chunk;
    uint64_t stop = rank + 1 < size ? (row_offsets[rank + 1] + chunk - 1) / chunk * chunk : total;
    *first = start < total ? start : total;
    *end = stop < total ? stop : total;
    if (*end < *first)
        *end = *first;
}

/* Every share gets the same features and labels count: the file's. */
static int agree_on_shape(galann_mpi *g, const char *path, galann_dataset **d, uint64_t first)
{
    long long mine[2] = { *d ? (long long)galann_dataset_n_features(*d) : 0,
                          *d ? (long long)galann_dataset_n_labels(*d) : 0 };
    long long lowest = *d ? (long long)galann_dataset_n_features(*d) : LLONG_MAX, most[2], least = 0;
    if (MPI_Allreduce(mine, most, 2, MPI_LONG_LONG, MPI_MAX, g->comm) != MPI_SUCCESS ||
        MPI_Allreduce(&lowest, &least, 1, MPI_LONG_LONG, MPI_MIN, g->comm) != MPI_SUCCESS)
        return GALANN_ERR_BACKEND;
    int status = GALANN_OK, own = 0;
    if (*d && most[0] != least) {
        char detail[128];
        snprintf(detail, sizeof detail, "%llu: expected %lld fields, found %lld", (unsigned long long)first + 1,
                 most[0] + 1, mine[0] + 1);
        status = local_failure(g, GALANN_ERR_PARSE, "%s:%s", path, detail);
        own = 1;
    }
    galann_dataset *shaped = NULL;
    if (status == GALANN_OK && (!*d || mine[1] < most[1])) {
        /* every label the others know, in this share's storage; or an
         * empty share of the common shape */
        status = *d ? galann_dataset_with_labels(*d, (size_t)most[1], &shaped)
                    : galann_dataset_new(NULL, NULL, 0, (size_t)most[0], (size_t)most[1], &shaped);
    }
    status = agree_with_message(g, status, own);
    if (status != GALANN_OK) {
        galann_dataset_free(shaped);
        return status;
    }
    if (shaped) {
        galann_dataset_free(*d);
        *d = shaped;
    }
    return GALANN_OK;
}

GALANN_MPI_API int galann_mpi_agree(galann_mpi *g, int status)
{
    if (!g)
        return GALANN_ERR_INVALID;
    return agree_with_message(g, status, 0);
}

GALANN_MPI_API int galann_mpi_load_csv(galann_mpi *g, const char *path, galann_dataset **out)
{
    if (!g || !path || !out)
        return GALANN_ERR_INVALID;
    *out = NULL;
    uint64_t size = 0;
    int status = agree_on_size(g, path, &size);
    if (status != GALANN_OK)
        return status;

    /* 1. count the rows that start in this process's byte range */
    uint64_t begin = size * (uint64_t)g->rank / (uint64_t)g->size;
    uint64_t end = size * (uint64_t)(g->rank + 1) / (uint64_t)g->size;
    uint64_t rows = 0;
    status = agree_with_message(g, galann_csv_count_rows(path, begin, end, &rows), 0);
    if (status != GALANN_OK)
        return status;
    uint64_t *row_offsets = calloc((size_t)g->size + 1, sizeof *row_offsets);
    status = agree_with_message(g, row_offsets ? GALANN_OK : GALANN_ERR_NOMEM, 0);
    if (status != GALANN_OK) {
        free(row_offsets);
        return status;
    }
    if (MPI_Allgather(&rows, 1, MPI_UINT64_T, row_offsets + 1, 1, MPI_UINT64_T, g->comm) != MPI_SUCCESS) {
        free(row_offsets);
        return GALANN_ERR_BACKEND;
    }
    for (int r = 0; r < g->size; r++)
        row_offsets[r + 1] += row_offsets[r];

    /* 2. parse the chunk-aligned share: it starts inside this range */
    uint64_t first, last;
    chunk_aligned_share(row_offsets, g->rank, g->size, &first, &last);
    galann_dataset *d = NULL;
    status = GALANN_OK;
    if (last > first)
        status = galann_dataset_load_csv_rows(path, begin, row_offsets[g->rank], first, last - first, &d);
    free(row_offsets);
    status = agree_with_message(g, status, 0);
    if (status == GALANN_OK)
        status = agree_on_shape(g, path, &d, first);
    if (status != GALANN_OK) {
        galann_dataset_free(d);
        return status;
    }
    *out = d;
    return GALANN_OK;
}
