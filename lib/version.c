/*
 * version.c -- the version of the library actually loaded.
 */
#include "galann.h"

GALANN_API const char *galann_version(void)
{
    return GALANN_VERSION_STRING;
}

GALANN_API int galann_version_number(void)
{
    return GALANN_VERSION_NUMBER;
}
