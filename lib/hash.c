/*
 * hash.c -- FNV-1a, 64-bit (hash.h).
 */
#include "hash.h"

uint64_t galann_hash64(const void *data, size_t size, uint64_t seed)
{
    /* FNV-1a: the 64-bit offset basis and prime of Fowler, Noll and Vo */
    const unsigned char *p = data;
    uint64_t h = seed ? seed : 14695981039346656037ull;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}
