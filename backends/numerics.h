/*
 * numerics.h -- the scalar functions every CPU backend computes with, in
 * one place so that they give the same bits everywhere: the logistic
 * sigmoid, and softplus for the cost terms (-log g(z) = softplus(-z),
 * -log(1 - g(z)) = softplus(z)), written so that neither overflows.
 */
#ifndef GALANN_BACKEND_NUMERICS_H
#define GALANN_BACKEND_NUMERICS_H

#include <math.h>

/* log(1 + e^t) without overflow. */
static inline double galann_softplus(double t)
{
    return (t > 0.0 ? t : 0.0) + log1p(exp(-fabs(t)));
}

/* 1 / (1 + e^-z). */
static inline double galann_sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* The same in single precision (the products of GALANN_PRECISION_SINGLE). */
static inline float galann_sigmoid_f(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

#endif /* GALANN_BACKEND_NUMERICS_H */
