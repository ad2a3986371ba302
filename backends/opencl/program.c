/*
 * program.c -- building the kernels, with the binary cache (see program.h).
 *
 * The cache trusts only what this user wrote: the folder must belong to
 * the user and be writable by no one else (it is created 0700), every file
 * read must belong to the user and be writable by no one else, and each
 * binary carries a SipHash-2-4 tag keyed with a random secret kept in the
 * folder (CACHE_KEY_FILE, mode 0600). A file that fails any of these is
 * not given to the driver: the kernels are built from source and the file
 * is replaced. A folder that fails is not used at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "program.h"

/* The cache file: this header, then the driver's binary. Native byte
 * order: the cache belongs to one machine. */
#define CACHE_MAGIC "GALANNCL"
#define CACHE_FORMAT 2u  /* 1: an unkeyed checksum, no longer trusted */

typedef struct cache_header {
    char magic[8];
    uint32_t format;
    uint32_t reserved;
    uint64_t key;       /* the hash in the file name, against renamed files */
    uint64_t size;      /* bytes of binary that follow */
    uint64_t tag;       /* SipHash-2-4 of the fields above and the binary, with the folder's secret */
} cache_header;

/* The folder's secret: 16 random bytes, the SipHash key. */
#define CACHE_KEY_FILE "galann-cache.key"
#define CACHE_SECRET_BYTES 16

/* Cached binaries larger than this are not trusted (nor written). */
#define CACHE_MAX_BINARY ((size_t)256 << 20)

#define PATH_CAPACITY 4096

int ocl_cache_dir(const char *configured, char *buf, size_t size)
{
    int n;
    if (configured) {
        if (!*configured)
            return 0;
        n = snprintf(buf, size, "%s", configured);
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        /* The XDG base directory spec ignores relative paths. */
        if (xdg && xdg[0] == '/')
            n = snprintf(buf, size, "%s/galann", xdg);
        else if (home && home[0] == '/')
            n = snprintf(buf, size, "%s/.cache/galann", home);
        else
            return 0;
    }
    return n > 0 && (size_t)n < size;
}

static uint64_t hash_string(const char *s, uint64_t h)
{
    /* the terminating NUL separates fields: ("ab", "c") != ("a", "bc") */
    return galann_hash64(s, strlen(s) + 1, h);
}

/* Everything the binary depends on, hashed. */
static uint64_t cache_key(const ocl_program_request *req)
{
    char text[OCL_NAME_CAPACITY];
    cl_platform_id platform = NULL;
    uint64_t h = galann_hash64(CACHE_MAGIC, sizeof CACHE_MAGIC, 0);
    uint32_t format = CACHE_FORMAT;
    h = galann_hash64(&format, sizeof format, h);
    if (clGetDeviceInfo(req->device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL) != CL_SUCCESS)
        platform = NULL;
    static const cl_platform_info platform_fields[] = { CL_PLATFORM_NAME, CL_PLATFORM_VENDOR, CL_PLATFORM_VERSION };
    static const cl_device_info device_fields[] = { CL_DEVICE_NAME, CL_DEVICE_VENDOR, CL_DEVICE_VERSION,
                                                    CL_DRIVER_VERSION };
    for (size_t i = 0; i < sizeof platform_fields / sizeof platform_fields[0]; i++) {
        text[0] = '\0';
        if (platform)
            ocl_platform_string(platform, platform_fields[i], text, sizeof text);
        h = hash_string(text, h);
    }
    for (size_t i = 0; i < sizeof device_fields / sizeof device_fields[0]; i++) {
        ocl_device_string(req->device, device_fields[i], text, sizeof text);
        h = hash_string(text, h);
    }
    h = hash_string(req->source, h);
    return hash_string(req->options, h);
}

static int cache_path(const char *dir, uint64_t key, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/opencl-%016llx.bin", dir, (unsigned long long)key);
    return n > 0 && (size_t)n < size;
}

/* mkdir -p, private to the user. */
static int make_directories(const char *dir)
{
    char path[PATH_CAPACITY];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof path)
        return -1;
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = saved;
    }
    return 0;
}

static int read_fully(int fd, void *buf, size_t size)
{
    unsigned char *p = buf;
    while (size > 0) {
        ssize_t got = read(fd, p, size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        size -= (size_t)got;
    }
    return 0;
}

static int write_fully(int fd, const void *buf, size_t size)
{
    const unsigned char *p = buf;
    while (size > 0) {
        ssize_t put = write(fd, p, size);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        p += put;
        size -= (size_t)put;
    }
    return 0;
}

/* ----------------------------------------------------- SipHash-2-4 */

/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit tag that
 * cannot be forged without the key, unlike an unkeyed checksum. Two
 * parts: the header fields, then the binary. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

typedef struct siphash {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;   /* pending bytes, little-endian */
    size_t count;    /* bytes so far */
} siphash;

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void sip_round(siphash *s)
{
    s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
}

static void sip_block(siphash *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

static void sip_init(siphash *s, const unsigned char key[CACHE_SECRET_BYTES])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v0 = k0 ^ 0x736f6d6570736575ull;
    s->v1 = k1 ^ 0x646f72616e646f6dull;
    s->v2 = k0 ^ 0x6c7967656e657261ull;
    s->v3 = k1 ^ 0x7465646279746573ull;
    s->tail = 0;
    s->count = 0;
}

static void sip_update(siphash *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        s->tail |= (uint64_t)p[i] << (8 * (s->count % 8));
        if (++s->count % 8 == 0) {
            sip_block(s, s->tail);
            s->tail = 0;
        }
    }
}

static uint64_t sip_final(siphash *s)
{
    sip_block(s, s->tail | ((uint64_t)(s->count & 0xff) << 56));
    s->v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The tag of a cache file: every header field but the tag, then the
 * binary. */
static uint64_t cache_tag(const unsigned char secret[CACHE_SECRET_BYTES], const cache_header *h,
                          const unsigned char *binary)
{
    siphash s;
    sip_init(&s, secret);
    sip_update(&s, h, offsetof(cache_header, tag));
    sip_update(&s, binary, (size_t)h->size);
    return sip_final(&s);
}

/* ------------------------------------------------- what may be trusted */

/* A folder or file this user owns that no one else may write to; a
 * secret must not be readable by others either. */
static int owned_and_private(const struct stat *st, mode_t forbidden)
{
    return st->st_uid == geteuid() && (st->st_mode & forbidden) == 0;
}

/* Open a regular file of the cache for reading if it can be trusted:
 * -1 when it is absent, a link, another user's, or writable by others. */
static int open_trusted(const char *path, mode_t forbidden, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || !owned_and_private(st, forbidden)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A new secret, written to a private file and linked into place: another
 * process creating one at the same time either wins or loses whole. When
 * replace is set (the old one is not to be trusted) it is renamed over. */
static void create_secret(const char *dir, const char *path, int replace)
{
    unsigned char secret[CACHE_SECRET_BYTES];
    char temp[PATH_CAPACITY];
    int source = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    int ok = source >= 0 && read_fully(source, secret, sizeof secret) == 0;
    if (source >= 0)
        close(source);
    int n = snprintf(temp, sizeof temp, "%s/.key-XXXXXX", dir);
    if (!ok || n <= 0 || (size_t)n >= sizeof temp)
        return;
    int fd = mkstemp(temp);  /* mode 0600 */
    if (fd < 0)
        return;
    ok = write_fully(fd, secret, sizeof secret) == 0;
    ok = close(fd) == 0 && ok;
    if (ok)
        ok = replace ? rename(temp, path) == 0 : link(temp, path) == 0;
    unlink(temp);  /* after link (or a failure); gone already after rename */
}

/* The folder's secret, made when missing or untrustworthy; 0 when the
 * folder itself cannot be trusted or no secret can be had. */
static int cache_secret(const char *dir, unsigned char secret[CACHE_SECRET_BYTES])
{
    char path[PATH_CAPACITY];
    struct stat st;
    if (make_directories(dir) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        !owned_and_private(&st, S_IWGRP | S_IWOTH))
        return 0;
    int n = snprintf(path, sizeof path, "%s/%s", dir, CACHE_KEY_FILE);
    if (n <= 0 || (size_t)n >= sizeof path)
        return 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open_trusted(path, S_IRWXG | S_IRWXO, &st);
        if (fd >= 0) {
            int ok = st.st_size == CACHE_SECRET_BYTES && read_fully(fd, secret, CACHE_SECRET_BYTES) == 0;
            close(fd);
            if (ok)
                return 1;
        }
        create_secret(dir, path, access(path, F_OK) == 0);
    }
    return 0;
}

/* The cached binary for key, checked; NULL when absent, untrusted or
 * damaged. */
static unsigned char *cache_read(const char *path, uint64_t key, const unsigned char *secret, size_t *size)
{
    unsigned char *binary = NULL;
    struct stat st;
    int fd = open_trusted(path, S_IWGRP | S_IWOTH, &st);
    if (fd < 0)
        return NULL;
    cache_header h;
    if (read_fully(fd, &h, sizeof h) != 0 || memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 ||
        h.format != CACHE_FORMAT || h.key != key || h.size == 0 || h.size > CACHE_MAX_BINARY ||
        (uint64_t)st.st_size != sizeof h + h.size)
        goto fail;
    binary = malloc((size_t)h.size);
    if (!binary || read_fully(fd, binary, (size_t)h.size) != 0 || cache_tag(secret, &h, binary) != h.tag)
        goto fail;
    close(fd);
    *size = (size_t)h.size;
    return binary;

fail:
    free(binary);
    close(fd);
    return NULL;
}

/* Write the binary beside its final name and rename it into place, so
 * that a reader sees the old file, the new one or none, never a part. */
static void cache_write(const char *dir, const char *path, uint64_t key, const unsigned char *secret,
                        const unsigned char *binary, size_t size)
{
    char temp[PATH_CAPACITY];
    if (size == 0 || size > CACHE_MAX_BINARY)
        return;
    int n = snprintf(temp, sizeof temp, "%s/.opencl-XXXXXX", dir);
    if (n <= 0 || (size_t)n >= sizeof temp)
        return;
    int fd = mkstemp(temp);  /* mode 0600 */
    if (fd < 0)
        return;
    cache_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
    h.format = CACHE_FORMAT;
    h.key = key;
    h.size = size;
    h.tag = cache_tag(secret, &h, binary);
    int ok = write_fully(fd, &h, sizeof h) == 0 && write_fully(fd, binary, size) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(temp, path) != 0)
        unlink(temp);
}

/* The program's binary for its one device, malloc'ed; NULL if the driver
 * gives none. */
static unsigned char *program_binary(cl_program program, size_t *size)
{
    size_t bytes = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof bytes, &bytes, NULL) != CL_SUCCESS || bytes == 0)
        return NULL;
    unsigned char *binary = malloc(bytes);
    if (!binary)
        return NULL;
    unsigned char *binaries[1] = { binary };
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries, binaries, NULL) != CL_SUCCESS) {
        free(binary);
        return NULL;
    }
    *size = bytes;
    return binary;
}

static cl_program build_from_binary(const ocl_program_request *req, const unsigned char *binary, size_t size)
{
    cl_int err, binary_status = CL_SUCCESS;
    cl_program program = clCreateProgramWithBinary(req->context, 1, &req->device, &size, &binary, &binary_status,
                                                   &err);
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS) {
        if (program)
            clReleaseProgram(program);
        return NULL;
    }
    if (clBuildProgram(program, 1, &req->device, req->options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(program);
        return NULL;
    }
    return program;
}

static int build_from_source(const ocl_program_request *req, cl_program *out)
{
    cl_int err;
    char *log = NULL;
    int status;
    const char *source = req->source;
    cl_program program = clCreateProgramWithSource(req->context, 1, &source, NULL, &err);
    if (err != CL_SUCCESS) {
        status = galann_error_set(GALANN_ERR_BACKEND, "opencl: clCreateProgramWithSource: %s (%d)",
                                  ocl_error_name(err), (int)err);
        goto fail;
    }
    err = clBuildProgram(program, 1, &req->device, req->options, NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t size = 0;
        if (clGetProgramBuildInfo(program, req->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) == CL_SUCCESS &&
            size > 0)
            log = malloc(size + 1);
        if (log && clGetProgramBuildInfo(program, req->device, CL_PROGRAM_BUILD_LOG, size, log, NULL) == CL_SUCCESS)
            log[size] = '\0';
        else if (log)
            log[0] = '\0';
        /* galann_error_set keeps the start and the end of a message too
         * long for its buffer: the log's first lines, with the first
         * error, survive. */
        status = galann_error_set(GALANN_ERR_BACKEND, "opencl: kernel build failed: %s (%d), options \"%s\": %s",
                                  ocl_error_name(err), (int)err, req->options, log && *log ? log : "(no log)");
        goto fail;
    }
    *out = program;
    return GALANN_OK;

fail:
    free(log);
    if (program)
        clReleaseProgram(program);
    return status;
}

int ocl_program_build(const ocl_program_request *req, cl_program *out, int *from_cache)
{
    char dir[PATH_CAPACITY], path[PATH_CAPACITY];
    unsigned char secret[CACHE_SECRET_BYTES];
    *out = NULL;
    *from_cache = 0;
    int cached = ocl_cache_dir(req->cache_dir, dir, sizeof dir) && cache_secret(dir, secret);
    uint64_t key = 0;
    if (cached) {
        key = cache_key(req);
        cached = cache_path(dir, key, path, sizeof path);
    }

    if (cached && req->read_cache) {
        size_t size = 0;
        unsigned char *binary = cache_read(path, key, secret, &size);
        if (binary) {
            cl_program program = build_from_binary(req, binary, size);
            free(binary);
            if (program) {
                *out = program;
                *from_cache = 1;
                return GALANN_OK;
            }
        }
    }

    cl_program program = NULL;
    int status = build_from_source(req, &program);
    if (status != GALANN_OK)
        return status;
    if (cached) {
        size_t size = 0;
        unsigned char *binary = program_binary(program, &size);
        if (binary)
            cache_write(dir, path, key, secret, binary, size);
        free(binary);
    }
    *out = program;
    return GALANN_OK;
}
