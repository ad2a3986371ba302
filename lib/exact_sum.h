/*
 * exact_sum.h -- sums of doubles kept exactly and rounded once, so that the
 * result is the same bits in whatever order and grouping the terms arrive.
 *
 * A galann_exact_sum holds n independent sums (one per gradient component,
 * or one for the cost). Every term is added without rounding into a
 * fixed-point integer accumulator that spans the whole double range
 * (2^-1074 .. 2^1024 and headroom for carries); rounding to the nearest
 * double (ties to even) happens once, in galann_exact_sum_round. Integer
 * addition is associative, so sums built by different threads or processes
 * and merged in any order give identical bits.
 *
 * This is how chunk partials are combined across threads (backends/blas)
 * and across processes (the allreduce hook, mpi/); it is not meant for
 * per-sample terms, which cost far more to add exactly than to compute.
 *
 * Not thread-safe per object: one thread adds to one accumulator; merge and
 * round take [first, first + count) ranges so that several threads can
 * finish disjoint ranges of one accumulator at once.
 */
#ifndef GALANN_EXACT_SUM_H
#define GALANN_EXACT_SUM_H

#include <stddef.h>
#include <stdint.h>

typedef struct galann_exact_sum galann_exact_sum;

/* n sums, all zero. GALANN_OK or GALANN_ERR_NOMEM (message set). */
int galann_exact_sum_new(size_t n, galann_exact_sum **out);
void galann_exact_sum_free(galann_exact_sum *s);
size_t galann_exact_sum_count(const galann_exact_sum *s);

/* Every sum back to zero, its non-finite flags too. Storage a sum took
 * for terms far apart is kept for the next round of additions. */
void galann_exact_sum_clear(galann_exact_sum *s);

/* sum[first + i] += values[i] for i < count, exactly; the caller
 * guarantees first + count <= n. Zeros cost almost nothing. Infinities and
 * NaN are remembered per sum: the rounded sum is then +inf, -inf or NaN
 * as IEEE addition would give (NaN for a NaN term, or for both +inf and
 * -inf). Returns GALANN_OK, or GALANN_ERR_NOMEM when a sum needed more
 * storage than it had (message set; the sums are then unchanged).
 * Exact for fewer than 2^40 terms per sum, counting every term that
 * reached it through merge or unpack. */
int galann_exact_sum_add(galann_exact_sum *s, size_t first, const double *values, size_t count);

/* into[i] += from[i] for i in [first, first + count), exactly, non-finite
 * flags included. Both have the same n and are different objects. Writes
 * nothing of `into` outside the range, so threads may merge disjoint
 * ranges of one accumulator at once (while nobody adds to it). Returns
 * GALANN_OK, or GALANN_ERR_NOMEM (message set; `into` is then unchanged). */
int galann_exact_sum_merge(galann_exact_sum *into, const galann_exact_sum *from, size_t first, size_t count);

/* out[j] = sum[first + j] rounded to the nearest double, ties to even
 * (overflow gives +-inf; an exact zero gives +0), for j < count. Does not
 * change the sums; disjoint ranges may be rounded concurrently. */
void galann_exact_sum_round(const galann_exact_sum *s, size_t first, size_t count, double *out);

/* ---- a compact exact form for a transport (an MPI allreduce) ----
 *
 * Digit k of a sum weighs 2^(32 k - 1074), k in [0, 72): bit 0 is the
 * least significant bit of the smallest subnormal. A sum's canonical form
 * over digits lo..hi is the integer value / 2^(32 lo - 1074) written with
 * digits lo..hi-1 in [0, 2^32) and digit hi signed, in [-2^31, 2^31).
 * To combine the accumulators of P <= 2^30 processes exactly with integer
 * MAX and SUM reductions only, every process, with the same n:
 *
 *   1. galann_exact_sum_span(s, span) fills span[0 .. 2n]: for sum i,
 *      span[2i] = hi_i and span[2i + 1] = -lo_i, digits over which the
 *      sum has a canonical form (lo_i at or below its lowest nonzero
 *      digit; found without normalising, so the range may be a digit
 *      wider than the tightest, which costs a word, never a result); for
 *      a sum that holds nothing both words are GALANN_EXACT_SUM_SPAN_EMPTY,
 *      below any real value. span[2n] is 1 when some sum has a non-finite
 *      term, else 0. Returns GALANN_OK.
 *   2. Reduce span element-wise with MAX (int64) over the processes: sum
 *      i then covers digits lo = -span[2i + 1] .. hi = span[2i] on every
 *      process, or is zero on all of them.
 *   3. galann_exact_sum_pack_size(s, span) is the number of int64 words
 *      of the packed form, the same on every process: hi - lo + 1 per
 *      non-empty sum, and n more when span[2n] is 1. pack writes, sum
 *      after sum, the canonical digits lo..hi of each non-empty sum, then,
 *      when span[2n] is 1, one word per sum: 1 if the sum had +inf or NaN,
 *      plus 2^31 if it had -inf or NaN. Every word is in [-2^31, 2^32).
 *   4. Reduce the packed words element-wise with SUM (int64): with
 *      P <= 2^30 no word can overflow.
 *   5. galann_exact_sum_unpack(s, span, words) replaces every sum of s by
 *      the combined one (the process's own sums are in the SUM already).
 *      round then gives the same bits on every process as one accumulator
 *      that received every term. Returns GALANN_OK, GALANN_ERR_INVALID
 *      when span is not a reduced span (message set), or GALANN_ERR_NOMEM
 *      (message set); on failure the sums are unchanged.
 * span, pack_size and pack only read s. A process with no terms at all
 * takes part like the others (its sums pack as zeros). */
#define GALANN_EXACT_SUM_SPAN_EMPTY INT64_C(-2147483648)
int galann_exact_sum_span(const galann_exact_sum *s, int64_t *span);
size_t galann_exact_sum_pack_size(const galann_exact_sum *s, const int64_t *span);
void galann_exact_sum_pack(const galann_exact_sum *s, const int64_t *span, int64_t *words);
int galann_exact_sum_unpack(galann_exact_sum *s, const int64_t *span, const int64_t *words);

#endif /* GALANN_EXACT_SUM_H */
