/*
 * output_file.c -- an output file of the galann program written to a
 * temporary beside it and renamed over it only when every byte reached
 * the disk (see output_file.h). The library's model saves have their own
 * (lib/atomic_file.c, hidden inside libgalann).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output_file.h"

/* mkstemp's template: the name cut short, then this tag and six X's */
#define TEMPORARY_TAG ".tmp-XXXXXX"

static void release_names(output_file *o)
{
    free(o->target);
    free(o->temporary);
    free(o->folder);
    o->target = o->temporary = o->folder = NULL;
    o->stream = NULL;
}

/* The folder of path ("." for a bare name, "/" for a file at the root). */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* <folder>/<base>.tmp-XXXXXX with base cut, at a UTF-8 character
 * boundary, so the name fits the folder's NAME_MAX. */
static char *temporary_template(const char *folder, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    long name_max = pathconf(folder, _PC_NAME_MAX);
    if (name_max <= 0)
        name_max = 255;
    size_t tag = sizeof TEMPORARY_TAG - 1, keep = strlen(base);
    size_t room = (size_t)name_max > tag + 1 ? (size_t)name_max - tag : 1;
    if (keep > room) {
        keep = room;
        while (keep > 1 && ((unsigned char)base[keep] & 0xc0) == 0x80)
            keep--;
    }
    size_t size = strlen(folder) + 1 + keep + tag + 1;
    char *t = malloc(size);
    if (t)
        snprintf(t, size, "%s/%.*s%s", folder, (int)keep, base, TEMPORARY_TAG);
    return t;
}

/* The umask, read the only way POSIX offers (set and set back): the CLI
 * creates files from one thread. */
static mode_t current_umask(void)
{
    mode_t mask = umask(0022);
    umask(mask);
    return mask;
}

FILE *output_file_open(const char *path, output_file *o)
{
    memset(o, 0, sizeof *o);
    int fd = -1;
    if (!path || !*path) {
        errno = ENOENT;
        return NULL;
    }
    o->target = strdup(path);
    o->folder = folder_of(path);
    o->temporary = o->folder ? temporary_template(o->folder, path) : NULL;
    if (!o->target || !o->folder || !o->temporary) {
        errno = ENOMEM;
        goto fail;
    }
    fd = mkstemp(o->temporary);
    if (fd < 0)
        goto fail;
    /* mkstemp makes it 0600; the plot should read like any new file */
    if (fchmod(fd, 0666 & ~current_umask()) != 0)
        goto fail;
    o->stream = fdopen(fd, "w");
    if (!o->stream)
        goto fail;
    return o->stream;

fail:;
    int saved = errno;
    if (fd >= 0) {
        close(fd);
        unlink(o->temporary);
    }
    release_names(o);
    errno = saved;
    return NULL;
}

/* fsync the folder so the rename itself is on disk; a file system that
 * cannot sync a folder (EINVAL) is taken at its word. */
static int sync_folder(const char *folder)
{
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    if (rc != 0 && errno == EINVAL)
        rc = 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int output_file_commit(output_file *o)
{
    FILE *f = o->stream;
    int failed = 0;
    if (!f) {
        errno = EBADF;
        return -1;
    }
    /* a write that failed earlier left the stream's error flag set; its
     * errno is gone, so say EIO */
    if (ferror(f)) {
        errno = EIO;
        failed = 1;
    }
    if (!failed && fflush(f) != 0)
        failed = 1;
    if (!failed && fsync(fileno(f)) != 0)
        failed = 1;
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        saved = errno;
        failed = 1;
    }
    o->stream = NULL;
    if (!failed && rename(o->temporary, o->target) != 0) {
        saved = errno;
        failed = 1;
    }
    if (failed) {
        unlink(o->temporary);
        release_names(o);
        errno = saved;
        return -1;
    }
    int rc = sync_folder(o->folder);
    saved = errno;
    release_names(o);
    errno = saved;
    return rc;
}

void output_file_abandon(output_file *o)
{
    int saved = errno;
    if (o->stream)
        fclose(o->stream);
    if (o->temporary)
        unlink(o->temporary);
    release_names(o);
    errno = saved;
}
