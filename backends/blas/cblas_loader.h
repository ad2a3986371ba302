/*
 * cblas_loader.h -- CBLAS loaded on first use, never linked.
 *
 * libgalann does not depend on a CBLAS library: the blas backend loads the
 * one found at build time when its first context is created, so a program
 * that never uses the backend never loads OpenBLAS nor starts its threads
 * (docs/reliability.md §8). cblas.h is used for the types only.
 */
#ifndef GALANN_CBLAS_LOADER_H
#define GALANN_CBLAS_LOADER_H

#include <cblas.h>

/* The exact type of the header's cblas_dgemm, whatever its integer and
 * enum types (OpenBLAS's blasint, the reference CBLAS's CBLAS_INT). */
typedef __typeof__(cblas_dgemm) galann_dgemm_fn;
typedef __typeof__(cblas_sgemm) galann_sgemm_fn;

/* The CBLAS functions the backend uses. */
typedef struct galann_cblas {
    galann_dgemm_fn *dgemm;
    galann_sgemm_fn *sgemm;  /* single precision */
} galann_cblas;

/* Fills *out with CBLAS's functions, loading the library if no call has
 * yet (one call at a time: the others wait). Once loaded, it stays loaded
 * until the process ends. When it cannot be loaded: GALANN_ERR_UNAVAILABLE
 * with the dynamic loader's reasons as the message, nothing printed, and
 * the next call tries again. */
int galann_cblas_load(galann_cblas *out);

#endif /* GALANN_CBLAS_LOADER_H */
