/*
 * device_info.c -- the opencl backend's devices as galann_device structs
 * (its device_count and device_get hooks), and whether "best available"
 * should pick it (has_device), from the list devices.c enumerates.
 *
 * Every entry point that reaches the runtime runs inside a host guard
 * (host_guard.h), as opencl.c's do. Not here: choosing a device for a
 * context (devices.c), the text listing (opencl.c).
 */
#include <string.h>

#include "backend.h"
#include "devices.h"
#include "host_guard.h"

static int galann_type(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return GALANN_DEVICE_GPU;
    if (type & CL_DEVICE_TYPE_CPU)
        return GALANN_DEVICE_CPU;
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return GALANN_DEVICE_ACCELERATOR;
    return GALANN_DEVICE_OTHER;
}

int ocl_device_count(size_t *count)
{
    ocl_host_guard g;
    int status = ocl_host_guard_enter(&g);
    if (status != GALANN_OK)
        return status;
    ocl_device_list list;
    status = ocl_device_list_get(&list);
    if (status == GALANN_OK)
        *count = list.count;
    ocl_device_list_free(&list);
    ocl_host_guard_leave(&g);
    return status;
}

int ocl_device_get(size_t index, galann_device *out)
{
    ocl_host_guard g;
    int status = ocl_host_guard_enter(&g);
    if (status != GALANN_OK)
        return status;
    ocl_device_list list;
    status = ocl_device_list_get(&list);
    if (status == GALANN_OK && index >= list.count)
        status = galann_error_set(GALANN_ERR_INVALID, "opencl: no device %zu: there are %zu", index, list.count);
    if (status == GALANN_OK) {
        const ocl_device *d = &list.items[index];
        /* cut to fit (out is zeroed: the name stays terminated) */
        size_t length = strnlen(d->device_name, sizeof out->name - 1);
        memcpy(out->name, d->device_name, length);
        out->type = galann_type(d->type);
        out->fp64 = d->fp64;
        cl_ulong memory = 0;
        if (clGetDeviceInfo(d->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof memory, &memory, NULL) != CL_SUCCESS)
            memory = 0;
        out->memory_bytes = memory;
    }
    ocl_device_list_free(&list);
    ocl_host_guard_leave(&g);
    return status;
}

/* Only a GPU with fp64 makes opencl the best choice: a CPU OpenCL device
 * (PoCL) is for testing, and blas or reference serve the CPU better, so
 * the answer for any other type is no, at no cost. For a GPU, no runtime
 * is loaded unless the ICD configuration names a driver that could drive
 * one (ocl_icd_may_have_gpu). */
int ocl_has_device(int type)
{
    if (type != GALANN_DEVICE_GPU || !ocl_icd_may_have_gpu())
        return 0;
    ocl_host_guard g;
    if (ocl_host_guard_enter(&g) != GALANN_OK) {
        galann_error_clear();
        return 0;
    }
    ocl_device_list list;
    int found = 0;
    if (ocl_device_list_get(&list) == GALANN_OK) {
        for (size_t i = 0; i < list.count && !found; i++)
            found = (list.items[i].type & CL_DEVICE_TYPE_GPU) && list.items[i].fp64;
        ocl_device_list_free(&list);
    } else {
        /* "no GPU" is an answer, not a failure of the caller's call */
        galann_error_clear();
    }
    ocl_host_guard_leave(&g);
    return found;
}
