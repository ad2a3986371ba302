/*
 * atomic_file.h -- the files the library reads and writes: only regular
 * files are read, and a file's contents are replaced all at once (several
 * files: each written in full before any is replaced).
 */
#ifndef GALANN_ATOMIC_FILE_H
#define GALANN_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Open path for reading if it is a regular file: *fd and its size in
 * *size. The file is opened non-blocking and checked with fstat before
 * anything is read, so a FIFO, a device or a directory is refused at once
 * (GALANN_ERR_IO, "path: not a regular file") instead of blocking or
 * reading without end. The caller closes *fd. GALANN_OK or
 * GALANN_ERR_IO. */
int galann_open_regular_file(const char *path, int *fd, uint64_t *size);

/* Write data to a temporary file beside path (a name that fits NAME_MAX),
 * fsync it, rename it over path and fsync the folder. On failure the
 * temporary is removed and path is untouched. Temporaries of path left by
 * killed saves are removed first; a running save's (it holds an flock)
 * never. GALANN_OK, GALANN_ERR_IO or GALANN_ERR_NOMEM. */
int galann_write_file_atomically(const char *path, const void *data, size_t size);

/* The same save in two steps, for files that change together: stage each
 * (its temporary written and fsynced), then commit them all, so that a
 * failure while staging any of them leaves every path untouched. A staged
 * file keeps its temporary's flock until it is closed. */
typedef struct galann_staged_file {
    const char *path; /* the caller's string, read until close */
    char *dir;        /* path's folder ("." for a bare name) */
    char *tmp;        /* the temporary, NULL when none was made */
    int lock;         /* the descriptor holding the flock, -1 when none */
    int renamed;      /* the temporary has become path */
} galann_staged_file;

/* A staged file that holds nothing yet: close accepts it. */
#define GALANN_STAGED_FILE_NONE { NULL, NULL, NULL, -1, 0 }

/* Write data to a fresh temporary beside path and fsync it (orphaned
 * temporaries of path removed first, as above); path is not touched.
 * Close *f afterwards whatever this returns. GALANN_OK, GALANN_ERR_IO or
 * GALANN_ERR_NOMEM. */
int galann_stage_file(galann_staged_file *f, const char *path, const void *data, size_t size);

/* Rename the count staged files over their paths, in order, stopping at
 * the first rename that fails, then fsync the folders of those renamed.
 * Between two renames the files are a mix of new and old: a failure (or a
 * crash) there leaves the first ones replaced and the rest untouched. Every
 * file must have been staged successfully. GALANN_OK or GALANN_ERR_IO. */
int galann_commit_staged_files(galann_staged_file *files, size_t count);

/* Remove the temporary unless it was renamed, drop its flock, free the
 * names. Safe on GALANN_STAGED_FILE_NONE and after any failure. */
void galann_staged_file_close(galann_staged_file *f);

#endif /* GALANN_ATOMIC_FILE_H */
