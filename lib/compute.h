/*
 * compute.h -- one evaluation of a model on a dataset through the
 * context's backend, for the core's own callers (fit.c).
 */
#ifndef GALANN_COMPUTE_H
#define GALANN_COMPUTE_H

#include "galann.h"
#include "backend.h"

/* What to compute; NULL outputs are skipped. cost and gradient include the
 * lambda term. theta overrides the model's weights when not NULL (same
 * length), so callers can evaluate trial points without copying models. */
typedef struct galann_evaluation {
    const double *theta;
    double lambda;
    double *cost;
    double *gradient;
    double *outputs;
    size_t *n_correct;
    size_t *n_samples;  /* samples counted: every process's on a data-parallel context */
} galann_evaluation;

/* Checks arguments and sizes, runs the backend, adds regularisation, and
 * rejects non-finite results with GALANN_ERR_NONFINITE. who names the
 * public function in messages. */
int galann_evaluate(const char *who, galann_context *c, const galann_model *m, const galann_dataset *d,
                    const galann_evaluation *e);

#endif /* GALANN_COMPUTE_H */
