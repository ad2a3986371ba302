/*
 * fuzz-csv.c -- libFuzzer target: any bytes given to the CSV reader either
 * make a valid dataset or fail with a parse status and a message; never a
 * crash, a read out of bounds or a leak (run under ASan, see run.sh).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so ASan sees any read past the end */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    galann_dataset *d = NULL;
    int status = galann_dataset_parse_csv(text, size, "fuzz.csv", 255.0, &d);
    if (status == GALANN_OK) {
        /* the dataset keeps its promises: finite features, labels in range */
        size_t m = galann_dataset_n_samples(d), n = galann_dataset_n_features(d), k = galann_dataset_n_labels(d);
        const double *x = galann_dataset_features(d);
        const int32_t *y = galann_dataset_labels(d);
        for (size_t i = 0; i < m * n; i++) {
            if (!isfinite(x[i]))
                abort();
        }
        for (size_t i = 0; i < m; i++) {
            if (y[i] < 0 || (size_t)y[i] >= k)
                abort();
        }
        galann_dataset_free(d);
    } else if (d != NULL || galann_last_error()[0] == '\0') {
        abort();
    }
    free(text);
    return 0;
}
