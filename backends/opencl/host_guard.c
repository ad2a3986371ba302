/*
 * host_guard.c -- the OpenCL runtime's changes to the process undone, and
 * the ICD configuration read without loading a driver (see host_guard.h).
 */
#define _GNU_SOURCE /* dladdr */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "devices.h"
#include "host_guard.h"

extern char **environ;

/* ------------------------------------------------------------ the guard */

static void free_record(ocl_host_guard *g)
{
    for (size_t i = 0; i < g->n_env; i++)
        free(g->env[i]);
    free(g->env);
    free(g->locale);
    g->env = NULL;
    g->n_env = 0;
    g->locale = NULL;
}

int ocl_host_guard_enter(ocl_host_guard *g)
{
    memset(g, 0, sizeof *g);
    for (int sig = 1; sig < OCL_GUARD_SIGNALS; sig++)
        g->have[sig] = sigaction(sig, NULL, &g->action[sig]) == 0;
    size_t n = 0;
    while (environ && environ[n])
        n++;
    g->env = calloc(n + 1, sizeof *g->env);
    const char *locale = setlocale(LC_ALL, NULL);
    g->locale = locale ? strdup(locale) : NULL;
    if (!g->env || (locale && !g->locale))
        goto fail;
    for (; g->n_env < n; g->n_env++) {
        g->env[g->n_env] = strdup(environ[g->n_env]);
        if (!g->env[g->n_env])
            goto fail;
    }
    return GALANN_OK;

fail:
    free_record(g);
    return galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory recording the process state");
}

static int same_sigset(const sigset_t *a, const sigset_t *b)
{
    for (int sig = 1; sig < OCL_GUARD_SIGNALS; sig++) {
        if (sigismember(a, sig) != sigismember(b, sig))
            return 0;
    }
    return 1;
}

/* Linux reports SA_RESTORER (the C library's return trampoline) once a
 * disposition has been set: not part of what the disposition does. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static int same_action(const struct sigaction *a, const struct sigaction *b)
{
    /* sa_handler and sa_sigaction may share storage: SA_SIGINFO says which */
    if ((a->sa_flags & ~SA_RESTORER) != (b->sa_flags & ~SA_RESTORER))
        return 0;
    if ((a->sa_flags & SA_SIGINFO) ? a->sa_sigaction != b->sa_sigaction : a->sa_handler != b->sa_handler)
        return 0;
    return same_sigset(&a->sa_mask, &b->sa_mask);
}

static void restore_signals(const ocl_host_guard *g)
{
    for (int sig = 1; sig < OCL_GUARD_SIGNALS; sig++) {
        struct sigaction now;
        if (g->have[sig] && sigaction(sig, NULL, &now) == 0 && !same_action(&now, &g->action[sig]))
            sigaction(sig, &g->action[sig], NULL);
    }
}

/* The recorded "NAME=value" whose name is the first len bytes of entry. */
static const char *recorded_entry(const ocl_host_guard *g, const char *entry, size_t len)
{
    for (size_t i = 0; i < g->n_env; i++) {
        if (strncmp(g->env[i], entry, len) == 0 && g->env[i][len] == '=')
            return g->env[i];
    }
    return NULL;
}

/* setenv(NAME, value) from a recorded "NAME=value". */
static void put_back(const char *entry)
{
    const char *eq = strchr(entry, '=');
    char name[256];
    size_t len = (size_t)(eq - entry);
    if (len == 0 || len >= sizeof name)
        return;
    memcpy(name, entry, len);
    name[len] = '\0';
    setenv(name, eq + 1, 1);
}

static void restore_environment(const ocl_host_guard *g)
{
    /* names that appeared or changed: removed or set back; a pass restarts
     * after each change, since setenv and unsetenv move the entries (at
     * most one pass per entry, should a change not take) */
    size_t passes = g->n_env + 1;
    for (char **e = environ; e && *e; e++)
        passes++;
    for (int changed = 1; changed && passes > 0; passes--) {
        changed = 0;
        for (char **e = environ; e && *e && !changed; e++) {
            const char *eq = strchr(*e, '=');
            if (!eq || eq == *e)
                continue;
            size_t len = (size_t)(eq - *e);
            const char *old = recorded_entry(g, *e, len);
            if (old && strcmp(old, *e) == 0)
                continue;
            char name[256];
            if (len >= sizeof name)
                continue;
            memcpy(name, *e, len);
            name[len] = '\0';
            if (old)
                put_back(old);
            else
                unsetenv(name);
            changed = 1;
        }
    }
    /* names that disappeared */
    for (size_t i = 0; i < g->n_env; i++) {
        const char *eq = strchr(g->env[i], '=');
        if (!eq || eq == g->env[i])
            continue;
        char name[256];
        size_t len = (size_t)(eq - g->env[i]);
        if (len >= sizeof name)
            continue;
        memcpy(name, g->env[i], len);
        name[len] = '\0';
        if (!getenv(name))
            put_back(g->env[i]);
    }
}

void ocl_host_guard_leave(ocl_host_guard *g)
{
    restore_signals(g);
    restore_environment(g);
    const char *locale = setlocale(LC_ALL, NULL);
    if (g->locale && (!locale || strcmp(locale, g->locale) != 0))
        setlocale(LC_ALL, g->locale);
    free_record(g);
}

/* ------------------------------------------------ the ICD configuration */

#define ICD_DEFAULT_DIR "/etc/OpenCL/vendors"

/* PoCL device types that are CPUs (POCL_DEVICES), and the device modules
 * beside libpocl that could drive a GPU or another machine's devices. */
static const char *const pocl_cpu_types[] = { "pthread", "basic", "cpu", "cpu-minimal", "tbb", "cpu-tbb" };
static const char *const pocl_gpu_modules[] = { "cuda", "hsa", "level0", "vulkan", "remote", "proxy" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int is_pocl_cpu_type(const char *word, size_t len)
{
    for (size_t i = 0; i < COUNT(pocl_cpu_types); i++) {
        if (strlen(pocl_cpu_types[i]) == len && strncmp(pocl_cpu_types[i], word, len) == 0)
            return 1;
    }
    return 0;
}

/* The folder of the ICD loader this library is linked with, where a
 * driver named without a path is found too: "" when unknown. */
static void loader_dir(char *buf, size_t size)
{
    Dl_info info;
    buf[0] = '\0';
    if (dladdr((void *)clGetPlatformIDs, &info) == 0 || !info.dli_fname || info.dli_fname[0] != '/')
        return;
    const char *slash = strrchr(info.dli_fname, '/');
    size_t len = (size_t)(slash - info.dli_fname);
    if (len < size) {
        memcpy(buf, info.dli_fname, len);
        buf[len] = '\0';
    }
}

/* Whether PoCL at library (its ICD line) could offer a GPU. */
static int pocl_may_have_gpu(const char *library)
{
    const char *devices = getenv("POCL_DEVICES");
    if (devices && *devices) {
        /* only the listed device types are started */
        for (const char *p = devices; *p;) {
            size_t len = strcspn(p, " ,");
            if (len && !is_pocl_cpu_type(p, len))
                return 1;
            p += len;
            p += strspn(p, " ,");
        }
        return 0;
    }
    char dir[PATH_MAX];
    const char *slash = strrchr(library, '/');
    if (slash) {
        size_t len = (size_t)(slash - library);
        if (len >= sizeof dir)
            return 1;
        memcpy(dir, library, len);
        dir[len] = '\0';
    } else {
        loader_dir(dir, sizeof dir);
        if (!dir[0])
            return 1;
    }
    for (size_t i = 0; i < COUNT(pocl_gpu_modules); i++) {
        char module[PATH_MAX + 64];
        snprintf(module, sizeof module, "%s/pocl/libpocl-devices-%s.so", dir, pocl_gpu_modules[i]);
        if (access(module, F_OK) == 0)
            return 1;
    }
    return 0;
}

/* Whether the driver library named in an ICD file could offer a GPU:
 * yes unless it is known to be a CPU-only one. */
static int library_may_have_gpu(const char *library)
{
    const char *slash = strrchr(library, '/');
    const char *base = slash ? slash + 1 : library;
    if (strncmp(base, "libpocl", 7) == 0)
        return pocl_may_have_gpu(library);
    return 1;
}

/* The first line of an ICD file, the driver's library name. 0 when the
 * file is not a readable regular file (the loader cannot use it either). */
static int read_icd_file(const char *path, char *library, size_t size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        n = read(fd, library, size - 1);
    close(fd);
    if (n <= 0)
        return 0;
    library[n] = '\0';
    library[strcspn(library, "\r\n")] = '\0';
    /* trailing blanks are not part of the name */
    for (size_t len = strlen(library); len && (library[len - 1] == ' ' || library[len - 1] == '\t'); len--)
        library[len - 1] = '\0';
    return library[0] != '\0';
}

static int icd_file_may_have_gpu(const char *path)
{
    char library[PATH_MAX];
    return read_icd_file(path, library, sizeof library) && library_may_have_gpu(library);
}

/* Every *.icd file of a vendors folder. */
static int vendor_dir_may_have_gpu(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".icd") != 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            found = 1;  /* cannot tell: assume the worst */
        else
            found = icd_file_may_have_gpu(path);
    }
    closedir(d);
    return found;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* OCL_ICD_VENDORS as ocl-icd reads it: a folder, an .icd file (first
 * looked up in the vendors folder when it has no slash), or a driver. */
static int vendors_variable_may_have_gpu(const char *vendors, const char *dir)
{
    if (is_directory(vendors))
        return vendor_dir_may_have_gpu(vendors);
    size_t len = strlen(vendors);
    if (len < 4 || strcmp(vendors + len - 4, ".icd") != 0)
        return library_may_have_gpu(vendors);
    char path[PATH_MAX];
    char library[PATH_MAX];
    if (!strchr(vendors, '/') && snprintf(path, sizeof path, "%s/%s", dir, vendors) < (int)sizeof path &&
        read_icd_file(path, library, sizeof library))
        return library_may_have_gpu(library);
    return icd_file_may_have_gpu(vendors);
}

int ocl_icd_may_have_gpu(void)
{
    /* OCL_ICD_FILENAMES: drivers named directly, colon-separated */
    const char *names = getenv("OCL_ICD_FILENAMES");
    for (const char *p = names; p && *p;) {
        size_t len = strcspn(p, ":");
        char library[PATH_MAX];
        if (len >= sizeof library)
            return 1;
        memcpy(library, p, len);
        library[len] = '\0';
        if (len && library_may_have_gpu(library))
            return 1;
        p += len;
        p += *p == ':';
    }
    const char *vendor_path = getenv("OPENCL_VENDOR_PATH");
    const char *dir = vendor_path && *vendor_path ? vendor_path : ICD_DEFAULT_DIR;
    const char *vendors = getenv("OCL_ICD_VENDORS");
    if (vendors && *vendors)
        return vendors_variable_may_have_gpu(vendors, dir);
    return vendor_dir_may_have_gpu(dir);
}
