/*
 * cblas_loader.c -- load CBLAS with dlopen, once, on the first blas context.
 *
 * Linked, OpenBLAS starts its thread pool in its library constructor, in
 * every process that loads libgalann, before any of our code runs: a
 * program that only reads a CSV file had OpenBLAS's threads, and under a
 * process limit OpenBLAS printed to stderr and raised SIGINT at load.
 * Loaded here, it starts them only in a process that creates a blas
 * context. The candidates are the file the build would have linked (its
 * folder and soname, cblas_library.h, written by meson), then the soname
 * through the dynamic loader's own search, so the library is the one the
 * backend was built and tested with whenever it is still there.
 *
 * The handle is never closed: the backend's workers may be inside dgemm
 * until their context is freed, and OpenBLAS's own threads live as long as
 * the library. A failed load is tried again by the next context (a process
 * may have run out of memory or file descriptors for a moment); once one
 * has succeeded, no other is tried.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "cblas_library.h"
#include "cblas_loader.h"

/* loaded is set once, under the lock, and never changes after */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static galann_cblas loaded;

/* Append one candidate's reason to why. */
static void note_failure(char *why, size_t size, const char *reason)
{
    size_t used = strlen(why);
    if (used + 1 >= size)
        return;
    snprintf(why + used, size - used, "%s%s", used ? "; " : "", reason ? reason : "unknown error");
}

/* The functions of the first candidate that loads and has them all (else
 * every candidate's reason in why, and *out left empty). */
static void load_cblas(galann_cblas *out, char *why, size_t size)
{
    static const char *const candidates[] = { GALANN_CBLAS_FILE, GALANN_CBLAS_SONAME };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        const char *name = candidates[i];
        if (!*name)
            continue;
        void *library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            note_failure(why, size, dlerror());
            continue;
        }
        dlerror();
        void *dgemm = dlsym(library, "cblas_dgemm"), *sgemm = dlsym(library, "cblas_sgemm");
        /* POSIX guarantees that a function's address survives the round
         * trip through void * */
        if (dgemm && sgemm) {
            out->dgemm = (galann_dgemm_fn *)dgemm;
            out->sgemm = (galann_sgemm_fn *)sgemm;
            return;
        }
        char reason[512];
        snprintf(reason, sizeof reason, "%s: no %s in it", name, dgemm ? "cblas_sgemm" : "cblas_dgemm");
        note_failure(why, size, reason);
        /* nothing of it has run but its constructors */
        dlclose(library);
    }
}

int galann_cblas_load(galann_cblas *out)
{
    char why[768] = "";
    pthread_mutex_lock(&load_lock);
    if (!loaded.dgemm)
        load_cblas(&loaded, why, sizeof why);
    *out = loaded;
    pthread_mutex_unlock(&load_lock);
    if (!out->dgemm)
        return galann_error_set(GALANN_ERR_UNAVAILABLE, "blas backend: cannot load CBLAS: %s", why);
    return GALANN_OK;
}
