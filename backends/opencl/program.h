/*
 * program.h -- building the opencl backend's kernels, through an on-disk
 * cache of program binaries.
 *
 * The cache file is named by a hash of everything the binary depends on:
 * platform, device, driver version, kernel source and build options. It is
 * written atomically (a temporary file renamed into place) and checked
 * before the driver sees it: this user's regular file, writable by no one
 * else, in a folder of this user's writable by no one else, with the right
 * magic, key and size, and a SipHash-2-4 tag keyed with the folder's own
 * random secret (so a file this library did not write there is rebuilt).
 * Any failure to read or load it falls back to building from source.
 * Cache failures are never errors and nothing is printed.
 *
 * Not here: choosing the device or creating kernels (opencl.c).
 */
#ifndef GALANN_OPENCL_PROGRAM_H
#define GALANN_OPENCL_PROGRAM_H

#include <stddef.h>

#include "devices.h"

typedef struct ocl_program_request {
    cl_context context;
    cl_device_id device;
    const char *source;
    const char *options;
    const char *cache_dir;  /* NULL or "": no cache */
    int read_cache;         /* 0: build from source (the cache is still refreshed) */
} ocl_program_request;

/* Build the program for the device: from the cache when possible, else
 * from source. GALANN_ERR_BACKEND with the build log in the message when
 * the source does not build. *from_cache says which way it went. */
int ocl_program_build(const ocl_program_request *req, cl_program *out, int *from_cache);

/* The cache folder to use: configured when not NULL ("" disables the
 * cache: returns 0), else $XDG_CACHE_HOME/galann, else $HOME/.cache/galann.
 * Returns 1 with the path in buf, 0 when there is no cache. */
int ocl_cache_dir(const char *configured, char *buf, size_t size);

#endif /* GALANN_OPENCL_PROGRAM_H */
