/*
 * rng.c -- the Mersenne Twister MT19937 (Matsumoto & Nishimura, 1998),
 * with numpy's legacy seeding and double conversion, so that
 * galann_model_init_random reproduces np.random.seed(s); np.random.rand().
 */
#include "rng.h"

/* Constants of MT19937 as published by Matsumoto & Nishimura. */
#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER_MASK 0x80000000u
#define MT_LOWER_MASK 0x7fffffffu

void galann_mt_seed(galann_mt19937 *mt, uint32_t seed)
{
    mt->state[0] = seed;
    for (uint32_t i = 1; i < MT_N; i++) {
        uint32_t prev = mt->state[i - 1];
        /* init_genrand's multiplier 1812433253, arithmetic mod 2^32 */
        mt->state[i] = 1812433253u * (prev ^ (prev >> 30)) + i;
    }
    mt->next = MT_N;
}

static uint32_t twist(uint32_t upper, uint32_t lower, uint32_t far)
{
    uint32_t y = (upper & MT_UPPER_MASK) | (lower & MT_LOWER_MASK);
    return far ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
}

static void regenerate_state(galann_mt19937 *mt)
{
    uint32_t *s = mt->state;
    int i;
    for (i = 0; i < MT_N - MT_M; i++)
        s[i] = twist(s[i], s[i + 1], s[i + MT_M]);
    for (; i < MT_N - 1; i++)
        s[i] = twist(s[i], s[i + 1], s[i + MT_M - MT_N]);
    s[MT_N - 1] = twist(s[MT_N - 1], s[0], s[MT_M - 1]);
    mt->next = 0;
}

uint32_t galann_mt_next_u32(galann_mt19937 *mt)
{
    if (mt->next >= MT_N)
        regenerate_state(mt);
    uint32_t y = mt->state[mt->next++];
    /* tempering */
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double galann_mt_next_double(galann_mt19937 *mt)
{
    /* numpy's random_double: 27 high bits of a, 26 of b, over 2^53 */
    uint32_t a = galann_mt_next_u32(mt) >> 5;
    uint32_t b = galann_mt_next_u32(mt) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}
