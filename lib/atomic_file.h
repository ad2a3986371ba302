/*
 * atomic_file.h -- replace a file's contents all at once.
 */
#ifndef GALANN_ATOMIC_FILE_H
#define GALANN_ATOMIC_FILE_H

#include <stddef.h>

/* Write data to a temporary file beside path, fsync it and rename it over
 * path. On failure the temporary is removed and path is untouched.
 * GALANN_OK, GALANN_ERR_IO or GALANN_ERR_NOMEM. */
int galann_write_file_atomically(const char *path, const void *data, size_t size);

#endif /* GALANN_ATOMIC_FILE_H */
