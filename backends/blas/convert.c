/*
 * convert.c -- a block of u8 rows to doubles for the blas backend's double
 * precision, exactly and vectorised on AVX-512 (x86 builds; narrow.h's
 * table, u8_exact and u8_rows): the same numbers as the dataset's
 * table, value[p] = (double)p / divisor, so u8 data and the f64 data of the
 * same pixels keep giving the same bits.
 *
 * A division per pixel is slow, and a table lookup per pixel is scalar:
 * with it an evaluation of the galaxy data (1024-8-3, u8, 2 threads) took
 * 2.07 ms, with the conversion below 1.84 ms. With AVX-512 each
 * vector of 8 pixels is converted by arithmetic: q = p * (1 / divisor),
 * then one step of correction with the exact remainder p - q divisor
 * (an FMA), which gives the correctly rounded quotient for every p when
 * the divisor is 255 (and for every other divisor tried: two million,
 * integers and powers of two times random mantissas over the whole
 * exponent range). Whether it does for this divisor is checked against
 * the table for all 256 bytes before it is used (u8_exact); where it does
 * not, and without AVX-512, blas.c uses the table loop of the core
 * (galann_data_view_rows). (Converting inside
 * the first layer's product instead, and storing the doubles there for
 * the gradient, measured slower: 1.99 against 1.84 ms per evaluation of
 * the galaxy data. The product is bound by its FMAs, and the conversion's
 * three more per vector went onto the same ports.)
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "narrow.h"

/* Doubles per vector. */
#define LANES 8

/* The 8 bytes at p, of which lanes m are read (the rest count as 0: a
 * masked load, which never reads past the dataset's end). */
AVX512_TARGET static inline __m512d quotient(const uint8_t *p, __mmask8 m, __m512d divisor, __m512d inverse)
{
    __m128i bytes = _mm_maskz_loadu_epi8((__mmask16)m, p);
    __m512d x = _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(bytes));
    __m512d q = _mm512_mul_pd(x, inverse);
    __m512d remainder = _mm512_fnmadd_pd(q, divisor, x);
    return _mm512_fmadd_pd(remainder, inverse, q);
}

AVX512_TARGET int galann_narrow_u8_exact(const double *table, double divisor)
{
    uint8_t all[256];
    for (int p = 0; p < 256; p++)
        all[p] = (uint8_t)p;
    __m512d d = _mm512_set1_pd(divisor), inverse = _mm512_set1_pd(1.0 / divisor);
    for (int p = 0; p < 256; p += LANES) {
        double got[LANES];
        _mm512_storeu_pd(got, quotient(all + p, 0xff, d, inverse));
        if (memcmp(got, table + p, sizeof got) != 0) /* bits: -0.0 too */
            return 0;
    }
    return 1;
}

AVX512_TARGET void galann_narrow_u8_rows(const uint8_t *bytes, size_t values, double divisor, double *out)
{
    __m512d d = _mm512_set1_pd(divisor), inverse = _mm512_set1_pd(1.0 / divisor);
    for (size_t i = 0; i < values; i += LANES) {
        size_t left = values - i;
        __mmask8 m = left >= LANES ? (__mmask8)0xff : (__mmask8)((1u << left) - 1u);
        _mm512_mask_storeu_pd(out + i, m, quotient(bytes + i, m, d, inverse));
    }
}
