/*
 * devices.h -- finding OpenCL devices for the opencl backend: the list of
 * every device on every platform, choosing one from a selector, and the
 * names of OpenCL error codes for messages.
 *
 * Not here: contexts, queues, programs (opencl.c, program.c).
 */
#ifndef GALANN_OPENCL_DEVICES_H
#define GALANN_OPENCL_DEVICES_H

#include <stddef.h>

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#define OCL_NAME_CAPACITY 256

typedef struct ocl_device {
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[OCL_NAME_CAPACITY];
    char device_name[OCL_NAME_CAPACITY];
    cl_device_type type;
    int fp64;  /* double precision is supported (cl_khr_fp64 or a double FP config), and
                  GALANN_OPENCL_HIDE_FP64=1 (a testing knob) does not hide it */
} ocl_device;

/* Every device of every platform, in platform order then device order:
 * the numbering that selectors and list_devices use. */
typedef struct ocl_device_list {
    size_t count;
    ocl_device *items;
} ocl_device_list;

/* Enumerate the devices. GALANN_ERR_UNAVAILABLE (with the reason) when
 * there is no platform or no device, GALANN_ERR_NOMEM. On success the
 * caller frees the list with ocl_device_list_free. */
int ocl_device_list_get(ocl_device_list *list);
void ocl_device_list_free(ocl_device_list *list);

/* Choose a usable device (one with fp64 when need_fp64): selector NULL or
 * "" prefers a GPU, then any device; all digits is an index into the list;
 * anything else is a case-insensitive substring of "platform-name
 * device-name" (the first such usable device wins).
 * GALANN_ERR_UNAVAILABLE with the reason when nothing fits. */
int ocl_device_select(const ocl_device_list *list, const char *selector, int need_fp64, size_t *index);

/* "GPU", "CPU", "accelerator" or "other". */
const char *ocl_device_type_name(cl_device_type type);

/* The symbolic name of an OpenCL status ("CL_OUT_OF_RESOURCES"). */
const char *ocl_error_name(cl_int err);

/* A string property of a device or platform, always NUL-terminated ("" on
 * failure). */
void ocl_device_string(cl_device_id device, cl_device_info what, char *buf, size_t size);
void ocl_platform_string(cl_platform_id platform, cl_platform_info what, char *buf, size_t size);

/* The devices as galann_device structs, and whether "best available"
 * should pick opencl (device_info.c): the backend's device_count,
 * device_get and has_device hooks (lib/backend.h). */
struct galann_device;
int ocl_device_count(size_t *count);
int ocl_device_get(size_t index, struct galann_device *out);
int ocl_has_device(int type);

#endif /* GALANN_OPENCL_DEVICES_H */
