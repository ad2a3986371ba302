/*
 * fuzz-model.c -- libFuzzer target: any bytes given to the model loader
 * either make a model that saves back to the same bytes, or fail with a
 * format status and a message; never a crash or an out-of-bounds read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    galann_model *m = NULL;
    int status = galann_model_load_buffer(copy, size, &m);
    if (status == GALANN_OK) {
        void *again = NULL;
        size_t again_size = 0;
        if (galann_model_save_buffer(m, &again, &again_size) != GALANN_OK || again_size != size ||
            memcmp(again, copy, size) != 0)
            abort();
        galann_free(again);
        galann_model_free(m);
    } else if (m != NULL || galann_last_error()[0] == '\0') {
        abort();
    }
    free(copy);
    return 0;
}
