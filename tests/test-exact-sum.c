/*
 * test-exact-sum.c -- the exact accumulator (lib/exact_sum.c) gives the
 * correctly rounded sum, to the bit, whatever the order, grouping, thread
 * or process split of the terms.
 *
 * Oracles: known answers built from powers of two (cancellation, ties,
 * subnormals, overflow); __float128 running sums where the exact sum
 * spans fewer than 113 bits; and, over the whole double range, a plain
 * bit-by-bit big integer written here independently of the library's
 * digit layout, rounded by reading its bits one at a time.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "exact_sum.h"
#include "support.h"

/* ---- helpers ---- */

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *state)
{
    return (double)(splitmix(state) >> 11) * 0x1p-53;
}

static size_t below(uint64_t *state, size_t n)
{
    return (size_t)(splitmix(state) % n);
}

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* Fails, printing both numbers in hex and decimal, unless got and want
 * are the same bits. */
static void expect_same_double(double got, double want, const char *fmt, ...)
{
    if (bits_of(got) == bits_of(want))
        return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    print_error("%s: got %a (%.17g), expected %a (%.17g)\n", what, got, got, want, want);
    fail();
}

static galann_exact_sum *new_sums(size_t n)
{
    galann_exact_sum *s = NULL;
    assert_int_equal(galann_exact_sum_new(n, &s), GALANN_OK);
    assert_non_null(s);
    return s;
}

/* One sum of the terms, each added by its own call. */
static double exact_sum_of(const double *terms, size_t count)
{
    galann_exact_sum *s = new_sums(1);
    for (size_t t = 0; t < count; t++)
        assert_int_equal(galann_exact_sum_add(s, 0, &terms[t], 1), GALANN_OK);
    double out;
    galann_exact_sum_round(s, 0, 1, &out);
    galann_exact_sum_free(s);
    return out;
}

#define SUM_OF(...) exact_sum_of((const double[]){ __VA_ARGS__ }, sizeof((const double[]){ __VA_ARGS__ }) / sizeof(double))

/* A double with random magnitude 2^[-1074, 1023], random mantissa, random
 * sign: the whole range, subnormals included. */
static double any_double(uint64_t *state)
{
    for (;;) {
        uint64_t b = splitmix(state) & ~(UINT64_C(0x7ff) << 52);
        b |= (uint64_t)below(state, 2047) << 52;   /* exponent field 0 .. 2046: finite */
        double x;
        memcpy(&x, &b, sizeof x);
        if (x != 0.0)
            return x;
    }
}

/* Terms for the order tests: gradient-like values, the whole range,
 * subnormals, zeros, and the negation of an earlier term now and then,
 * which cancels it exactly. */
static double mixed_term(uint64_t *state, const double *earlier, size_t n_earlier)
{
    switch (below(state, 8)) {
    case 0:
        return any_double(state);
    case 1:
        return ldexp((double)(splitmix(state) >> 12), -1074) * (uniform(state) < 0.5 ? -1 : 1);   /* subnormal */
    case 2:
        return 0.0;
    case 3:
        return n_earlier ? -earlier[below(state, n_earlier)] : 1.0;
    case 4:
        return (uniform(state) < 0.5 ? -1 : 1) * pow(10.0, -300.0 + 600.0 * uniform(state));
    default:
        return (uniform(state) < 0.3 ? -1 : 1) * pow(10.0, -6.0 + 7.0 * uniform(state));
    }
}

/* ---- an independent big-integer oracle ----
 *
 * The exact sum as a two's complement integer of ORACLE_BITS bits, bit 0
 * being 2^-1074, stored in 64-bit words; terms are added bit-aligned with
 * a plain carry loop, and rounding reads single bits. Slow and simple. */
#define ORACLE_WORDS 40   /* 2560 bits: 2^-1074 .. 2^1485, signed */

typedef struct oracle {
    uint64_t w[ORACLE_WORDS];
} oracle;

static void oracle_add_shifted(oracle *o, uint64_t mantissa, int position, int negative)
{
    uint64_t add[ORACLE_WORDS] = { 0 };
    int word = position / 64, bit = position % 64;
    add[word] = mantissa << bit;
    if (bit && word + 1 < ORACLE_WORDS)
        add[word + 1] = mantissa >> (64 - bit);
    if (negative) {   /* two's complement: invert and add one */
        uint64_t carry = 1;
        for (int k = 0; k < ORACLE_WORDS; k++) {
            add[k] = ~add[k] + carry;
            carry = carry && add[k] == 0;
        }
    }
    unsigned carry = 0;
    for (int k = 0; k < ORACLE_WORDS; k++) {
        uint64_t sum = o->w[k] + add[k];
        unsigned c1 = sum < add[k];
        uint64_t total = sum + carry;
        unsigned c2 = total < sum;
        o->w[k] = total;
        carry = c1 | c2;
    }
}

static void oracle_add(oracle *o, double x)
{
    if (x == 0.0)
        return;
    int exponent;
    double fraction = frexp(fabs(x), &exponent);   /* |x| = fraction * 2^exponent, fraction in [0.5, 1) */
    /* as an integer of 53 bits times 2^(exponent - 53), then from bit 0 = 2^-1074 */
    int position = exponent - 53 + 1074;
    uint64_t mantissa = (uint64_t)ldexp(fraction, 53);
    if (position < 0) {   /* subnormal: the low bits are zero */
        mantissa >>= -position;
        position = 0;
    }
    oracle_add_shifted(o, mantissa, position, x < 0);
}

static int oracle_bit(const oracle *o, int k)
{
    return k < 0 ? 0 : (int)((o->w[k / 64] >> (k % 64)) & 1);
}

static double oracle_round(const oracle *o)
{
    oracle m = *o;
    int negative = (int)(m.w[ORACLE_WORDS - 1] >> 63);
    if (negative) {
        uint64_t carry = 1;
        for (int k = 0; k < ORACLE_WORDS; k++) {
            m.w[k] = ~m.w[k] + carry;
            carry = carry && m.w[k] == 0;
        }
    }
    int msb = ORACLE_WORDS * 64 - 1;
    while (msb >= 0 && !oracle_bit(&m, msb))
        msb--;
    if (msb < 0)
        return 0.0;
    int lsb = msb - 52 < 0 ? 0 : msb - 52;   /* below 2^-1022 every bit is kept */
    uint64_t mantissa = 0;
    for (int k = msb; k >= lsb; k--)
        mantissa = mantissa << 1 | (uint64_t)oracle_bit(&m, k);
    int half = oracle_bit(&m, lsb - 1), sticky = 0;
    for (int k = lsb - 2; k >= 0; k--)
        sticky |= oracle_bit(&m, k);
    if (half && (sticky || (mantissa & 1)))
        mantissa++;
    double r = ldexp((double)mantissa, lsb - 1074);   /* exact, or inf beyond the range */
    return negative ? -r : r;
}

/* ---- known answers ---- */

static void catastrophic_cancellation_leaves_the_exact_remainder(void **state)
{
    (void)state;
    expect_same_double(SUM_OF(1e300, 1.0, -1e300), 1.0, "1e300 + 1 - 1e300");
    expect_same_double(SUM_OF(0x1p-1074, 0x1p1000, -0x1p1000), 0x1p-1074, "2^-1074 + 2^1000 - 2^1000");
    expect_same_double(SUM_OF(DBL_MAX, DBL_MAX, -DBL_MAX), DBL_MAX, "DBL_MAX + DBL_MAX - DBL_MAX");
    expect_same_double(SUM_OF(-DBL_MAX, -DBL_MAX, DBL_MAX), -DBL_MAX, "-DBL_MAX - DBL_MAX + DBL_MAX");
    expect_same_double(SUM_OF(1e308, 1e308, -1e308, 3.5, -1e308), 3.5, "1e308 + 1e308 - 1e308 + 3.5 - 1e308");
    expect_same_double(SUM_OF(-1.0, 1e-300, 1.0), 1e-300, "-1 + 1e-300 + 1");
    expect_same_double(SUM_OF(0x1p-1074, -0x1p1023, 0x1p1023, -0x1p-1073), -0x1p-1074, "2^-1074 - 2^-1073 across the range");
    /* the doubles nearest 0.1, 0.2 and 0.3 differ by exactly 2^-55 */
    expect_same_double(SUM_OF(0.1, 0.2, -0.3), 0x1p-55, "0.1 + 0.2 - 0.3");
}

static void exact_zero_is_positive_zero(void **state)
{
    (void)state;
    expect_same_double(SUM_OF(0.0), 0.0, "0");
    expect_same_double(SUM_OF(-0.0), 0.0, "-0 added to the empty sum");
    expect_same_double(SUM_OF(-3.25, 3.25), 0.0, "-3.25 + 3.25");
    expect_same_double(SUM_OF(DBL_MAX, 0x1p-1074, -DBL_MAX, -0x1p-1074), 0.0, "four terms cancelling");
    galann_exact_sum *s = new_sums(3);
    double out[3] = { 1, 1, 1 };
    galann_exact_sum_round(s, 0, 3, out);
    for (int i = 0; i < 3; i++)
        expect_same_double(out[i], 0.0, "sum %d of a new accumulator", i);
    galann_exact_sum_free(s);
}

static void overflow_rounds_to_infinity_as_ieee_addition_does(void **state)
{
    (void)state;
    expect_same_double(SUM_OF(DBL_MAX, DBL_MAX), INFINITY, "DBL_MAX + DBL_MAX");
    expect_same_double(SUM_OF(-DBL_MAX, -DBL_MAX), -INFINITY, "-DBL_MAX - DBL_MAX");
    /* DBL_MAX's last bit is 2^971: half of it is the tie, and DBL_MAX is odd */
    expect_same_double(SUM_OF(DBL_MAX, 0x1p970), INFINITY, "DBL_MAX + half an ulp (tie, to even = 2^1024)");
    expect_same_double(SUM_OF(DBL_MAX, 0x1p969), DBL_MAX, "DBL_MAX + a quarter ulp");
    expect_same_double(SUM_OF(DBL_MAX, 0x1p970, -0x1p-1074), DBL_MAX, "DBL_MAX + just under half an ulp");
    expect_same_double(SUM_OF(-DBL_MAX, -0x1p970), -INFINITY, "-DBL_MAX - half an ulp");
    expect_same_double(SUM_OF(DBL_MAX, DBL_MAX, DBL_MAX, -DBL_MAX, -DBL_MAX), DBL_MAX, "back under DBL_MAX after overflow");
    /* far over 2^1024, then below again: nothing was lost on the way */
    double many[64 + 126];
    for (int i = 0; i < 64; i++)
        many[i] = DBL_MAX;
    for (int i = 64; i < 64 + 126; i++)
        many[i] = -0x1p1023;
    expect_same_double(exact_sum_of(many, 64 + 100), INFINITY, "64 DBL_MAX - 100 * 2^1023");
    expect_same_double(exact_sum_of(many, 64 + 126), 0x1p1023 + (0x1p1023 - 0x1p977), "64 DBL_MAX - 126 * 2^1023");
}

static void ties_round_to_even(void **state)
{
    (void)state;
    const double up = nextafter(1.0, 2.0);   /* 1 + 2^-52 */
    expect_same_double(SUM_OF(1.0, 0x1p-53), 1.0, "1 + 2^-53 (tie, 1 is even)");
    expect_same_double(SUM_OF(0x1p-53, 1.0), 1.0, "2^-53 + 1 (tie, 1 is even)");
    expect_same_double(SUM_OF(1.0, 0x1p-53, 0x1p-105), up, "1 + 2^-53 + 2^-105 (above the tie)");
    expect_same_double(SUM_OF(1.0, 0x1p-53, 0x1p-1074), up, "1 + 2^-53 + 2^-1074 (sticky far below)");
    expect_same_double(SUM_OF(1.0, 0x1p-53, -0x1p-1074), 1.0, "1 + 2^-53 - 2^-1074 (under the tie)");
    expect_same_double(SUM_OF(up, 0x1p-53), 1.0 + 0x1p-51, "(1 + 2^-52) + 2^-53 (tie, odd: up)");
    expect_same_double(SUM_OF(-1.0, -0x1p-53), -1.0, "-1 - 2^-53");
    expect_same_double(SUM_OF(-up, -0x1p-53), -(1.0 + 0x1p-51), "-(1 + 2^-52) - 2^-53");
    expect_same_double(SUM_OF(-1.0, -0x1p-53, -0x1p-105), -up, "-1 - 2^-53 - 2^-105");
    expect_same_double(SUM_OF(-1.0, -0x1p-53, 0x1p-200), -1.0, "-1 - 2^-53 + 2^-200 (under the tie in magnitude)");
    expect_same_double(SUM_OF(0x1p100, 0x1p47), 0x1p100, "2^100 + 2^47 (tie)");
    expect_same_double(SUM_OF(0x1p100, 0x1p47, 0x1p-1000), 0x1p100 + 0x1p48, "2^100 + 2^47 + 2^-1000");
    expect_same_double(SUM_OF(0x1p100, 0x1p48, 0x1p47), 0x1p100 + 0x1p49, "2^100 + 2^48 + 2^47 (tie, odd)");
    /* a tie that only appears after cancellation of the leading terms */
    expect_same_double(SUM_OF(0x1p900, 2.0, 0x1p-52, -0x1p900), 2.0, "2^900 + 2 + 2^-52 - 2^900 (tie)");
    expect_same_double(SUM_OF(0x1p900, 2.0, 0x1p-52, -0x1p900, 0x1p-1074), 2.0 + 0x1p-51, "... + 2^-1074");
    /* 2^53 + 1: the tie between two integers */
    expect_same_double(SUM_OF(0x1p53, 1.0), 0x1p53, "2^53 + 1");
    expect_same_double(SUM_OF(0x1p53, 3.0), 0x1p53 + 4.0, "2^53 + 3");
}

static void subnormal_results_are_exact(void **state)
{
    (void)state;
    const double tiny = 0x1p-1074;
    expect_same_double(SUM_OF(tiny, tiny, tiny), 3 * tiny, "3 * 2^-1074");
    expect_same_double(SUM_OF(DBL_MIN, -tiny), DBL_MIN - tiny, "DBL_MIN - 2^-1074, the largest subnormal");
    expect_same_double(SUM_OF(DBL_MIN - tiny, tiny), DBL_MIN, "largest subnormal + 2^-1074 = DBL_MIN");
    expect_same_double(SUM_OF(-DBL_MIN, 0x1p-1060, tiny), -DBL_MIN + 0x1p-1060 + tiny, "negative subnormal result");
    expect_same_double(SUM_OF(1.0, 0x1p-1070, -1.0), 0x1p-1070, "1 + 2^-1070 - 1");
    expect_same_double(SUM_OF(-1e-310, 1e300, -1e300), -1e-310, "-1e-310 + 1e300 - 1e300");
    expect_same_double(SUM_OF(DBL_MIN, DBL_MIN * 0.5), DBL_MIN * 1.5, "normal from subnormal parts");
    /* 2^52 - 1 of the smallest: still subnormal, every bit kept */
    expect_same_double(SUM_OF(DBL_MIN * 0.5, DBL_MIN * 0.25, -tiny), DBL_MIN * 0.75 - tiny, "subnormal with all bits");
}

/* A term at every distance from a first one, each sign and order: from
 * the window's room below (and past it, into the full array) to its top
 * word and past that. 1.0 and 2^46 put words in the window's middle and
 * top only; 1.0 and 2^-100 in its bottom. */
static void terms_at_every_distance_round_exactly(void **state)
{
    (void)state;
    const double firsts[] = { 1.0, -1.0, 0x1.fffffffffffffp0, 0x1p-1040, 0x1p1000 };
    for (size_t f = 0; f < sizeof firsts / sizeof firsts[0]; f++) {
        for (int e = -200; e <= 120; e++) {
            for (int sign = -1; sign <= 1; sign += 2) {
                double x = firsts[f], y = sign * ldexp(1.0 + (e % 3) * 0x1p-52, ilogb(x) + e);
                if (y == 0.0 || !isfinite(y))
                    continue;
                oracle o;
                memset(&o, 0, sizeof o);
                oracle_add(&o, x);
                oracle_add(&o, y);
                double want = oracle_round(&o);
                expect_same_double(SUM_OF(x, y), want, "%a + %a", x, y);
                expect_same_double(SUM_OF(y, x), want, "%a + %a", y, x);
                expect_same_double(SUM_OF(x, y, y, -y), want, "%a + %a + %a - %a", x, y, y, y);
            }
        }
    }
    expect_same_double(SUM_OF(1.0, 0x1p46), 0x1p46 + 1.0, "1 + 2^46");
    expect_same_double(SUM_OF(1.0, -0x1p46), -0x1p46 + 1.0, "1 - 2^46");
    expect_same_double(SUM_OF(1.0, 0x1p-100), 1.0, "1 + 2^-100");
    expect_same_double(SUM_OF(-0x1p-52, 0x1p-100, 1.0), 1.0 - 0x1p-52, "-2^-52 + 2^-100 + 1");
}

/* ---- random oracles ---- */

#if defined(__SIZEOF_FLOAT128__)
/* Terms k * 2^(e + s): k up to 40 bits, s in [0, 60], a common e, mixed
 * signs, often cancelled: every partial sum is a multiple of 2^e below
 * 2^(e + 111), so the __float128 running sum is exact and converting it
 * to double rounds once, correctly. e runs from the subnormals to where
 * the sums overflow. */
static void random_sums_match_a_float128_oracle(void **state)
{
    (void)state;
    enum { SUMS = 16, TRIALS = 300, MAX_TERMS = 600 };
    uint64_t rng = 20240611;
    static double terms[MAX_TERMS][SUMS];
    for (int trial = 0; trial < TRIALS; trial++) {
        int e[SUMS];
        __float128 exact[SUMS];
        size_t count = 1 + below(&rng, MAX_TERMS);
        for (int i = 0; i < SUMS; i++) {
            e[i] = -1074 + (int)below(&rng, 1074 + 924);
            exact[i] = 0;
        }
        for (size_t t = 0; t < count; t++) {
            for (int i = 0; i < SUMS; i++) {
                double x;
                if (t > 0 && below(&rng, 3) == 0) {
                    x = -terms[below(&rng, t)][i];   /* cancel an earlier term */
                } else {
                    uint64_t k = splitmix(&rng) >> (24 + below(&rng, 40));
                    x = ldexp((double)k, e[i] + (int)below(&rng, 61));
                    if (splitmix(&rng) & 1)
                        x = -x;
                }
                terms[t][i] = x;
                exact[i] += (__float128)x;
            }
        }
        galann_exact_sum *s = new_sums(SUMS);
        for (size_t t = 0; t < count; t++)
            assert_int_equal(galann_exact_sum_add(s, 0, terms[t], SUMS), GALANN_OK);
        double out[SUMS];
        galann_exact_sum_round(s, 0, SUMS, out);
        for (int i = 0; i < SUMS; i++)
            expect_same_double(out[i], (double)exact[i], "trial %d, sum %d (%zu terms, e = %d)", trial, i, count, e[i]);
        galann_exact_sum_free(s);
    }
}
#else
static void random_sums_match_a_float128_oracle(void **state)
{
    (void)state;
    skip_test("no __float128 on this compiler (the big-integer oracle still runs)");
}
#endif

/* Any finite doubles at all, the whole range mixed in one sum. */
static void random_sums_over_the_whole_range_match_a_big_integer_oracle(void **state)
{
    (void)state;
    enum { SUMS = 8, TRIALS = 150, MAX_TERMS = 60 };
    uint64_t rng = 77;
    static double terms[MAX_TERMS][SUMS];
    for (int trial = 0; trial < TRIALS; trial++) {
        oracle o[SUMS];
        memset(o, 0, sizeof o);
        size_t count = 1 + below(&rng, MAX_TERMS);
        int style = trial % 3;   /* anything; one binade band; near-cancelling */
        for (size_t t = 0; t < count; t++) {
            for (int i = 0; i < SUMS; i++) {
                double x;
                if (style == 0)
                    x = mixed_term(&rng, &terms[0][i], 0);
                else if (style == 1)
                    x = any_double(&rng) * 0x1p-1000 * 0x1p-20;   /* subnormal-heavy */
                else
                    x = t > 0 && (splitmix(&rng) & 1) ? -terms[below(&rng, t)][i] * (1 + 0x1p-52) : any_double(&rng);
                if (!isfinite(x))
                    x = DBL_MAX;
                terms[t][i] = x;
                oracle_add(&o[i], x);
            }
        }
        galann_exact_sum *s = new_sums(SUMS);
        for (size_t t = 0; t < count; t++)
            assert_int_equal(galann_exact_sum_add(s, 0, terms[t], SUMS), GALANN_OK);
        double out[SUMS];
        galann_exact_sum_round(s, 0, SUMS, out);
        for (int i = 0; i < SUMS; i++)
            expect_same_double(out[i], oracle_round(&o[i]), "trial %d (style %d), sum %d of %zu terms", trial, style, i, count);
        galann_exact_sum_free(s);
    }
}

/* The oracle itself, on answers known by hand, so that the test above
 * rests on something. */
static void big_integer_oracle_agrees_with_known_answers(void **state)
{
    (void)state;
    const double cases[][4] = {
        { 1.0, 0x1p-53, 0, 1.0 },
        { 1.0, 0x1p-53, 0x1p-105, 1.0 + 0x1p-52 },
        { DBL_MAX, 0x1p970, 0, INFINITY },
        { -DBL_MAX, -0x1p969, 0, -DBL_MAX },
        { 0x1p-1074, 0x1p-1074, 0, 0x1p-1073 },
        { 1e300, -1e300, -0.5, -0.5 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        oracle o;
        memset(&o, 0, sizeof o);
        for (int k = 0; k < 3; k++)
            oracle_add(&o, cases[c][k]);
        expect_same_double(oracle_round(&o), cases[c][3], "oracle case %zu", c);
    }
}

/* ---- order, grouping, threads ---- */

enum { ORDER_SUMS = 41, ORDER_TERMS = 300 };

static void make_mixed_terms(uint64_t *rng, double terms[ORDER_TERMS][ORDER_SUMS])
{
    for (int t = 0; t < ORDER_TERMS; t++)
        for (int i = 0; i < ORDER_SUMS; i++) {
            double earlier[ORDER_TERMS];
            for (int u = 0; u < t; u++)
                earlier[u] = terms[u][i];
            terms[t][i] = mixed_term(rng, earlier, (size_t)t);
        }
    /* sum 0 gets only gradient-like values, sum 1 only terms far apart */
    for (int t = 0; t < ORDER_TERMS; t++) {
        terms[t][0] = (uniform(rng) < 0.3 ? -1 : 1) * pow(10.0, -6.0 + 7.0 * uniform(rng));
        terms[t][1] = t % 3 == 2 ? -terms[t - 1][1] : ldexp(1.0 + uniform(rng), -1074 + (int)below(rng, 2097));
    }
}

static void shuffle(uint64_t *rng, int *v, int n)
{
    for (int k = n - 1; k > 0; k--) {
        int j = (int)below(rng, (size_t)k + 1), x = v[k];
        v[k] = v[j];
        v[j] = x;
    }
}

static void round_all(const galann_exact_sum *s, double *out)
{
    galann_exact_sum_round(s, 0, galann_exact_sum_count(s), out);
}

static void expect_same_sums(const double *got, const double *want, size_t n, const char *what, int trial)
{
    for (size_t i = 0; i < n; i++)
        expect_same_double(got[i], want[i], "%s, trial %d, sum %zu", what, trial, i);
    assert_memory_equal(got, want, n * sizeof *got);
}

static void order_and_grouping_do_not_change_the_bits(void **state)
{
    (void)state;
    uint64_t rng = 4242;
    static double terms[ORDER_TERMS][ORDER_SUMS];
    make_mixed_terms(&rng, terms);

    /* the reference: one accumulator, terms in order, and the oracle */
    galann_exact_sum *reference = new_sums(ORDER_SUMS);
    oracle o[ORDER_SUMS];
    memset(o, 0, sizeof o);
    for (int t = 0; t < ORDER_TERMS; t++) {
        assert_int_equal(galann_exact_sum_add(reference, 0, terms[t], ORDER_SUMS), GALANN_OK);
        for (int i = 0; i < ORDER_SUMS; i++)
            oracle_add(&o[i], terms[t][i]);
    }
    double want[ORDER_SUMS], got[ORDER_SUMS];
    round_all(reference, want);
    for (int i = 0; i < ORDER_SUMS; i++)
        expect_same_double(want[i], oracle_round(&o[i]), "in-order sum %d against the oracle", i);

    for (int trial = 0; trial < 60; trial++) {
        int order[ORDER_TERMS];
        for (int t = 0; t < ORDER_TERMS; t++)
            order[t] = t;
        shuffle(&rng, order, ORDER_TERMS);
        int groups = 1 + (int)below(&rng, 6);
        galann_exact_sum *g[6];
        for (int k = 0; k < groups; k++)
            g[k] = new_sums(ORDER_SUMS);
        for (int t = 0; t < ORDER_TERMS; t++) {
            const double *row = terms[order[t]];
            galann_exact_sum *to = g[below(&rng, (size_t)groups)];
            if (trial % 2) {
                /* in random slices, as chunks of a range would come */
                size_t cut = below(&rng, ORDER_SUMS + 1);
                assert_int_equal(galann_exact_sum_add(to, cut, row + cut, ORDER_SUMS - cut), GALANN_OK);
                assert_int_equal(galann_exact_sum_add(to, 0, row, cut), GALANN_OK);
            } else {
                assert_int_equal(galann_exact_sum_add(to, 0, row, ORDER_SUMS), GALANN_OK);
            }
        }
        /* merge in a random tree: pick two, merge one into the other, drop it */
        int alive[6];
        for (int k = 0; k < groups; k++)
            alive[k] = k;
        int left = groups;
        while (left > 1) {
            int a = (int)below(&rng, (size_t)left), b = (int)below(&rng, (size_t)left - 1);
            if (b >= a)
                b++;
            size_t cut = below(&rng, ORDER_SUMS + 1);
            assert_int_equal(galann_exact_sum_merge(g[alive[a]], g[alive[b]], cut, ORDER_SUMS - cut), GALANN_OK);
            assert_int_equal(galann_exact_sum_merge(g[alive[a]], g[alive[b]], 0, cut), GALANN_OK);
            alive[b] = alive[--left];
        }
        round_all(g[alive[0]], got);
        expect_same_sums(got, want, ORDER_SUMS, "shuffled and grouped", trial);
        for (int k = 0; k < groups; k++)
            galann_exact_sum_free(g[k]);
    }
    galann_exact_sum_free(reference);
}

/* Windows that start at different digits, and full arrays, merged every
 * way round: sums whose first terms differ by factors of 2^1 .. 2^200. */
static void windows_at_different_digits_merge_exactly(void **state)
{
    (void)state;
    const double firsts[] = { 1.0, 3.0, 0x1p31, 0x1p33, 0x1p64, 0x1p100, 0x1p-40, 0x1p-200, 1e-310, 1e300 };
    const int n_firsts = (int)(sizeof firsts / sizeof firsts[0]);
    /* 0x1.f..p60 after a first term 1.0 reaches the top word of its window */
    const double later[] = { 0.75, -0x1p-30, 0x1p40, -1.0, 0x1p-60, 0x1.fffffffffffffp60, -0x1.8p62 };
    const int n_later = (int)(sizeof later / sizeof later[0]);
    for (int a = 0; a < n_firsts; a++) {
        for (int b = 0; b < n_firsts; b++) {
            galann_exact_sum *x = new_sums(1), *y = new_sums(1), *all = new_sums(1);
            assert_int_equal(galann_exact_sum_add(x, 0, &firsts[a], 1), GALANN_OK);
            assert_int_equal(galann_exact_sum_add(all, 0, &firsts[a], 1), GALANN_OK);
            assert_int_equal(galann_exact_sum_add(y, 0, &firsts[b], 1), GALANN_OK);
            assert_int_equal(galann_exact_sum_add(all, 0, &firsts[b], 1), GALANN_OK);
            for (int k = 0; k < n_later; k++) {
                assert_int_equal(galann_exact_sum_add(k % 2 ? x : y, 0, &later[k], 1), GALANN_OK);
                assert_int_equal(galann_exact_sum_add(all, 0, &later[k], 1), GALANN_OK);
            }
            double want, got;
            galann_exact_sum_round(all, 0, 1, &want);
            oracle o;
            memset(&o, 0, sizeof o);
            oracle_add(&o, firsts[a]);
            oracle_add(&o, firsts[b]);
            for (int k = 0; k < n_later; k++)
                oracle_add(&o, later[k]);
            expect_same_double(want, oracle_round(&o), "one accumulator, firsts %a and %a", firsts[a], firsts[b]);
            assert_int_equal(galann_exact_sum_merge(x, y, 0, 1), GALANN_OK);
            galann_exact_sum_round(x, 0, 1, &got);
            expect_same_double(got, want, "merged, firsts %a and %a", firsts[a], firsts[b]);
            galann_exact_sum_free(x);
            galann_exact_sum_free(y);
            galann_exact_sum_free(all);
        }
    }
}

typedef struct merge_job {
    galann_exact_sum *into;
    const galann_exact_sum *from;
    size_t first, count;
    int status;
} merge_job;

static void *run_merge_job(void *arg)
{
    merge_job *job = arg;
    job->status = galann_exact_sum_merge(job->into, job->from, job->first, job->count);
    return NULL;
}

/* Disjoint ranges merged by concurrent threads, then rounded by them. */
static void threads_merge_disjoint_ranges_concurrently(void **state)
{
    (void)state;
    uint64_t rng = 99;
    static double terms[ORDER_TERMS][ORDER_SUMS];
    make_mixed_terms(&rng, terms);
    galann_exact_sum *one = new_sums(ORDER_SUMS), *part[4];
    for (int k = 0; k < 4; k++)
        part[k] = new_sums(ORDER_SUMS);
    for (int t = 0; t < ORDER_TERMS; t++) {
        assert_int_equal(galann_exact_sum_add(one, 0, terms[t], ORDER_SUMS), GALANN_OK);
        assert_int_equal(galann_exact_sum_add(part[t % 4], 0, terms[t], ORDER_SUMS), GALANN_OK);
    }
    double want[ORDER_SUMS], got[ORDER_SUMS];
    round_all(one, want);
    for (int k = 1; k < 4; k++) {
        pthread_t threads[3];
        merge_job jobs[3];
        size_t cuts[4] = { 0, 7, 30, ORDER_SUMS };
        for (int r = 0; r < 3; r++) {
            jobs[r] = (merge_job){ part[0], part[k], cuts[r], cuts[r + 1] - cuts[r], -1 };
            assert_int_equal(pthread_create(&threads[r], NULL, run_merge_job, &jobs[r]), 0);
        }
        for (int r = 0; r < 3; r++) {
            assert_int_equal(pthread_join(threads[r], NULL), 0);
            assert_int_equal(jobs[r].status, GALANN_OK);
        }
    }
    round_all(part[0], got);
    expect_same_sums(got, want, ORDER_SUMS, "merged by threads", 0);
    galann_exact_sum_round(part[0], 10, 5, got);
    expect_same_sums(got, want + 10, 5, "a range rounded", 0);
    for (int k = 0; k < 4; k++)
        galann_exact_sum_free(part[k]);
    galann_exact_sum_free(one);
}

/* ---- the transport form ---- */

/* P processes, simulated: span, MAX over processes, pack, SUM over
 * processes, unpack on every process; each must round to the bits of one
 * accumulator that saw every term. */
static void check_processes(int processes, double (*terms)[ORDER_SUMS], int n_terms, const int *owner, int trial)
{
    const size_t n = ORDER_SUMS;
    galann_exact_sum *one = new_sums(n), *proc[5];
    for (int p = 0; p < processes; p++)
        proc[p] = new_sums(n);
    for (int t = 0; t < n_terms; t++) {
        assert_int_equal(galann_exact_sum_add(one, 0, terms[t], n), GALANN_OK);
        assert_int_equal(galann_exact_sum_add(proc[owner[t]], 0, terms[t], n), GALANN_OK);
    }
    double want[ORDER_SUMS], got[ORDER_SUMS];
    round_all(one, want);

    int64_t span[2 * ORDER_SUMS + 1], reduced[2 * ORDER_SUMS + 1];
    for (int p = 0; p < processes; p++) {
        assert_int_equal(galann_exact_sum_span(proc[p], span), GALANN_OK);
        for (size_t k = 0; k < 2 * n + 1; k++)
            reduced[k] = p == 0 || span[k] > reduced[k] ? span[k] : reduced[k];
    }
    size_t size = galann_exact_sum_pack_size(proc[0], reduced);
    int64_t *words = calloc(size + 1, sizeof *words), *total = calloc(size + 1, sizeof *total);
    assert_non_null(words);
    assert_non_null(total);
    for (int p = 0; p < processes; p++) {
        assert_int_equal(galann_exact_sum_pack_size(proc[p], reduced), size);
        words[size] = 12345;   /* a guard: pack writes exactly size words */
        galann_exact_sum_pack(proc[p], reduced, words);
        assert_int_equal(words[size], 12345);
        for (size_t k = 0; k < size; k++) {
            if (words[k] < -(INT64_C(1) << 31) || words[k] >= (INT64_C(1) << 32)) {
                print_error("trial %d, process %d: packed word %zu is %lld, outside [-2^31, 2^32)\n", trial, p, k,
                            (long long)words[k]);
                fail();
            }
            total[k] += words[k];
        }
    }
    for (int p = 0; p < processes; p++) {
        assert_int_equal(galann_exact_sum_unpack(proc[p], reduced, total), GALANN_OK);
        round_all(proc[p], got);
        for (size_t i = 0; i < n; i++)
            expect_same_double(got[i], want[i], "%d processes, trial %d, process %d, sum %zu", processes, trial, p, i);
    }
    /* the unpacked sums go on exactly: more terms, and a merge */
    assert_int_equal(galann_exact_sum_add(proc[0], 0, terms[0], n), GALANN_OK);
    assert_int_equal(galann_exact_sum_add(one, 0, terms[0], n), GALANN_OK);
    assert_int_equal(galann_exact_sum_merge(proc[0], one, 0, n), GALANN_OK);
    galann_exact_sum *twice = new_sums(n);
    assert_int_equal(galann_exact_sum_merge(twice, one, 0, n), GALANN_OK);
    assert_int_equal(galann_exact_sum_merge(twice, one, 0, n), GALANN_OK);
    round_all(twice, want);
    round_all(proc[0], got);
    expect_same_sums(got, want, n, "unpacked, then added to and merged", trial);
    galann_exact_sum_free(twice);
    free(total);
    free(words);
    for (int p = 0; p < processes; p++)
        galann_exact_sum_free(proc[p]);
    galann_exact_sum_free(one);
}

static void pack_and_unpack_across_processes_match_one_accumulator(void **state)
{
    (void)state;
    uint64_t rng = 1717;
    static double terms[ORDER_TERMS][ORDER_SUMS];
    for (int trial = 0; trial < 12; trial++) {
        make_mixed_terms(&rng, terms);
        /* sum 2 is zero everywhere; sum 3 cancels across processes; sum 4
         * is one small term; sum 5 is huge on one process, tiny on another */
        for (int t = 0; t < ORDER_TERMS; t++) {
            terms[t][2] = 0.0;
            terms[t][3] = t % 2 ? -terms[t - 1][3] : (double)(t + 1) * 0x1p-30;
            terms[t][4] = t == 17 ? -0x1p-1074 : 0.0;
            terms[t][5] = t % 2 ? 0x1p-1070 : -0x1p1020;
        }
        for (int processes = 1; processes <= 5; processes++) {
            int owner[ORDER_TERMS];
            for (int t = 0; t < ORDER_TERMS; t++) {
                owner[t] = (int)below(&rng, (size_t)processes);
                if (processes >= 3 && owner[t] == 1)
                    owner[t] = 0;   /* process 1 adds nothing */
            }
            check_processes(processes, terms, ORDER_TERMS, owner, trial);
        }
    }
}

static void non_finite_terms_travel_through_pack_and_unpack(void **state)
{
    (void)state;
    static double terms[4][ORDER_SUMS];
    for (int i = 0; i < ORDER_SUMS; i++)
        terms[0][i] = terms[1][i] = terms[2][i] = terms[3][i] = (double)i;
    terms[0][7] = INFINITY;     /* sum 7: +inf on one process, -inf on another: NaN */
    terms[1][7] = -INFINITY;
    terms[2][8] = -INFINITY;    /* sum 8: -inf */
    terms[3][9] = NAN;          /* sum 9: NaN */
    terms[0][10] = INFINITY;    /* sum 10: +inf twice */
    terms[3][10] = INFINITY;
    const int owner[4] = { 0, 1, 2, 2 };
    check_processes(3, terms, 4, owner, 0);
    const int alone[4] = { 0, 0, 0, 0 };
    check_processes(2, terms, 4, alone, 1);
}

static void unpack_rejects_a_span_that_was_not_reduced(void **state)
{
    (void)state;
    galann_exact_sum *s = new_sums(2);
    const double x[2] = { 1.0, -2.0 };
    assert_int_equal(galann_exact_sum_add(s, 0, x, 2), GALANN_OK);
    int64_t bad[5] = { 3, -5, GALANN_EXACT_SUM_SPAN_EMPTY, GALANN_EXACT_SUM_SPAN_EMPTY, 0 };   /* lo 5 > hi 3 */
    int64_t words[8] = { 0 };
    assert_int_equal(galann_exact_sum_unpack(s, bad, words), GALANN_ERR_INVALID);
    int64_t too_high[5] = { 500, -2, GALANN_EXACT_SUM_SPAN_EMPTY, GALANN_EXACT_SUM_SPAN_EMPTY, 0 };
    assert_int_equal(galann_exact_sum_unpack(s, too_high, words), GALANN_ERR_INVALID);
    double out[2];
    galann_exact_sum_round(s, 0, 2, out);
    expect_same_double(out[0], 1.0, "sum 0 after a rejected unpack");
    expect_same_double(out[1], -2.0, "sum 1 after a rejected unpack");
    galann_exact_sum_free(s);
}

/* ---- non-finite terms ---- */

static void non_finite_terms_give_what_ieee_addition_gives(void **state)
{
    (void)state;
    expect_same_double(SUM_OF(1.0, INFINITY, -5.0), INFINITY, "1 + inf - 5");
    expect_same_double(SUM_OF(-INFINITY, DBL_MAX), -INFINITY, "-inf + DBL_MAX");
    expect_same_double(SUM_OF(INFINITY, INFINITY), INFINITY, "inf + inf");
    assert_true(isnan(SUM_OF(INFINITY, 1.0, -INFINITY)));
    assert_true(isnan(SUM_OF(2.0, NAN)));
    assert_true(isnan(SUM_OF(-NAN, INFINITY)));
    /* per sum: a NaN in one sum leaves its neighbours alone, and merges carry it */
    galann_exact_sum *a = new_sums(3), *b = new_sums(3);
    const double x[3] = { 1.0, NAN, 2.0 }, y[3] = { -INFINITY, 3.0, 4.0 };
    assert_int_equal(galann_exact_sum_add(a, 0, x, 3), GALANN_OK);
    assert_int_equal(galann_exact_sum_add(b, 0, y, 3), GALANN_OK);
    double out[3];
    galann_exact_sum_round(a, 0, 3, out);
    expect_same_double(out[0], 1.0, "neighbour of a NaN");
    assert_true(isnan(out[1]));
    expect_same_double(out[2], 2.0, "other neighbour of a NaN");
    assert_int_equal(galann_exact_sum_merge(a, b, 0, 3), GALANN_OK);
    galann_exact_sum_round(a, 0, 3, out);
    expect_same_double(out[0], -INFINITY, "1 merged with -inf");
    assert_true(isnan(out[1]));
    expect_same_double(out[2], 6.0, "2 merged with 4");
    galann_exact_sum_clear(a);
    galann_exact_sum_round(a, 0, 3, out);
    for (int i = 0; i < 3; i++)
        expect_same_double(out[i], 0.0, "sum %d after clear", i);
    galann_exact_sum_free(a);
    galann_exact_sum_free(b);
}

/* ---- many deposits ---- */

/* Terms whose 53 mantissa bits fill two whole digits: the largest change
 * a deposit can make. 2^20 of them, then merges that double the sums
 * until the words would pass 2^62 (which the merge must catch by
 * normalising), then 2^29 more calls of add, which pass the point where
 * every sum is normalised: the result stays exact all along. */
static void many_maximal_deposits_stay_exact(void **state)
{
    (void)state;
#if defined(__SIZEOF_FLOAT128__)
    const double full_mantissa = 0x1.fffffffffffffp52;   /* 2^53 - 1 */
    /* position of the least significant bit: 11 within its digit, so the
     * mantissa shifted fills bits 11..63 of two digits */
    const double terms[4] = { ldexp(full_mantissa, 11 - 1074 + 32 * 30), ldexp(full_mantissa, 11 - 1074 + 32 * 30),
                              -ldexp(full_mantissa, 11 - 1074 + 32 * 3), ldexp(full_mantissa, 11 - 1074 + 32 * 60) };
    const long deposits = 1L << 20;
    galann_exact_sum *a = new_sums(4);
    for (long k = 0; k < deposits; k++)
        assert_int_equal(galann_exact_sum_add(a, 0, terms, 4), GALANN_OK);
    __float128 multiple = (__float128)deposits;
    double out[4];
    galann_exact_sum_round(a, 0, 4, out);
    for (int i = 0; i < 4; i++)
        expect_same_double(out[i], (double)(multiple * (__float128)terms[i]), "2^20 maximal deposits, sum %d", i);

    /* doubling by merging: words grow from 2^52 past 2^61 */
    galann_exact_sum *b = new_sums(4);
    assert_int_equal(galann_exact_sum_merge(b, a, 0, 4), GALANN_OK);
    for (int k = 0; k < 14; k++) {
        assert_int_equal(galann_exact_sum_merge(a, b, 0, 4), GALANN_OK);   /* b == a: a = 2a */
        galann_exact_sum_clear(b);
        assert_int_equal(galann_exact_sum_merge(b, a, 0, 4), GALANN_OK);   /* b = a */
        multiple *= 2;
        galann_exact_sum_round(a, 0, 4, out);
        for (int i = 0; i < 4; i++)
            expect_same_double(out[i], (double)(multiple * (__float128)terms[i]), "after %d doublings, sum %d", k + 1, i);
    }

    /* past the periodic normalisation (every 2^29 calls of add) */
    const double one_more[4] = { terms[0], terms[1], terms[2], terms[3] };
    for (long k = 0; k < (1L << 29) + 5; k++) {
        if ((k & ((1L << 22) - 1)) == 0) {
            assert_int_equal(galann_exact_sum_add(a, 0, one_more, 4), GALANN_OK);
            multiple += 1;
        } else {
            assert_int_equal(galann_exact_sum_add(a, 0, one_more, 0), GALANN_OK);
        }
    }
    galann_exact_sum_round(a, 0, 4, out);
    for (int i = 0; i < 4; i++)
        expect_same_double(out[i], (double)(multiple * (__float128)terms[i]), "after 2^29 calls of add, sum %d", i);
    galann_exact_sum_free(b);
    galann_exact_sum_free(a);
#else
    skip_test("no __float128 on this compiler");
#endif
}

/* ---- bookkeeping ---- */

static void count_clear_and_ranges_behave(void **state)
{
    (void)state;
    galann_exact_sum *s = new_sums(10);
    assert_int_equal(galann_exact_sum_count(s), 10);
    const double x[4] = { 1.5, -2.0, 1e-300, 0x1p600 };
    assert_int_equal(galann_exact_sum_add(s, 6, x, 4), GALANN_OK);
    assert_int_equal(galann_exact_sum_add(s, 5, x, 2), GALANN_OK);
    double out[10];
    galann_exact_sum_round(s, 0, 10, out);
    const double want[10] = { 0, 0, 0, 0, 0, 1.5, -0.5, -2.0 + 1e-300, 1e-300, 0x1p600 };
    for (int i = 0; i < 10; i++)
        expect_same_double(out[i], want[i], "sum %d", i);
    galann_exact_sum_round(s, 6, 2, out);
    expect_same_double(out[0], -0.5, "range [6, 8), first");
    expect_same_double(out[1], -2.0, "range [6, 8), second");
    galann_exact_sum_clear(s);
    assert_int_equal(galann_exact_sum_add(s, 8, x, 2), GALANN_OK);
    galann_exact_sum_round(s, 0, 10, out);
    for (int i = 0; i < 10; i++)
        expect_same_double(out[i], i == 8 ? 1.5 : i == 9 ? -2.0 : 0.0, "after clear, sum %d", i);
    galann_exact_sum_free(s);
    galann_exact_sum_free(NULL);
    galann_exact_sum *empty = new_sums(0);
    assert_int_equal(galann_exact_sum_count(empty), 0);
    int64_t span[1];
    assert_int_equal(galann_exact_sum_span(empty, span), GALANN_OK);
    assert_int_equal(span[0], 0);
    assert_int_equal(galann_exact_sum_pack_size(empty, span), 0);
    galann_exact_sum_free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catastrophic_cancellation_leaves_the_exact_remainder),
        cmocka_unit_test(exact_zero_is_positive_zero),
        cmocka_unit_test(overflow_rounds_to_infinity_as_ieee_addition_does),
        cmocka_unit_test(ties_round_to_even),
        cmocka_unit_test(subnormal_results_are_exact),
        cmocka_unit_test(terms_at_every_distance_round_exactly),
        cmocka_unit_test(big_integer_oracle_agrees_with_known_answers),
        cmocka_unit_test(random_sums_match_a_float128_oracle),
        cmocka_unit_test(random_sums_over_the_whole_range_match_a_big_integer_oracle),
        cmocka_unit_test(order_and_grouping_do_not_change_the_bits),
        cmocka_unit_test(windows_at_different_digits_merge_exactly),
        cmocka_unit_test(threads_merge_disjoint_ranges_concurrently),
        cmocka_unit_test(pack_and_unpack_across_processes_match_one_accumulator),
        cmocka_unit_test(non_finite_terms_travel_through_pack_and_unpack),
        cmocka_unit_test(unpack_rejects_a_span_that_was_not_reduced),
        cmocka_unit_test(non_finite_terms_give_what_ieee_addition_gives),
        cmocka_unit_test(many_maximal_deposits_stay_exact),
        cmocka_unit_test(count_clear_and_ranges_behave),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
