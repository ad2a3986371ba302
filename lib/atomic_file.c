/*
 * atomic_file.c -- the files the library reads and writes: opening only
 * regular files for reading, and writing a whole file so that it is never
 * seen half written (models and datasets the library saves go through
 * here).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "galann.h"
#include "atomic_file.h"
#include "error.h"

int galann_open_regular_file(const char *path, int *fd, uint64_t *size)
{
    /* O_NONBLOCK: opening a FIFO without a writer would wait forever */
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return galann_error_set(GALANN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int status = GALANN_OK;
    if (fstat(*fd, &st) != 0)
        status = galann_error_set(GALANN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        status = galann_error_set(GALANN_ERR_IO, "%s: not a regular file", path);
    /* reads of a regular file never block: back to ordinary reads all the same */
    else if (fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) != 0)
        status = galann_error_set(GALANN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    if (status != GALANN_OK) {
        close(*fd);
        *fd = -1;
        return status;
    }
    *size = (uint64_t)st.st_size;
    return GALANN_OK;
}

/* Write all bytes to a fresh file beside path, flush it to disk, then
 * rename it over path: readers see the old file or the new one, never a
 * part, and a failure leaves the old file as it was. */
/* Create a new file beside path, named path.tmp-<pid>-<unique>, with mode
 * 0666 less the umask as any new file (mkstemp would force 0600). */
static int create_temporary(const char *path, char *tmp, size_t tmp_size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* the clock and the stack address differ between concurrent callers */
    uint64_t unique = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)&ts;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, tmp_size, "%s.tmp-%ld-%llx", path, (long)getpid(), (unsigned long long)(unique + attempt));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

int galann_write_file_atomically(const char *path, const void *data, size_t size)
{
    size_t tmp_size = strlen(path) + 64;
    char *tmp = malloc(tmp_size);
    if (!tmp)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory", path);
    int status = GALANN_OK;
    int fd = create_temporary(path, tmp, tmp_size);
    if (fd < 0) {
        status = galann_error_set(GALANN_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        goto done;
    }
    const unsigned char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            status = galann_error_set(GALANN_ERR_IO, "%s: write failed: %s", path, strerror(w < 0 ? errno : EIO));
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (status == GALANN_OK && fsync(fd) != 0)
        status = galann_error_set(GALANN_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && status == GALANN_OK)
        status = galann_error_set(GALANN_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (status == GALANN_OK && rename(tmp, path) != 0)
        status = galann_error_set(GALANN_ERR_IO, "%s: cannot replace: %s", path, strerror(errno));
    if (status != GALANN_OK)
        unlink(tmp);
done:
    free(tmp);
    return status;
}
