/*
 * rng.h -- MT19937, bit-compatible with numpy's legacy np.random.
 *
 * Used only to draw initial weights exactly as the original program did;
 * the state lives on the caller's stack, so there is nothing global.
 */
#ifndef GALANN_RNG_H
#define GALANN_RNG_H

#include <stdint.h>

#define GALANN_MT_STATE_WORDS 624

typedef struct galann_mt19937 {
    uint32_t state[GALANN_MT_STATE_WORDS];
    int next;   /* index of the next word to temper; 624 = regenerate */
} galann_mt19937;

/* np.random.seed(seed) for a 32-bit seed: Matsumoto & Nishimura's init_genrand. */
void galann_mt_seed(galann_mt19937 *mt, uint32_t seed);
uint32_t galann_mt_next_u32(galann_mt19937 *mt);
/* np.random.rand(): a double in [0, 1) with 53 random bits from two words. */
double galann_mt_next_double(galann_mt19937 *mt);

#endif /* GALANN_RNG_H */
