/*
 * class_names.c -- the names of a model's output classes ("E", "S", "I"):
 * set, read, copied with the model, and checked so that every name can be
 * written in a CSV header and a command line (no commas, no control
 * bytes). The model file keeps them in an optional section (model_io.c).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model.h"

size_t galann_model_outputs(const galann_model *m)
{
    return m->sizes[m->n_layers - 1];
}

void galann_class_names_free(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int galann_class_name_check(const char *who, const char *name, size_t length, size_t index)
{
    if (length == 0 || length > GALANN_CLASS_NAME_MAX)
        return galann_error_set(GALANN_ERR_INVALID, "%s: class name %zu has %zu bytes (expected 1..%d)", who, index,
                                length, GALANN_CLASS_NAME_MAX);
    for (size_t i = 0; i < length; i++) {
        unsigned char b = (unsigned char)name[i];
        if (b < 0x20 || b == 0x7f || b == ',')
            return galann_error_set(GALANN_ERR_INVALID, "%s: class name %zu has a comma or a control byte "
                                    "(0x%02x) at byte %zu", who, index, b, i);
    }
    return GALANN_OK;
}

int galann_class_names_copy(const char *who, const char *const *names, const size_t *lengths, size_t count,
                            char ***out)
{
    *out = NULL;
    char **copy = calloc(count, sizeof *copy);
    if (!copy)
        return galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for %zu class names", who, count);
    int status = GALANN_OK;
    for (size_t i = 0; i < count && status == GALANN_OK; i++) {
        if (!names[i]) {
            status = galann_error_set(GALANN_ERR_INVALID, "%s: class name %zu is NULL", who, i);
            break;
        }
        size_t length = lengths ? lengths[i] : strnlen(names[i], GALANN_CLASS_NAME_MAX + 1);
        status = galann_class_name_check(who, names[i], length, i);
        if (status != GALANN_OK)
            break;
        copy[i] = malloc(length + 1);
        if (!copy[i]) {
            status = galann_error_set(GALANN_ERR_NOMEM, "%s: out of memory for class name %zu", who, i);
            break;
        }
        memcpy(copy[i], names[i], length);
        copy[i][length] = '\0';
    }
    if (status != GALANN_OK) {
        galann_class_names_free(copy, count);
        return status;
    }
    *out = copy;
    return GALANN_OK;
}

GALANN_API int galann_model_set_class_names(galann_model *m, const char *const *names, size_t count)
{
    static const char who[] = "galann_model_set_class_names";
    galann_error_clear();
    if (!m)
        return galann_error_set(GALANN_ERR_INVALID, "%s: model is NULL", who);
    size_t outputs = galann_model_outputs(m);
    char **copy = NULL;
    if (count > 0) {
        if (!names)
            return galann_error_set(GALANN_ERR_INVALID, "%s: names is NULL", who);
        if (count != outputs)
            return galann_error_set(GALANN_ERR_DIMENSION, "%s: %zu names for a model with %zu output classes", who,
                                    count, outputs);
        int status = galann_class_names_copy(who, names, NULL, count, &copy);
        if (status != GALANN_OK)
            return status;
    }
    galann_class_names_free(m->class_names, outputs);
    m->class_names = copy;
    return GALANN_OK;
}

GALANN_API const char *galann_model_class_name(const galann_model *m, size_t index)
{
    if (!m || !m->class_names || index >= galann_model_outputs(m))
        return NULL;
    return m->class_names[index];
}
