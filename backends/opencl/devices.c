/*
 * devices.c -- enumerating and choosing OpenCL devices (see devices.h).
 *
 * Everything here is queried afresh on each call: the library keeps no
 * global list, so a process that changes its OpenCL setup (OCL_ICD_VENDORS)
 * sees the change at its next context.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "devices.h"

/* ocl-icd and the Khronos loader return this when no platform is
 * installed (cl_khr_icd); cl_ext.h is not needed for one number. */
#define OCL_PLATFORM_NOT_FOUND_KHR (-1001)

const char *ocl_error_name(cl_int err)
{
    switch (err) {
    case CL_SUCCESS: return "CL_SUCCESS";
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_PROFILING_INFO_NOT_AVAILABLE: return "CL_PROFILING_INFO_NOT_AVAILABLE";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_BINARY: return "CL_INVALID_BINARY";
    case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_OFFSET: return "CL_INVALID_GLOBAL_OFFSET";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case CL_INVALID_EVENT: return "CL_INVALID_EVENT";
    case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST: return "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST";
    case OCL_PLATFORM_NOT_FOUND_KHR: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

void ocl_device_string(cl_device_id device, cl_device_info what, char *buf, size_t size)
{
    if (clGetDeviceInfo(device, what, size - 1, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[size - 1] = '\0';
}

void ocl_platform_string(cl_platform_id platform, cl_platform_info what, char *buf, size_t size)
{
    if (clGetPlatformInfo(platform, what, size - 1, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[size - 1] = '\0';
}

const char *ocl_device_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (type & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

/* Whether a whole word occurs in a space-separated extension list. */
static int has_extension(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = strstr(list, name); p; p = strstr(p + 1, name)) {
        if ((p == list || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
            return 1;
    }
    return 0;
}

/* Double precision: a nonzero CL_DEVICE_DOUBLE_FP_CONFIG (OpenCL 1.2), or
 * the extension that older drivers announce instead. */
static int device_has_fp64(cl_device_id device)
{
    cl_device_fp_config config = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof config, &config, NULL) == CL_SUCCESS &&
        config != 0)
        return 1;
    size_t size = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return 0;
    char *extensions = malloc(size + 1);
    if (!extensions)
        return 0;
    int found = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, size, extensions, NULL) == CL_SUCCESS) {
        extensions[size] = '\0';
        found = has_extension(extensions, "cl_khr_fp64");
    }
    free(extensions);
    return found;
}

void ocl_device_list_free(ocl_device_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int ocl_device_list_get(ocl_device_list *list)
{
    list->count = 0;
    list->items = NULL;
    cl_platform_id *platforms = NULL;
    cl_device_id *devices = NULL;
    int status = GALANN_OK;

    /* a testing knob: devices without fp64, on a machine that has none */
    const char *hide = getenv("GALANN_OPENCL_HIDE_FP64");
    int fp64_hidden = hide && strcmp(hide, "1") == 0;

    cl_uint n_platforms = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &n_platforms);
    if (err != CL_SUCCESS || n_platforms == 0) {
        status = galann_error_set(GALANN_ERR_UNAVAILABLE, "opencl: no OpenCL platform found (clGetPlatformIDs: %d)",
                                  err != CL_SUCCESS ? (int)err : OCL_PLATFORM_NOT_FOUND_KHR);
        goto fail;
    }
    platforms = malloc(n_platforms * sizeof *platforms);
    if (!platforms) {
        status = galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory listing platforms");
        goto fail;
    }
    err = clGetPlatformIDs(n_platforms, platforms, NULL);
    if (err != CL_SUCCESS) {
        status = galann_error_set(GALANN_ERR_UNAVAILABLE, "opencl: no OpenCL platform found (clGetPlatformIDs: %d)",
                                  (int)err);
        goto fail;
    }

    for (cl_uint p = 0; p < n_platforms; p++) {
        cl_uint n_devices = 0;
        /* A platform without devices answers CL_DEVICE_NOT_FOUND: skip it. */
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n_devices) != CL_SUCCESS || n_devices == 0)
            continue;
        devices = malloc(n_devices * sizeof *devices);
        ocl_device *grown = realloc(list->items, (list->count + n_devices) * sizeof *grown);
        if (!devices || !grown) {
            if (grown)
                list->items = grown;
            status = galann_error_set(GALANN_ERR_NOMEM, "opencl: out of memory listing devices");
            goto fail;
        }
        list->items = grown;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, n_devices, devices, NULL) != CL_SUCCESS)
            n_devices = 0;
        for (cl_uint d = 0; d < n_devices; d++) {
            ocl_device *item = &list->items[list->count++];
            memset(item, 0, sizeof *item);
            item->platform = platforms[p];
            item->device = devices[d];
            ocl_platform_string(platforms[p], CL_PLATFORM_NAME, item->platform_name, sizeof item->platform_name);
            ocl_device_string(devices[d], CL_DEVICE_NAME, item->device_name, sizeof item->device_name);
            if (clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof item->type, &item->type, NULL) != CL_SUCCESS)
                item->type = 0;
            item->fp64 = device_has_fp64(devices[d]) && !fp64_hidden;
        }
        free(devices);
        devices = NULL;
    }
    if (list->count == 0) {
        status = galann_error_set(GALANN_ERR_UNAVAILABLE, "opencl: no OpenCL device found on %u platform%s",
                                  n_platforms, n_platforms == 1 ? "" : "s");
        goto fail;
    }
    free(platforms);
    return GALANN_OK;

fail:
    free(devices);
    free(platforms);
    ocl_device_list_free(list);
    return status;
}

/* Case-insensitive: does haystack contain needle? */
static int contains_ignoring_case(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *h = haystack; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return 0;
    }
    return 1;
}

int ocl_device_select(const ocl_device_list *list, const char *selector, int need_fp64, size_t *index)
{
    if (!selector || !*selector) {
        for (size_t i = 0; i < list->count; i++) {
            if ((list->items[i].type & CL_DEVICE_TYPE_GPU) && (list->items[i].fp64 || !need_fp64)) {
                *index = i;
                return GALANN_OK;
            }
        }
        for (size_t i = 0; i < list->count; i++) {
            if (list->items[i].fp64 || !need_fp64) {
                *index = i;
                return GALANN_OK;
            }
        }
        return galann_error_set(GALANN_ERR_UNAVAILABLE,
                                "opencl: none of the %zu OpenCL device%s supports double precision (cl_khr_fp64); "
                                "single precision runs without it", list->count, list->count == 1 ? "" : "s");
    }

    if (all_digits(selector)) {
        char *end;
        unsigned long long i = strtoull(selector, &end, 10);
        if (i >= list->count)
            return galann_error_set(GALANN_ERR_UNAVAILABLE, "opencl: no device %s: there %s %zu (0..%zu)", selector,
                                    list->count == 1 ? "is" : "are", list->count, list->count - 1);
        const ocl_device *d = &list->items[i];
        if (!d->fp64 && need_fp64)
            return galann_error_set(GALANN_ERR_UNAVAILABLE,
                                    "opencl: device %s (%s / %s) does not support double precision (cl_khr_fp64); "
                                    "single precision runs without it", selector, d->platform_name, d->device_name);
        *index = (size_t)i;
        return GALANN_OK;
    }

    size_t matches = 0;
    for (size_t i = 0; i < list->count; i++) {
        const ocl_device *d = &list->items[i];
        char full[2 * OCL_NAME_CAPACITY + 2];
        snprintf(full, sizeof full, "%s %s", d->platform_name, d->device_name);
        if (!contains_ignoring_case(full, selector))
            continue;
        matches++;
        if (d->fp64 || !need_fp64) {
            *index = i;
            return GALANN_OK;
        }
    }
    if (matches)
        return galann_error_set(GALANN_ERR_UNAVAILABLE,
                                "opencl: %zu device%s match%s \"%s\", but none supports double precision "
                                "(cl_khr_fp64); single precision runs without it", matches, matches == 1 ? "" : "s",
                                matches == 1 ? "es" : "", selector);
    return galann_error_set(GALANN_ERR_UNAVAILABLE,
                            "opencl: no device matches \"%s\" (an index 0..%zu or part of \"platform device\"; "
                            "see galann_backend_devices)", selector, list->count - 1);
}
