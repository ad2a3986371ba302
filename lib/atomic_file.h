/*
 * atomic_file.h -- the files the library reads and writes: only regular
 * files are read, and a file's contents are replaced all at once.
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

#endif /* GALANN_ATOMIC_FILE_H */
