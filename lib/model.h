/*
 * model.h -- the model handle's layout, shared by the core files.
 */
#ifndef GALANN_MODEL_H
#define GALANN_MODEL_H

#include <stddef.h>

#include "galann.h"
#include "backend.h"

struct galann_model {
    size_t n_layers;   /* L + 1, >= 2 */
    size_t *sizes;     /* s_0 .. s_L */
    size_t n_params;   /* sum over l of s_l * (s_{l-1} + 1) */
    double *theta;
    double input_divisor; /* x = p / input_divisor */
    char **class_names;   /* NULL, or one name per output class */
};

/* Class names: 1..GALANN_CLASS_NAME_MAX bytes, no comma or control byte. */
#define GALANN_CLASS_NAME_MAX 255

size_t galann_model_outputs(const galann_model *m);
/* Check one name (who and index for the message). */
int galann_class_name_check(const char *who, const char *name, size_t length, size_t index);
/* Checked copies of count names (lengths given, or strlen when NULL). */
int galann_class_names_copy(const char *who, const char *const *names, const size_t *lengths, size_t count,
                            char ***out);
void galann_class_names_free(char **names, size_t count);

/* The CSV loader's scaling, and a new model's default. */
#define GALANN_DEFAULT_INPUT_DIVISOR 255.0

/* Number of parameters of a network, or 0 if a size is 0 or the count
 * overflows. */
size_t galann_count_params(const size_t *sizes, size_t n_layers);

galann_net_view galann_model_view(const galann_model *m);

#endif /* GALANN_MODEL_H */
