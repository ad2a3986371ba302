/*
 * hash.h -- a 64-bit hash of byte ranges, for cache keys (the opencl
 * backend names its compiled kernels by it). Not for security: the kernel
 * cache authenticates its files with a keyed tag of its own.
 */
#ifndef GALANN_HASH_H
#define GALANN_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a of size bytes at data, chained through seed (0 starts a
 * new hash at the FNV offset basis). */
uint64_t galann_hash64(const void *data, size_t size, uint64_t seed);

#endif /* GALANN_HASH_H */
