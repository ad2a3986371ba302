/*
 * atomic_file.c -- the files the library reads and writes: opening only
 * regular files for reading, and writing a whole file so that it is never
 * seen half written (models and datasets the library saves go through
 * here), in one call or, for files that change together, staged first
 * and then committed together.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/* ------------------------------------------------------------- saving */

/* A save writes all bytes to a fresh temporary file beside path, flushes
 * it to disk, renames it over path and flushes the folder, so readers see
 * the old file or the new one, never a part, a failure leaves the old file
 * as it was, and a completed save survives a power loss.
 *
 * The temporary is named <base>.tmp-<pid, 10 digits>-<16 hex digits>,
 * base cut short (at a character boundary) so that the name fits the
 * folder's NAME_MAX. Its writer holds an flock on it from creation to
 * rename; the kernel drops the lock when the writer dies, even by kill -9.
 * Every save first removes the temporaries of the same path that nobody
 * holds: those of writers that died. A live writer's is never removed. */
#define TEMP_TAG ".tmp-"
#define TEMP_SUFFIX_LENGTH (sizeof TEMP_TAG - 1 + 10 + 1 + 16)

typedef struct save_names {
    char *dir;      /* the folder of path ("." for a bare name) */
    char *prefix;   /* the start of every temporary's name: <base cut short>.tmp- */
    char *tmp;      /* this save's temporary, a path */
    size_t tmp_size;
} save_names;

static void save_names_free(save_names *n)
{
    free(n->dir);
    free(n->prefix);
    free(n->tmp);
}

/* The folder, and the longest start of base that leaves room for the
 * suffix within NAME_MAX, not cut inside a UTF-8 character. */
static int save_names_init(save_names *n, const char *path)
{
    memset(n, 0, sizeof *n);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dir_length = slash ? (size_t)(slash - path) : 1;
    n->dir = malloc(dir_length + 2);
    if (!n->dir)
        return GALANN_ERR_NOMEM;
    if (!slash)
        strcpy(n->dir, ".");
    else if (dir_length == 0)
        strcpy(n->dir, "/");
    else {
        memcpy(n->dir, path, dir_length);
        n->dir[dir_length] = '\0';
    }
    long name_max = pathconf(n->dir, _PC_NAME_MAX);
    if (name_max <= 0)
        name_max = 255;
    size_t keep = strlen(base);
    size_t room = (size_t)name_max > TEMP_SUFFIX_LENGTH + 1 ? (size_t)name_max - TEMP_SUFFIX_LENGTH : 1;
    if (keep > room) {
        keep = room;
        while (keep > 1 && ((unsigned char)base[keep] & 0xc0) == 0x80)
            keep--;
    }
    n->prefix = malloc(keep + sizeof TEMP_TAG);
    n->tmp_size = strlen(n->dir) + keep + TEMP_SUFFIX_LENGTH + 2;
    n->tmp = malloc(n->tmp_size);
    if (!n->prefix || !n->tmp)
        return GALANN_ERR_NOMEM;
    memcpy(n->prefix, base, keep);
    memcpy(n->prefix + keep, TEMP_TAG, sizeof TEMP_TAG);
    return GALANN_OK;
}

/* Whether a folder entry is one of this path's temporaries: the prefix,
 * then 10 digits, '-' and 16 hex digits. */
static int is_temporary_of(const char *name, const char *prefix)
{
    size_t p = strlen(prefix);
    if (strncmp(name, prefix, p) != 0 || strlen(name) != p + 10 + 1 + 16)
        return 0;
    for (size_t i = p; i < p + 27; i++) {
        int ok = i == p + 10 ? name[i] == '-' : i < p + 10 ? isdigit((unsigned char)name[i]) != 0
                                                           : isxdigit((unsigned char)name[i]) != 0;
        if (!ok)
            return 0;
    }
    return 1;
}

/* Remove this path's temporaries that no live writer holds (their writers
 * died mid-save). Only this user's regular files; failures are ignored. */
static void remove_orphans(const save_names *n)
{
    DIR *d = opendir(n->dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!is_temporary_of(e->d_name, n->prefix))
            continue;
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
        close(fd);
    }
    closedir(d);
}

/* Create this save's temporary, locked: *lock holds the flock (a second
 * descriptor of the same open file, so closing fd to see its errors keeps
 * the lock). Mode 0666 less the umask, as any new file (mkstemp would
 * force 0600). -1 with errno on failure. */
static int create_temporary(save_names *n, int *lock)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* the clock and the stack address differ between concurrent callers */
    uint64_t unique = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)&ts;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(n->tmp, n->tmp_size, "%s/%s%010ld-%016llx", n->dir, n->prefix, (long)getpid(),
                 (unsigned long long)(unique + (uint64_t)attempt * 0x9e3779b97f4a7c15ull));
        int fd = open(n->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            return -1;
        struct stat st;
        if (flock(fd, LOCK_EX) != 0 || (*lock = dup(fd)) < 0) {
            int saved = errno;
            unlink(n->tmp);
            close(fd);
            errno = saved;
            return -1;
        }
        /* another save's clean-up may have removed it before the lock */
        if (fstat(fd, &st) == 0 && st.st_nlink > 0)
            return fd;
        close(*lock);
        *lock = -1;
        close(fd);
    }
    errno = EEXIST;
    return -1;
}

static int write_all(int fd, const void *data, size_t size)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t w = write(fd, p, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        size -= (size_t)w;
    }
    return 0;
}

/* fsync the folder, so that the rename itself is on disk. File systems
 * that cannot sync a folder (EINVAL) are taken at their word. */
static int sync_folder(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

int galann_stage_file(galann_staged_file *f, const char *path, const void *data, size_t size)
{
    *f = (galann_staged_file)GALANN_STAGED_FILE_NONE;
    f->path = path;
    save_names n;
    int fd = -1;
    int status = save_names_init(&n, path);
    if (status != GALANN_OK) {
        status = galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    remove_orphans(&n);
    fd = create_temporary(&n, &f->lock);
    if (fd < 0) {
        status = galann_error_set(GALANN_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        goto done;
    }
    /* the temporary is the staged file's from here: close removes it */
    f->dir = n.dir;
    f->tmp = n.tmp;
    n.dir = n.tmp = NULL;
    if (write_all(fd, data, size) != 0)
        status = galann_error_set(GALANN_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (status == GALANN_OK && fsync(fd) != 0)
        status = galann_error_set(GALANN_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && status == GALANN_OK)
        status = galann_error_set(GALANN_ERR_IO, "%s: close failed: %s", path, strerror(errno));

done:
    save_names_free(&n);
    return status;
}

int galann_commit_staged_files(galann_staged_file *files, size_t count)
{
    int status = GALANN_OK;
    size_t renamed = 0;
    for (; renamed < count; renamed++) {
        galann_staged_file *f = &files[renamed];
        if (rename(f->tmp, f->path) != 0) {
            status = galann_error_set(GALANN_ERR_IO, "%s: cannot replace: %s", f->path, strerror(errno));
            break;
        }
        f->renamed = 1;
    }
    for (size_t i = 0; i < renamed; i++) {
        if (sync_folder(files[i].dir) != 0 && status == GALANN_OK)
            status = galann_error_set(GALANN_ERR_IO, "%s: replaced, but its folder could not be synced: %s",
                                      files[i].path, strerror(errno));
    }
    return status;
}

void galann_staged_file_close(galann_staged_file *f)
{
    if (f->tmp && !f->renamed)
        unlink(f->tmp);
    if (f->lock >= 0)
        close(f->lock); /* only now: until the rename, no clean-up may take it */
    free(f->dir);
    free(f->tmp);
    *f = (galann_staged_file)GALANN_STAGED_FILE_NONE;
}

int galann_write_file_atomically(const char *path, const void *data, size_t size)
{
    galann_staged_file f;
    int status = galann_stage_file(&f, path, data, size);
    if (status == GALANN_OK)
        status = galann_commit_staged_files(&f, 1);
    galann_staged_file_close(&f);
    return status;
}
