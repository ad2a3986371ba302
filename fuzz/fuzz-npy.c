/*
 * fuzz-npy.c -- libFuzzer target: any bytes given to the .npy reader (its
 * in-memory entry, lib/npy.h: the header parser, the dtype and shape
 * checks and the data readers of galann_dataset_load_npy) either make a
 * valid dataset or fail with a status and a message; never a crash, a
 * read out of bounds or a leak (run under ASan, see run.sh).
 *
 * The first byte chooses what the rest is: a features file with its
 * labels in column 0, a features file without labels, a labels file for a
 * fixed 2 x 3 features file, or (4th mode) a features file and a labels
 * file split at the offset in the next two bytes.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"
#include "npy.h"

/* A valid '<f8' (2, 3) array in format 1.0: the partner of a fuzzed
 * labels file. */
static unsigned char two_by_three[128 + 48];

static void make_two_by_three(void)
{
    static const char dict[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    memcpy(two_by_three, "\x93NUMPY\x01\x00\x76\x00", 10);
    memset(two_by_three + 10, ' ', 117);
    memcpy(two_by_three + 10, dict, sizeof dict - 1);
    two_by_three[127] = '\n';
    for (int i = 0; i < 6; i++) {
        double v = i;
        memcpy(two_by_three + 128 + 8 * i, &v, 8); /* little-endian machines */
    }
}

static void check(int status, galann_dataset *d)
{
    if (status != GALANN_OK) {
        if (d != NULL || galann_last_error()[0] == '\0')
            abort();
        return;
    }
    /* the dataset keeps its promises: finite features, labels in range */
    size_t m = galann_dataset_n_samples(d), n = galann_dataset_n_features(d), k = galann_dataset_n_labels(d);
    if (m == 0 || n == 0 || k == 0 || k > 65536)
        abort();
    double *row = malloc(n * sizeof *row);
    for (size_t i = 0; row && i < m; i++) {
        if (galann_dataset_copy_features(d, i, 1, row) != GALANN_OK)
            abort();
        for (size_t j = 0; j < n; j++) {
            if (!isfinite(row[j]))
                abort();
        }
        int32_t y = galann_dataset_labels(d)[i];
        if (y < 0 || (size_t)y >= k)
            abort();
    }
    free(row);
    galann_dataset_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (two_by_three[0] == 0)
        make_two_by_three();
    if (size < 1)
        return 0;
    int mode = data[0] % 4;
    data++;
    size--;
    /* exact-size copies, so ASan sees any read past the end */
    size_t split = size;
    if (mode == 3) {
        if (size < 2)
            return 0;
        split = ((size_t)data[0] | (size_t)data[1] << 8);
        data += 2;
        size -= 2;
        if (split > size)
            split = size;
    }
    unsigned char *first = malloc(split ? split : 1), *second = malloc(size - split ? size - split : 1);
    if (!first || !second) {
        free(first);
        free(second);
        return 0;
    }
    memcpy(first, data, split);
    memcpy(second, data + split, size - split);
    galann_npy_options o;
    galann_npy_options_init(&o);
    galann_dataset *d = NULL;
    int status;
    switch (mode) {
    case 0:
        status = galann_npy_load_memory(first, split, "x.npy", NULL, 0, NULL, NULL, &d);
        break;
    case 1:
        o.labelled = 0;
        status = galann_npy_load_memory(first, split, "x.npy", NULL, 0, NULL, &o, &d);
        break;
    case 2:
        status = galann_npy_load_memory(two_by_three, sizeof two_by_three, "x.npy", first, split, "y.npy", NULL, &d);
        break;
    default:
        status = galann_npy_load_memory(first, split, "x.npy", second, size - split, "y.npy", NULL, &d);
        break;
    }
    check(status, d);
    free(first);
    free(second);
    return 0;
}
