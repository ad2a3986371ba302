/*
 * galann_mpi.h -- data-parallel libgalann over MPI (libgalann-mpi).
 *
 * Every process of a communicator loads its own share of the rows of a CSV
 * file, and a context attached to the communicator combines every
 * evaluation's partial sums over all of them, exactly: with the blas
 * backend, cost, gradient, accuracies and therefore every fit trajectory
 * are the same bits for any number of processes, and the same as one
 * process holding the whole file. Every process runs the same optimizer on
 * the same numbers; the program decides which one prints (rank 0, say).
 *
 * libgalann itself knows nothing of MPI: this small library implements its
 * allreduce hook (galann_context_set_allreduce) and its share loader
 * (galann_dataset_load_csv_rows) with MPI. Build: pkg-config galann-mpi.
 *
 * Every function here is collective over the communicator unless it says
 * otherwise: all processes call it, in the same order. Each returns a
 * galann_status that is the same on every process; the message of the
 * first process (by rank) that failed is then galann_mpi_last_error() on
 * every process, so one process can print it.
 */
#ifndef GALANN_MPI_H
#define GALANN_MPI_H

#include <mpi.h>

#include "galann.h"

/* Exported while libgalann-mpi is built (GALANN_MPI_BUILDING), as
 * GALANN_MPI_API is for libgalann. */
#if defined(_WIN32)
#  if defined(GALANN_MPI_BUILDING)
#    define GALANN_MPI_API __declspec(dllexport)
#  elif defined(GALANN_STATIC)
#    define GALANN_MPI_API
#  else
#    define GALANN_MPI_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && defined(GALANN_MPI_BUILDING)
#  define GALANN_MPI_API __attribute__((visibility("default")))
#else
#  define GALANN_MPI_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct galann_mpi galann_mpi;

/* A handle over a duplicate of comm (so that libgalann's messages never
 * mix with the caller's). MPI must be initialised. GALANN_ERR_INVALID,
 * GALANN_ERR_NOMEM, GALANN_ERR_BACKEND (MPI failed). The caller frees it
 * with galann_mpi_free (collective) after the contexts that use it. */
GALANN_MPI_API int galann_mpi_new(MPI_Comm comm, galann_mpi **out);
GALANN_MPI_API void galann_mpi_free(galann_mpi *g);

/* This process's rank and the number of processes (not collective). */
GALANN_MPI_API int galann_mpi_rank(const galann_mpi *g);
GALANN_MPI_API int galann_mpi_size(const galann_mpi *g);

/* Make ctx data-parallel over g's processes (galann_context_set_allreduce).
 * Not collective, but every process must attach its context before the
 * first evaluation. */
GALANN_MPI_API int galann_mpi_attach(galann_mpi *g, galann_context *ctx);

/* Load this process's share of a CSV file (as galann_dataset_load_csv
 * reads it): the file is cut into byte ranges at line boundaries, each
 * process counts the rows of its range, and the shares are then moved to
 * whole chunks of galann_sum_chunk_samples() rows, so that no process
 * parses more than its range and one chunk. A process may get no rows (an
 * empty share). Every share knows the whole file's number of labels. Data
 * errors give GALANN_ERR_PARSE with "file:line: ..." on every process. */
GALANN_MPI_API int galann_mpi_load_csv(galann_mpi *g, const char *path, galann_dataset **out);

/* The worst of every process's status: GALANN_OK when all are OK, else the
 * status of the first failing process (by rank), whose galann_last_error()
 * becomes galann_mpi_last_error() everywhere. */
GALANN_MPI_API int galann_mpi_agree(galann_mpi *g, int status);

/* The message of the last failure that galann_mpi_* agreed on ("" when
 * none); not collective; valid until the next call on g. */
GALANN_MPI_API const char *galann_mpi_last_error(const galann_mpi *g);

/* Sum n counts over every process, in place (for figures a program counts
 * itself, like a confusion matrix). */
GALANN_MPI_API int galann_mpi_sum_counts(galann_mpi *g, int64_t *counts, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* GALANN_MPI_H */
