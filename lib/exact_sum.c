/*
 * exact_sum.c -- sums of doubles kept exactly as fixed-point integers and
 * rounded once (see exact_sum.h for the contract).
 *
 * The number. Bit 0 of the integer is 2^-1074, the least significant bit
 * of the smallest subnormal, so every double is an integer multiple of it.
 * The integer is held in 32-bit digits, each in an int64 word: digit k
 * weighs 2^(32 k - 1074), and a word may hold far more than 32 bits
 * (carries are deferred). A term whose least significant bit is at
 * position p = 32 j + r adds its 53-bit mantissa shifted left by r, an
 * 85-bit two's complement number, as three words at digits j, j+1, j+2.
 * FULL_DIGITS digits cover the whole double range with room above.
 *
 * The layout. A dense 72-word array per sum would be 4.7 MB for the 8227
 * gradient components of the 1024-8-3 network, well beyond the caches on
 * the hot path. Most sums see terms of similar magnitude, so each sum
 * owns a window of WINDOW_DIGITS words (one cache line) starting at a
 * base digit set by its first term, three digits below that term so that
 * terms 2^96 times smaller still land in it (and 2^64 times larger). A
 * term that falls outside moves the sum, for good, to a full array of its
 * own, allocated on first need and kept across galann_exact_sum_clear.
 * Two windows at different bases merge in the higher one when the lower
 * holds nothing below it, else in the full array. No storage is shared
 * between sums, so threads may merge disjoint ranges concurrently.
 *
 * Why the words never overflow. Each word stays below 2^62 in magnitude:
 *  - after a normalisation (carries propagated, arithmetic shift by 32)
 *    every word but the top one of a window or array is in [0, 2^32);
 *  - after a merge every word is below 2^61 (merge normalises otherwise);
 *  - a deposit changes a word by less than 2^32, and an accumulator
 *    normalises all its sums before DEPOSIT_LIMIT = 2^29 calls of add,
 *    so deposits since then add less than 2^61.
 * Two such words add without overflow, which is all a merge does.
 * The top word of a window holds the value's excess above the window,
 * bounded by the value itself: every term that reached a window lies
 * below 2^(32 top + 20) (terms are only deposited, and windows only
 * rebased, so that this holds), so with fewer than 2^40 terms in a sum,
 * counted over every accumulator merged or reduced into it, the top word
 * stays below 2^60. That is the capacity limit, far beyond any use.
 *
 * Non-finite terms are not added; per sum, a flag remembers +inf (or NaN)
 * and another -inf (or NaN), and round gives NaN when both are set.
 */
#include "exact_sum.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"
#include "error.h"

/* GCC or Clang: vector types, __builtin_clzll, arithmetic right shifts
 * of negative integers (which this file relies on throughout). */
#if !defined(__GNUC__)
#error "exact_sum.c needs GCC or Clang"
#endif

#define DIGIT_BITS 32
#define DIGIT_MASK INT64_C(0xffffffff)

/* Terms reach digit 65 (2^1023 has its least significant bit at position
 * 2045 = 32 * 63 + 29, and spans 3 digits); the value of up to 2^40 terms
 * reaches digit 67 with its sign. 72 keeps limbs (digit pairs) whole. */
#define FULL_DIGITS 72
#define FULL_LIMBS (FULL_DIGITS / 2)

/* One 64-byte cache line of words. */
#define WINDOW_DIGITS 8

/* A window starts this many digits below its first term's lowest digit. */
#define WINDOW_ROOM_BELOW 3

/* Highest window base: a window and the two digits above it, where the
 * canonical form (span, pack) may carry the sign, stay inside a full array. */
#define WINDOW_BASE_MAX (FULL_DIGITS - WINDOW_DIGITS - 2)

/* base[i] for a sum with no term yet, and for a sum in its full array;
 * both far outside [0, WINDOW_BASE_MAX] so that the window test in the
 * hot loop sends them to the slow path without a separate check. */
#define BASE_EMPTY ((int16_t)-1000)
#define BASE_FULL ((int16_t)1000)

#define DEPOSIT_LIMIT (UINT64_C(1) << 29)
#define MERGED_WORD_LIMIT (INT64_C(1) << 61)

enum { FLAG_PLUS = 1, FLAG_MINUS = 2 };   /* NaN sets both */

_Static_assert(FULL_DIGITS % 2 == 0 && WINDOW_DIGITS % 2 == 0, "rounding works on 64-bit limbs");
_Static_assert(63 - WINDOW_ROOM_BELOW <= WINDOW_BASE_MAX, "the largest term starts a window in range");

struct galann_exact_sum {
    size_t n;
    uint64_t deposits;   /* add calls since every sum was last normalised */
    int64_t *window;     /* n * WINDOW_DIGITS words, 64-byte aligned */
    int16_t *base;       /* per sum: window base digit, BASE_EMPTY or BASE_FULL */
    int64_t **full;      /* per sum: FULL_DIGITS words once needed, else NULL */
    uint8_t *flags;      /* per sum: FLAG_PLUS | FLAG_MINUS of non-finite terms */
};

/* ---- terms ---- */

/* A finite nonzero double as three words at digits j, j+1, j+2: its
 * signed mantissa shifted by the position of its least significant bit
 * within digit j, split into two unsigned 32-bit digits and a signed rest
 * (less than 2^21 in magnitude). Returns 0 for a zero, 1 for a finite
 * term, -1 for an infinity or NaN. */
static inline int split_term(double value, int *j, int64_t d[3])
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    uint64_t magnitude = bits & ~(UINT64_C(1) << 63);
    if (magnitude == 0)
        return 0;
    unsigned exponent = (unsigned)(magnitude >> 52);
    if (exponent == 0x7ff)
        return -1;
    unsigned normal = exponent != 0;
    uint64_t mantissa = (magnitude & ((UINT64_C(1) << 52) - 1)) | ((uint64_t)normal << 52);
    /* value = mantissa * 2^(p - 1074), p = exponent - 1 (normal) or 0 */
    unsigned p = exponent - normal;
    unsigned shift = p % DIGIT_BITS;
    uint64_t negative = (uint64_t)0 - (bits >> 63);
    int64_t m = (int64_t)((mantissa ^ negative) - negative);
    uint64_t low = (uint64_t)m << shift;
    *j = (int)(p / DIGIT_BITS);
    d[0] = (int64_t)(low & (uint64_t)DIGIT_MASK);
    d[1] = (int64_t)(low >> DIGIT_BITS);
    /* the bits shifted out of the 64, with the sign; >> 1 first keeps the
     * shift below 64 when shift is 0 */
    d[2] = (m >> 1) >> (63 - shift);
    return 1;
}

static uint8_t nonfinite_flags(double value)
{
    if (value != value)
        return FLAG_PLUS | FLAG_MINUS;
    return value > 0 ? FLAG_PLUS : FLAG_MINUS;
}

/* ---- words of one sum ---- */

static inline int64_t *window_of(const galann_exact_sum *s, size_t i)
{
    return s->window + i * WINDOW_DIGITS;
}

/* Carry every word into the next: all but the last end in [0, 2^32),
 * the last keeps the signed rest. The value is unchanged. */
static void normalise_words(int64_t *d, int count)
{
    for (int k = 0; k + 1 < count; k++) {
        int64_t carry = d[k] >> DIGIT_BITS;
        d[k] &= DIGIT_MASK;
        d[k + 1] += carry;
    }
}

/* Whether some word is outside [-2^61, 2^61): then a merge normalises, to
 * keep every word below 2^62 until the next one. */
static inline int words_near_overflow(const int64_t *d, int count)
{
    uint64_t outside = 0;
    for (int k = 0; k < count; k++)
        outside |= (uint64_t)d[k] + (uint64_t)MERGED_WORD_LIMIT;
    return (outside >> 62) != 0;
}

static void normalise_sum(galann_exact_sum *s, size_t i)
{
    if (s->base[i] == BASE_FULL)
        normalise_words(s->full[i], FULL_DIGITS);
    else if (s->base[i] != BASE_EMPTY)
        normalise_words(window_of(s, i), WINDOW_DIGITS);
}

static void normalise_every_sum(galann_exact_sum *s)
{
    for (size_t i = 0; i < s->n; i++)
        normalise_sum(s, i);
    s->deposits = 0;
}

static int clamp_window_base(int digit)
{
    return digit < 0 ? 0 : digit > WINDOW_BASE_MAX ? WINDOW_BASE_MAX : digit;
}

static void start_window(galann_exact_sum *s, size_t i, int base)
{
    memset(window_of(s, i), 0, WINDOW_DIGITS * sizeof(int64_t));
    s->base[i] = (int16_t)base;
}

/* The sum's full array, zeroed; NOMEM leaves the sum as it was. */
static int take_full_array(galann_exact_sum *s, size_t i)
{
    if (!s->full[i]) {
        s->full[i] = malloc(FULL_DIGITS * sizeof(int64_t));
        if (!s->full[i])
            return galann_error_set(GALANN_ERR_NOMEM, "exact sum: out of memory for the full form of sum %zu", i);
    }
    memset(s->full[i], 0, FULL_DIGITS * sizeof(int64_t));
    return GALANN_OK;
}

/* Move a sum from its window (or from nothing) to its full array. */
static int move_to_full_array(galann_exact_sum *s, size_t i)
{
    int base = s->base[i];
    int status = take_full_array(s, i);
    if (status != GALANN_OK)
        return status;
    if (base != BASE_EMPTY)
        memcpy(s->full[i] + base, window_of(s, i), WINDOW_DIGITS * sizeof(int64_t));
    s->base[i] = BASE_FULL;
    return GALANN_OK;
}

/* Where the term's three words go in sum i, or NULL when they do not fit
 * the sum's present form. */
static inline int64_t *term_words(galann_exact_sum *s, size_t i, int j)
{
    unsigned offset = (unsigned)(j - s->base[i]);
    if (offset <= WINDOW_DIGITS - 3)
        return window_of(s, i) + offset;
    if (s->base[i] == BASE_FULL)
        return s->full[i] + j;
    return NULL;
}

/* The slow path of add: the sum's first term opens its window; a term
 * outside the window moves the sum to its full array. */
static int make_room_for_term(galann_exact_sum *s, size_t i, int j)
{
    if (s->base[i] == BASE_EMPTY) {
        start_window(s, i, clamp_window_base(j - WINDOW_ROOM_BELOW));
        return GALANN_OK;
    }
    return move_to_full_array(s, i);
}

static inline void deposit(int64_t *w, const int64_t d[3])
{
    w[0] += d[0];
    w[1] += d[1];
    w[2] += d[2];
}

/* Subtract again the terms values[0..count) added to sums first + t: a
 * failed add leaves the values as they were. Every term fits where it
 * went, so this never allocates. */
static void take_back_terms(galann_exact_sum *s, size_t first, const double *values, size_t count)
{
    for (size_t t = 0; t < count; t++) {
        int j;
        int64_t d[3];
        if (split_term(values[t], &j, d) <= 0)
            continue;
        int64_t minus[3] = { -d[0], -d[1], -d[2] };
        deposit(term_words(s, first + t, j), minus);
    }
}

/* ---- the accumulator ---- */

int galann_exact_sum_new(size_t n, galann_exact_sum **out)
{
    *out = NULL;
    size_t slots = n ? n : 1;
    if (slots > SIZE_MAX / (WINDOW_DIGITS * sizeof(int64_t)))
        return galann_error_set(GALANN_ERR_NOMEM, "exact sum: %zu sums overflow the size of memory", n);
    galann_exact_sum *s = calloc(1, sizeof *s);
    if (!s)
        goto fail;
    s->n = n;
    /* windows need no zeroing: a window is cleared when its sum starts */
    s->window = aligned_alloc(64, slots * WINDOW_DIGITS * sizeof(int64_t));
    s->base = malloc(slots * sizeof *s->base);
    s->full = calloc(slots, sizeof *s->full);
    s->flags = malloc(slots * sizeof *s->flags);
    if (!s->window || !s->base || !s->full || !s->flags)
        goto fail;
    galann_exact_sum_clear(s);
    *out = s;
    return GALANN_OK;
fail:
    galann_exact_sum_free(s);
    return galann_error_set(GALANN_ERR_NOMEM, "exact sum: out of memory for %zu sums", n);
}

void galann_exact_sum_free(galann_exact_sum *s)
{
    if (!s)
        return;
    if (s->full)
        for (size_t i = 0; i < s->n; i++)
            free(s->full[i]);
    free(s->full);
    free(s->flags);
    free(s->base);
    free(s->window);
    free(s);
}

size_t galann_exact_sum_count(const galann_exact_sum *s)
{
    return s->n;
}

void galann_exact_sum_clear(galann_exact_sum *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->base[i] = BASE_EMPTY;
    memset(s->flags, 0, s->n);
    s->deposits = 0;
}

/* One term by the general path: zeros, subnormals, non-finite values
 * (counted in *nonfinite, flagged later), and terms that open a sum or
 * fall outside its window. Out of line: the hot loop rarely comes here. */
static __attribute__((noinline)) int add_term_slowly(galann_exact_sum *s, size_t i, double value, size_t *nonfinite)
{
    int j;
    int64_t d[3];
    int kind = split_term(value, &j, d);
    if (kind <= 0) {
        *nonfinite += kind < 0;
        return GALANN_OK;
    }
    int64_t *w = term_words(s, i, j);
    if (!w) {
        int status = make_room_for_term(s, i, j);
        if (status != GALANN_OK)
            return status;
        w = term_words(s, i, j);
    }
    deposit(w, d);
    return GALANN_OK;
}

/* The hot loop does what split_term, term_words and make_room_for_term
 * do, for normal numbers, in few instructions and no 64-bit constants:
 * this runs once per gradient component per chunk. */
int galann_exact_sum_add(galann_exact_sum *s, size_t first, const double *values, size_t count)
{
    if (s->deposits >= DEPOSIT_LIMIT)
        normalise_every_sum(s);
    s->deposits++;
    int16_t *base = s->base + first;
    int64_t *window = window_of(s, first);
    size_t nonfinite = 0;
    for (size_t t = 0; t < count; t++, window += WINDOW_DIGITS) {
        uint64_t bits;
        memcpy(&bits, &values[t], sizeof bits);
        unsigned exponent = (unsigned)(bits >> 52) & 0x7ff;
        /* one test catches zeros and subnormals (exponent 0), infinities
         * and NaN (0x7ff); zeros, common in gradients, stop there */
        if (__builtin_expect(exponent - 1 >= 0x7fe, 0)) {
            if ((bits << 1) == 0)
                continue;
            goto slowly;
        }
        unsigned p = exponent - 1;   /* position of the least significant bit */
        unsigned offset = p / DIGIT_BITS - (unsigned)base[t];
        int64_t negative = (int64_t)bits >> 63;
        int64_t m = (int64_t)(((bits << 12) >> 12) | (UINT64_C(1) << 52));
        m = (m ^ negative) - negative;
        unsigned shift = p % DIGIT_BITS;
        uint64_t low = (uint64_t)m << shift;
        int64_t d0 = (int64_t)(low & (uint64_t)DIGIT_MASK), d1 = (int64_t)(low >> DIGIT_BITS);
        int64_t d2 = (m >> 1) >> (63 - shift);
        if (__builtin_expect(offset <= WINDOW_DIGITS - 3, 1)) {
            int64_t *w = window + offset;
            w[0] += d0;
            w[1] += d1;
            w[2] += d2;
        } else if (base[t] == BASE_EMPTY) {
            /* the sum's first term opens its window: this happens for
             * every sum after every clear, so it stays in the loop */
            int opened = clamp_window_base((int)(p / DIGIT_BITS) - WINDOW_ROOM_BELOW);
            base[t] = (int16_t)opened;
            memset(window, 0, WINDOW_DIGITS * sizeof *window);
            int64_t *w = window + (p / DIGIT_BITS - (unsigned)opened);
            w[0] = d0;
            w[1] = d1;
            w[2] = d2;
        } else {
            goto slowly;
        }
        continue;
    slowly:;
        int status = add_term_slowly(s, first + t, values[t], &nonfinite);
        if (status != GALANN_OK) {
            take_back_terms(s, first, values, t);
            return status;
        }
    }
    /* flags only once nothing can fail, so that a failed add changes nothing */
    for (size_t t = 0; nonfinite && t < count; t++) {
        if (!isfinite(values[t])) {
            s->flags[first + t] |= nonfinite_flags(values[t]);
            nonfinite--;
        }
    }
    return GALANN_OK;
}

/* ---- merging ---- */

/* to[k] += sign * from[k] for k < count. */
static void add_words(int64_t *to, const int64_t *from, int count, int sign)
{
    if (sign > 0)
        for (int k = 0; k < count; k++)
            to[k] += from[k];
    else
        for (int k = 0; k < count; k++)
            to[k] -= from[k];
}

static int words_are_zero(const int64_t *d, int count)
{
    int64_t any = 0;
    for (int k = 0; k < count; k++)
        any |= d[k];
    return any == 0;
}

/* Windows at different bases combine in the higher of the two when the
 * lower window has nothing below it: the top then covers both windows'
 * tops, which keeps the bound on the top word. Returns 0 when they don't. */
static int merge_into_shifted_window(int64_t *into, int *into_base, const int64_t *from, int from_base, int sign)
{
    if (*into_base < from_base) {
        int shift = from_base - *into_base;
        if (!words_are_zero(into, shift < WINDOW_DIGITS ? shift : WINDOW_DIGITS))
            return 0;
        if (shift < WINDOW_DIGITS)
            memmove(into, into + shift, (size_t)(WINDOW_DIGITS - shift) * sizeof *into);
        for (int k = shift < WINDOW_DIGITS ? WINDOW_DIGITS - shift : 0; k < WINDOW_DIGITS; k++)
            into[k] = 0;
        *into_base = from_base;
        add_words(into, from, WINDOW_DIGITS, sign);
        return 1;
    }
    int shift = *into_base - from_base;
    if (shift >= WINDOW_DIGITS || !words_are_zero(from, shift))
        return 0;
    add_words(into, from + shift, WINDOW_DIGITS - shift, sign);
    return 1;
}

/* into[i] += sign * from[i]. With sign -1 right after a merge with sign
 * +1 it restores into[i] exactly and never allocates: from's words then
 * fit where they went. */
static int merge_sum(galann_exact_sum *into, const galann_exact_sum *from, size_t i, int sign)
{
    int from_base = from->base[i];
    if (from_base == BASE_EMPTY)
        return GALANN_OK;
    int into_base = into->base[i];
    const int64_t *source = from_base == BASE_FULL ? from->full[i] : window_of(from, i);
    int64_t *target;
    int count;
    if (into_base == BASE_EMPTY && from_base != BASE_FULL) {
        start_window(into, i, from_base);
        target = window_of(into, i);
        add_words(target, source, WINDOW_DIGITS, sign);
        count = WINDOW_DIGITS;
    } else if (into_base != BASE_FULL && from_base != BASE_FULL && into_base != BASE_EMPTY &&
               merge_into_shifted_window(window_of(into, i), &into_base, source, from_base, sign)) {
        into->base[i] = (int16_t)into_base;
        target = window_of(into, i);
        count = WINDOW_DIGITS;
    } else {
        if (into_base != BASE_FULL) {
            int status = move_to_full_array(into, i);
            if (status != GALANN_OK)
                return status;
        }
        target = into->full[i];
        if (from_base == BASE_FULL)
            add_words(target, source, FULL_DIGITS, sign);
        else
            add_words(target + from_base, source, WINDOW_DIGITS, sign);
        count = FULL_DIGITS;
    }
    if (words_near_overflow(target, count))
        normalise_words(target, count);
    return GALANN_OK;
}

/* into += from for two windows at the same base, normalised when a word
 * nears the bound. Written with GCC's vector extension (plain SSE2 on
 * x86-64, scalar code elsewhere): a loop left to the vectoriser came out
 * both scalar and vector at once. */
typedef int64_t word_pair __attribute__((vector_size(16)));
typedef uint64_t unsigned_pair __attribute__((vector_size(16)));

static inline void add_window(int64_t *into, const int64_t *from)
{
    unsigned_pair outside = { 0, 0 };
    for (int k = 0; k < WINDOW_DIGITS; k += 2) {
        word_pair a, b;
        memcpy(&a, into + k, sizeof a);
        memcpy(&b, from + k, sizeof b);
        a += b;
        outside |= (unsigned_pair)a + (uint64_t)MERGED_WORD_LIMIT;
        memcpy(into + k, &a, sizeof a);
    }
    if (((outside[0] | outside[1]) >> 62) != 0)
        normalise_words(into, WINDOW_DIGITS);
}

/* Sums whose windows start at the same digit, the common case, merge
 * here; all others through merge_sum. */
int galann_exact_sum_merge(galann_exact_sum *into, const galann_exact_sum *from, size_t first, size_t count)
{
    const int16_t *into_base = into->base + first, *from_base = from->base + first;
    int64_t *into_window = window_of(into, first);
    const int64_t *from_window = window_of(from, first);
    for (size_t t = 0; t < count; t++, into_window += WINDOW_DIGITS, from_window += WINDOW_DIGITS) {
        int base = from_base[t];
        if (base == into_base[t] && (unsigned)base <= WINDOW_BASE_MAX) {
            add_window(into_window, from_window);
            continue;
        }
        int status = merge_sum(into, from, first + t, +1);
        if (status != GALANN_OK) {
            while (t-- > 0)
                merge_sum(into, from, first + t, -1);
            return status;
        }
    }
    for (size_t t = 0; t < count; t++)
        into->flags[first + t] |= from->flags[first + t];
    return GALANN_OK;
}

/* ---- rounding ---- */

static double double_from_bits(uint64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static double nonfinite_result(uint8_t flags)
{
    if (flags == (FLAG_PLUS | FLAG_MINUS))
        return double_from_bits(UINT64_C(0x7ff8000000000000));   /* the default quiet NaN */
    return double_from_bits((flags == FLAG_MINUS ? UINT64_C(0x8000000000000000) : 0) | UINT64_C(0x7ff0000000000000));
}

/* The limbs of the value sum_k d[k] 2^(32 k), k < 2 limbs: 64-bit two's
 * complement, limb[limbs] the sign extension. Carries go digit by digit
 * in 64-bit words (words below 2^62 keep them below 2^31), which GCC
 * compiles far better than the same on __int128. */
static inline void limbs_of_words(const int64_t *d, int limbs, uint64_t *limb)
{
    int64_t carry = 0;
    for (int m = 0; m < limbs; m++) {
        int64_t low = d[2 * m] + carry;
        carry = low >> DIGIT_BITS;
        int64_t high = d[2 * m + 1] + carry;
        carry = high >> DIGIT_BITS;
        limb[m] = ((uint64_t)low & (uint64_t)DIGIT_MASK) | ((uint64_t)high << DIGIT_BITS);
    }
    limb[limbs] = (uint64_t)carry;
}

/* The value of limb[0..top] (two's complement, limb[top] the sign) times
 * 2^(32 base - 1074), rounded to the nearest double, ties to even:
 * the magnitude's leading 64 bits and a sticky bit decide. Changes limb. */
static inline __attribute__((always_inline)) double round_limbs(uint64_t *limb, int top, int base)
{
    /* magnitude: complement and add one when negative, without a branch */
    uint64_t negative = (uint64_t)0 - (limb[top] >> 63);
    uint64_t add_one = negative & 1;
    for (int m = 0; m <= top; m++) {
        uint64_t x = (limb[m] ^ negative) + add_one;
        add_one = x < add_one;
        limb[m] = x;
    }
    int lead = top;
    while (lead >= 0 && limb[lead] == 0)
        lead--;
    if (lead < 0)
        return 0.0;   /* an exact zero is +0, as x + (-x) is */
    int z = __builtin_clzll(limb[lead]);
    uint64_t next = lead > 0 ? limb[lead - 1] : 0;
    uint64_t sticky = 0;
    for (int m = 0; m < lead - 1; m++)
        sticky |= limb[m];
    /* the leading 64 bits, most significant first, and what lies below */
    uint64_t head = (limb[lead] << z) | ((next >> 1) >> (63 - z));
    uint64_t below = (next << z) | (sticky != 0);
    /* bit position of the leading bit, bit 0 being 2^-1074 */
    long msb = (long)DIGIT_BITS * base + 64L * lead + (63 - z);
    uint64_t bits;
    if (msb < 53) {
        /* below 2^53 units: the integer itself, exact, and its bits are
         * those of the double (subnormal, or the lowest binade) */
        bits = head >> (63 - msb);
    } else {
        long lsb = msb - 52;
        uint64_t mantissa = head >> 11;
        uint64_t half = (head >> 10) & 1;
        uint64_t rest = (head & 0x3ff) | below;
        mantissa += half & ((rest != 0) | (mantissa & 1));
        /* the exponent field is lsb + 1 and the mantissa brings the hidden
         * bit, so they add; a mantissa rounded up to 2^53 carries into the
         * exponent, and at the top into the bits of infinity */
        bits = lsb >= 2046 ? UINT64_C(0x7ff0000000000000) : ((uint64_t)lsb << 52) + mantissa;
    }
    return double_from_bits(bits | (negative << 63));
}

/* Most windows use only their middle words (the others are room for
 * smaller and larger terms): then only those limbs are converted. */
static double round_window(const int64_t *d, int base)
{
    uint64_t limb[WINDOW_DIGITS / 2 + 1];
    if ((d[0] | d[1] | d[6] | d[7]) == 0) {
        limbs_of_words(d + 2, WINDOW_DIGITS / 2 - 2, limb);
        return round_limbs(limb, WINDOW_DIGITS / 2 - 2, base + 2);
    }
    limbs_of_words(d, WINDOW_DIGITS / 2, limb);
    return round_limbs(limb, WINDOW_DIGITS / 2, base);
}

static __attribute__((noinline)) double round_full(const int64_t *d)
{
    uint64_t limb[FULL_LIMBS + 1];
    limbs_of_words(d, FULL_LIMBS, limb);
    return round_limbs(limb, FULL_LIMBS, 0);
}

static double round_sum(const galann_exact_sum *s, size_t i)
{
    if (s->flags[i])
        return nonfinite_result(s->flags[i]);
    int base = s->base[i];
    if (base == BASE_EMPTY)
        return 0.0;
    if (base == BASE_FULL)
        return round_full(s->full[i]);
    return round_window(window_of(s, i), base);
}

void galann_exact_sum_round(const galann_exact_sum *s, size_t first, size_t count, double *out)
{
    for (size_t t = 0; t < count; t++)
        out[t] = round_sum(s, first + t);
}

/* ---- the transport form ---- */

/* The digits lo..hi (absolute) over which the value sum_k d[k]
 * 2^(32 (start + k)) has a canonical form, found without normalising;
 * returns 0 when every word is zero. Below the highest nonzero word h,
 * the words (each below 2^62) add less than 2^30 + 1 units of digit h,
 * so the value over 2^(32 h), rounded down, fits in an int32 when
 * |d[h]| < 2^30, and over 2^(32 (h + 1)) always. The range may be a
 * digit wider than the tightest one; only the size of the packed form
 * depends on that, never a result. */
static int span_of_words(const int64_t *d, int count, int start, int *lo, int *hi)
{
    int low = 0;
    while (low < count && d[low] == 0)
        low++;
    if (low == count)
        return 0;
    int high = count - 1;
    while (d[high] == 0)
        high--;
    const int64_t limit = INT64_C(1) << 30;
    *lo = start + low;
    *hi = start + high + (d[high] <= -limit || d[high] >= limit);
    return 1;
}

/* Fills lo, hi for sum i; returns 0 when the sum is zero. */
static int span_of_sum(const galann_exact_sum *s, size_t i, int *lo, int *hi)
{
    int base = s->base[i];
    if (base == BASE_EMPTY)
        return 0;
    if (base == BASE_FULL)
        return span_of_words(s->full[i], FULL_DIGITS, 0, lo, hi);
    return span_of_words(window_of(s, i), WINDOW_DIGITS, base, lo, hi);
}

/* Digits lo..hi (absolute) of a sum in two's complement, 32 bits each,
 * into out: a copy of its words normalised, zeros below them, the sign's
 * extension above. A window's copy has two digits more than the window,
 * which its span may reach. */
static inline void write_digits_of_words(int64_t *c, int count, int start, int lo, int hi, int64_t *out)
{
    normalise_words(c, count);
    int64_t extension = c[count - 1] < 0 ? DIGIT_MASK : 0;
    for (int k = lo; k <= hi; k++) {
        unsigned at = (unsigned)(k - start);
        *out++ = at < (unsigned)count ? c[at] & DIGIT_MASK : k < start ? 0 : extension;
    }
}

static void write_canonical_digits(const galann_exact_sum *s, size_t i, int lo, int hi, int64_t *out)
{
    if (s->base[i] == BASE_FULL) {
        int64_t c[FULL_DIGITS];
        memcpy(c, s->full[i], sizeof c);
        write_digits_of_words(c, FULL_DIGITS, 0, lo, hi, out);
    } else {
        int64_t c[WINDOW_DIGITS + 2] = { 0 };
        memcpy(c, window_of(s, i), WINDOW_DIGITS * sizeof(int64_t));
        write_digits_of_words(c, WINDOW_DIGITS + 2, s->base[i], lo, hi, out);
    }
}

int galann_exact_sum_span(const galann_exact_sum *s, int64_t *span)
{
    int64_t any_nonfinite = 0;
    for (size_t i = 0; i < s->n; i++) {
        int lo, hi;
        if (span_of_sum(s, i, &lo, &hi)) {
            span[2 * i] = hi;
            span[2 * i + 1] = -lo;
        } else {
            span[2 * i] = span[2 * i + 1] = GALANN_EXACT_SUM_SPAN_EMPTY;
        }
        any_nonfinite |= s->flags[i] != 0;
    }
    span[2 * s->n] = any_nonfinite;
    return GALANN_OK;
}

static int span_is_empty(const int64_t *span, size_t i)
{
    return span[2 * i] == GALANN_EXACT_SUM_SPAN_EMPTY;
}

size_t galann_exact_sum_pack_size(const galann_exact_sum *s, const int64_t *span)
{
    size_t words = span[2 * s->n] ? s->n : 0;
    for (size_t i = 0; i < s->n; i++)
        if (!span_is_empty(span, i))
            words += (size_t)(span[2 * i] + span[2 * i + 1] + 1);
    return words;
}

void galann_exact_sum_pack(const galann_exact_sum *s, const int64_t *span, int64_t *words)
{
    for (size_t i = 0; i < s->n; i++) {
        if (span_is_empty(span, i))
            continue;
        int hi = (int)span[2 * i], lo = (int)-span[2 * i + 1];
        if (s->base[i] == BASE_EMPTY) {
            memset(words, 0, (size_t)(hi - lo + 1) * sizeof *words);
            words += hi - lo + 1;
            continue;
        }
        write_canonical_digits(s, i, lo, hi, words);
        words += hi - lo;
        /* hi is at or above this sum's own: the value over 2^(32 hi),
         * rounded down, is an int32, and this digit read signed is it */
        *words = (int32_t)(uint32_t)*words;
        words++;
    }
    if (span[2 * s->n])
        for (size_t i = 0; i < s->n; i++)
            *words++ = (int64_t)((s->flags[i] & FLAG_PLUS) != 0) | ((int64_t)((s->flags[i] & FLAG_MINUS) != 0) << 31);
}

static int check_span(const galann_exact_sum *s, const int64_t *span)
{
    for (size_t i = 0; i < s->n; i++) {
        int64_t hi = span[2 * i], minus_lo = span[2 * i + 1];
        if (hi == GALANN_EXACT_SUM_SPAN_EMPTY && minus_lo == GALANN_EXACT_SUM_SPAN_EMPTY)
            continue;
        if (minus_lo > 0 || minus_lo <= -FULL_DIGITS || hi < 0 || hi >= FULL_DIGITS || hi + minus_lo < 0)
            return galann_error_set(GALANN_ERR_INVALID, "exact sum: span words %lld, %lld of sum %zu are not a reduced span",
                                    (long long)hi, (long long)minus_lo, i);
    }
    if (span[2 * s->n] != 0 && span[2 * s->n] != 1)
        return galann_error_set(GALANN_ERR_INVALID, "exact sum: span's non-finite word is %lld, not 0 or 1",
                                (long long)span[2 * s->n]);
    return GALANN_OK;
}

/* The window for digits lo..hi and the carry above hi, or -1 when they
 * need the full array. */
static int window_base_for(int lo, int hi)
{
    int base = clamp_window_base(lo);
    return hi + 1 <= base + WINDOW_DIGITS - 1 ? base : -1;
}

/* The words of digits lo..hi into d (digits base .. base + count - 1,
 * base <= lo, hi inside), zeros around. A SUM over fewer than 2^29
 * processes leaves every word below 2^61, as a merge does; more need a
 * normalisation. Inlined with constant counts: a memset of variable size
 * costs more than the rest. */
static inline void place_words(int64_t *d, int count, int base, int lo, int hi, const int64_t *words)
{
    memset(d, 0, (size_t)count * sizeof *d);
    memcpy(d + (lo - base), words, (size_t)(hi - lo + 1) * sizeof *words);
    if (words_near_overflow(d, count))
        normalise_words(d, count);
}

int galann_exact_sum_unpack(galann_exact_sum *s, const int64_t *span, const int64_t *words)
{
    int status = check_span(s, span);
    if (status != GALANN_OK)
        return status;
    /* allocate first, so that NOMEM leaves the sums as they were */
    for (size_t i = 0; i < s->n; i++) {
        if (!span_is_empty(span, i) && window_base_for((int)-span[2 * i + 1], (int)span[2 * i]) < 0 && !s->full[i]) {
            s->full[i] = malloc(FULL_DIGITS * sizeof(int64_t));
            if (!s->full[i])
                return galann_error_set(GALANN_ERR_NOMEM, "exact sum: out of memory for the full form of sum %zu", i);
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        s->base[i] = BASE_EMPTY;
        if (span_is_empty(span, i))
            continue;
        int hi = (int)span[2 * i], lo = (int)-span[2 * i + 1];
        int base = window_base_for(lo, hi);
        if (base >= 0) {
            s->base[i] = (int16_t)base;
            place_words(window_of(s, i), WINDOW_DIGITS, base, lo, hi, words);
        } else {
            s->base[i] = BASE_FULL;   /* its array was allocated above */
            place_words(s->full[i], FULL_DIGITS, 0, lo, hi, words);
        }
        words += hi - lo + 1;
    }
    for (size_t i = 0; i < s->n; i++) {
        int64_t w = span[2 * s->n] ? words[i] : 0;
        s->flags[i] = (uint8_t)(((w & INT64_C(0x7fffffff)) != 0 ? FLAG_PLUS : 0) | ((w >> 31) != 0 ? FLAG_MINUS : 0));
    }
    s->deposits = 0;
    return GALANN_OK;
}
