/*
 * narrow_none.c -- the narrow-layer table on CPUs other than x86
 * (narrow.h): there is none, and every layer goes through dgemm or sgemm.
 */
#include "narrow.h"

const galann_narrow_kernels *galann_blas_narrow_kernels(void)
{
    return NULL;
}
