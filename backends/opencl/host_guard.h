/*
 * host_guard.h -- keeping the OpenCL runtime's changes to the host process
 * from outliving a call, and finding out, without loading any runtime,
 * whether an OpenCL GPU could be there at all.
 *
 * An OpenCL runtime is a guest in the host's process, and not a tidy one:
 * PoCL installs a SIGFPE handler and sets HWLOC_PLUGINS_PATH when it
 * starts, and the LLVM inside it installs handlers for 14 more signals.
 * Every call of the opencl backend that can reach the runtime runs inside
 * a guard: the signal dispositions, the environment and the locale are
 * recorded on entry, and on exit whatever the runtime changed in between
 * is put back. What cannot be put back: the threads a runtime keeps
 * (PoCL: 2) and the memory and libraries it keeps loaded.
 *
 * Not here: which device to use (devices.c).
 */
#ifndef GALANN_OPENCL_HOST_GUARD_H
#define GALANN_OPENCL_HOST_GUARD_H

#include <signal.h>
#include <stddef.h>

/* Signals 1..64 (Linux has 64; NSIG is not in POSIX). */
#define OCL_GUARD_SIGNALS 65

typedef struct ocl_host_guard {
    unsigned char have[OCL_GUARD_SIGNALS];  /* the disposition could be read */
    struct sigaction action[OCL_GUARD_SIGNALS];
    size_t n_env;
    char **env;    /* copies of every "NAME=value" */
    char *locale;  /* setlocale(LC_ALL, NULL) on entry */
} ocl_host_guard;

/* Record the process state. GALANN_ERR_NOMEM (with a message) when the
 * copies cannot be made: then nothing is recorded and the caller must not
 * reach the runtime. */
int ocl_host_guard_enter(ocl_host_guard *g);

/* Put back every signal disposition, environment variable and the locale
 * that changed since ocl_host_guard_enter, and free the record. Changes
 * the host makes from another thread meanwhile may be undone too: the
 * library's calls are not meant to race with the host's setenv or
 * sigaction (docs/reliability.md). */
void ocl_host_guard_leave(ocl_host_guard *g);

/* Whether an installed OpenCL driver could offer a GPU, judged from the
 * ICD loader's configuration alone (OCL_ICD_FILENAMES, OCL_ICD_VENDORS,
 * OPENCL_VENDOR_PATH, /etc/OpenCL/vendors) without loading any driver:
 * 0 when every driver found is a CPU-only one (PoCL with only its CPU
 * devices) or there is none; 1 when one could drive a GPU or is unknown. */
int ocl_icd_may_have_gpu(void);

#endif /* GALANN_OPENCL_HOST_GUARD_H */
