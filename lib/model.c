/*
 * model.c -- creating models, their parameter vector and initial weights.
 *
 * Saving and loading is model_io.c's job.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "error.h"
#include "rng.h"

size_t galann_count_params(const size_t *sizes, size_t n_layers)
{
    size_t total = 0;
    for (size_t l = 1; l < n_layers; l++) {
        size_t rows = sizes[l], cols = sizes[l - 1];
        if (rows == 0 || cols == 0 || cols == SIZE_MAX || rows > SIZE_MAX / (cols + 1))
            return 0;
        size_t count = rows * (cols + 1);
        if (count > SIZE_MAX / sizeof(double) - total)
            return 0;
        total += count;
    }
    return total;
}

GALANN_API int galann_model_new(const size_t *layer_sizes, size_t n_layers, galann_model **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_new: out is NULL");
    *out = NULL;
    if (!layer_sizes)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_new: layer_sizes is NULL");
    if (n_layers < 2)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_new: a network needs at least 2 layers, got %zu",
                                n_layers);
    for (size_t l = 0; l < n_layers; l++) {
        if (layer_sizes[l] == 0)
            return galann_error_set(GALANN_ERR_INVALID, "galann_model_new: layer %zu has size 0", l);
    }
    size_t n_params = galann_count_params(layer_sizes, n_layers);
    if (n_params == 0)
        return galann_error_set(GALANN_ERR_NOMEM, "galann_model_new: the parameter count overflows");

    galann_model *m = calloc(1, sizeof *m);
    if (!m)
        goto fail;
    m->sizes = malloc(n_layers * sizeof *m->sizes);
    m->theta = calloc(n_params, sizeof *m->theta);
    if (!m->sizes || !m->theta)
        goto fail;
    memcpy(m->sizes, layer_sizes, n_layers * sizeof *m->sizes);
    m->n_layers = n_layers;
    m->n_params = n_params;
    m->input_divisor = GALANN_DEFAULT_INPUT_DIVISOR;
    *out = m;
    return GALANN_OK;

fail:
    galann_model_free(m);
    return galann_error_set(GALANN_ERR_NOMEM, "out of memory for a model of %zu parameters", n_params);
}

GALANN_API int galann_model_copy(const galann_model *m, galann_model **out)
{
    if (!m) {
        if (out)
            *out = NULL;
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_copy: model is NULL");
    }
    int status = galann_model_new(m->sizes, m->n_layers, out);
    if (status != GALANN_OK)
        return status;
    memcpy((*out)->theta, m->theta, m->n_params * sizeof *m->theta);
    (*out)->input_divisor = m->input_divisor;
    if (m->class_names) {
        status = galann_class_names_copy("galann_model_copy", (const char *const *)m->class_names, NULL,
                                         galann_model_outputs(m), &(*out)->class_names);
        if (status != GALANN_OK) {
            galann_model_free(*out);
            *out = NULL;
        }
    }
    return status;
}

GALANN_API void galann_model_free(galann_model *m)
{
    if (!m)
        return;
    if (m->sizes)
        galann_class_names_free(m->class_names, galann_model_outputs(m));
    free(m->sizes);
    free(m->theta);
    free(m);
}

GALANN_API size_t galann_model_n_params(const galann_model *m) { return m ? m->n_params : 0; }
GALANN_API size_t galann_model_n_layers(const galann_model *m) { return m ? m->n_layers : 0; }

GALANN_API size_t galann_model_layer_size(const galann_model *m, size_t i)
{
    return (m && i < m->n_layers) ? m->sizes[i] : 0;
}

GALANN_API double galann_model_input_divisor(const galann_model *m)
{
    return m ? m->input_divisor : 0.0;
}

GALANN_API int galann_model_set_input_divisor(galann_model *m, double divisor)
{
    galann_error_clear();
    if (!m)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_set_input_divisor: model is NULL");
    if (!isfinite(divisor) || divisor == 0.0)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_set_input_divisor: %g is not a usable divisor",
                                divisor);
    m->input_divisor = divisor;
    return GALANN_OK;
}

static int check_param_buffer(const char *who, const galann_model *m, const void *theta, size_t n)
{
    if (!m || !theta)
        return galann_error_set(GALANN_ERR_INVALID, "%s: model or buffer is NULL", who);
    if (n != m->n_params)
        return galann_error_set(GALANN_ERR_DIMENSION, "%s: buffer holds %zu values, the model has %zu parameters",
                                who, n, m->n_params);
    return GALANN_OK;
}

GALANN_API int galann_model_set_params(galann_model *m, const double *theta, size_t n)
{
    galann_error_clear();
    int status = check_param_buffer("galann_model_set_params", m, theta, n);
    if (status != GALANN_OK)
        return status;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(theta[i]))
            return galann_error_set(GALANN_ERR_NONFINITE, "galann_model_set_params: parameter %zu is not finite", i);
    }
    memcpy(m->theta, theta, n * sizeof *theta);
    return GALANN_OK;
}

GALANN_API int galann_model_get_params(const galann_model *m, double *theta, size_t n)
{
    galann_error_clear();
    int status = check_param_buffer("galann_model_get_params", m, theta, n);
    if (status != GALANN_OK)
        return status;
    memcpy(theta, m->theta, n * sizeof *theta);
    return GALANN_OK;
}

GALANN_API int galann_model_init_random(galann_model *m, uint32_t seed)
{
    galann_error_clear();
    if (!m)
        return galann_error_set(GALANN_ERR_INVALID, "galann_model_init_random: model is NULL");
    galann_mt19937 mt;
    galann_mt_seed(&mt, seed);
    /* The original: rand(h, n+1) * 0.4 - 0.2, in that order, in double. */
    for (size_t i = 0; i < m->n_params; i++)
        m->theta[i] = galann_mt_next_double(&mt) * 0.4 - 0.2;
    return GALANN_OK;
}

galann_net_view galann_model_view(const galann_model *m)
{
    galann_net_view v = { m->n_layers, m->sizes, m->n_params, m->theta };
    return v;
}
