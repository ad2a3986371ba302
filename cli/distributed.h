/*
 * distributed.h -- the galann program alone or as one of several MPI
 * processes (`mpirun -np N galann train ...`).
 *
 * Built with MPI (distributed_mpi.c) and started by mpirun, every process
 * takes rank 0's command line, loads its share of each CSV file, and
 * attaches its context to the others, so that every process computes the
 * same numbers; only rank 0 prints and writes files. Otherwise
 * (distributed_serial.c) these are the plain single-process calls.
 */
#ifndef GALANN_CLI_DISTRIBUTED_H
#define GALANN_CLI_DISTRIBUTED_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Join the other processes when started by mpirun; rank 0's arguments
 * replace *argc, *argv on the others. Other ranks' stdout and stderr go to
 * /dev/null. 0 on success, else an exit status. */
int distributed_start(int *argc, char ***argv);
/* Leave MPI (after the command ran). */
void distributed_finish(void);

/* 1 on rank 0 (and without MPI): the process that prints and writes. */
int distributed_is_leader(void);
/* Processes taking part (1 without MPI). */
int distributed_processes(void);

/* This process's share of a CSV file (the whole file without MPI), every
 * process agreeing on the status; prints "galann CMD: what: message" and
 * returns an exit status on failure. */
int distributed_load_csv(const cli_args *a, const char *path, const char *what, const galann_csv_options *o,
                         galann_dataset **out);
/* Keep only this process's chunk-aligned share of a dataset every process
 * built whole (the synthetic set); no-op without MPI. */
int distributed_take_share(const cli_args *a, galann_dataset **d);
/* Make ctx combine every process's sums. */
int distributed_attach(const cli_args *a, galann_context *ctx);
/* Sum counts over the processes; 0 or an exit status. */
int distributed_sum_counts(const cli_args *a, int64_t *counts, size_t n);
/* Agree on success: EXIT_OK everywhere only when rc is EXIT_OK everywhere. */
int distributed_agree(int rc);

#endif /* GALANN_CLI_DISTRIBUTED_H */
