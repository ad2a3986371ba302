/*
 * report.c -- report structs written only as far as the caller's reaches
 * (report.h), and their _init_size functions.
 */
#include <string.h>

#include "galann.h"
#include "error.h"
#include "report.h"

int galann_report_size_check(const char *who, const char *init, size_t given)
{
    if (given < sizeof(size_t))
        return galann_error_set(GALANN_ERR_INVALID, "%s: report.struct_size %zu is not valid (set it with %s)", who,
                                given, init);
    return GALANN_OK;
}

void galann_report_write(void *report, const void *full, size_t library_size)
{
    size_t given;
    memcpy(&given, report, sizeof given);
    size_t size = given < library_size ? given : library_size;
    memcpy((char *)report + sizeof given, (const char *)full + sizeof given, size - sizeof given);
    memcpy(report, &size, sizeof size);
}

void galann_report_init(void *report, size_t size, size_t library_size)
{
    if (!report || size < sizeof(size_t))
        return;
    size_t fits = size < library_size ? size : library_size;
    memset(report, 0, fits);
    memcpy(report, &fits, sizeof fits);
}

GALANN_API void galann_fit_report_init_size(galann_fit_report *report, size_t size)
{
    galann_report_init(report, size, sizeof *report);
}

GALANN_API void galann_cg_report_init_size(galann_cg_report *report, size_t size)
{
    galann_report_init(report, size, sizeof *report);
}

GALANN_API void galann_profile_init_size(galann_profile *profile, size_t size)
{
    galann_report_init(profile, size, sizeof *profile);
}
