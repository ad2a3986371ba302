/*
 * host_cpu.c -- the host CPU described as a galann_device, for the
 * backends that compute on it (backend.h: galann_host_cpu_device).
 *
 * Read afresh on every call from /proc/cpuinfo and sysconf: nothing is
 * cached, nothing is loaded, and a machine without /proc (or a CPU whose
 * cpuinfo has no "model name", as on many ARM kernels) gets "host CPU".
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

/* The value of the first "model name" line of /proc/cpuinfo, trimmed, into
 * name (size bytes); 0 when there is none. */
static int cpuinfo_model_name(char *name, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *value = strchr(line, ':');
        if (!value)
            continue;
        value += 1 + strspn(value + 1, " \t");
        size_t length = strcspn(value, "\n");
        while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\t'))
            length--;
        if (length == 0)
            continue;
        snprintf(name, size, "%.*s", (int)length, value);
        found = 1;
    }
    fclose(f);
    return found;
}

int galann_host_cpu_device_count(size_t *count)
{
    *count = 1;
    return GALANN_OK;
}

int galann_host_cpu_device(size_t index, galann_device *out)
{
    if (index != 0)
        return galann_error_set(GALANN_ERR_INVALID, "the host CPU is device 0, not %zu", index);
    if (!cpuinfo_model_name(out->name, sizeof out->name))
        snprintf(out->name, sizeof out->name, "host CPU");
    out->type = GALANN_DEVICE_CPU;
    out->fp64 = 1;
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    out->memory_bytes = pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size : 0;
    return GALANN_OK;
}
