/*
 * kernels.cl -- the opencl backend's device code (OpenCL C 1.2).
 *
 * The batched matrix form of the reference model (docs/api.md, "Computing"),
 * one kernel per step:
 *
 *   forward_layer     A_l = g([1, A_{l-1}] Theta_l^T)
 *   forward_tiled     the same, for few samples on many compute units
 *   score_output      cost and correct predictions per chunk of samples,
 *                     delta_L = a_L - y
 *   backward_layer    delta_l = (delta_{l+1} Theta_{l+1}[:, 1:]) .* a_l (1 - a_l)
 *   gradient_partial  P_c[l] = delta_l^T [1, A_{l-1}] over the samples of chunk c
 *   reduce_partials   G = sum_c P_c, chunk by chunk in index order
 *
 * Samples are rows: the data matrix X (m x n), the activations and the
 * deltas are row-major, so a sample's values are contiguous. Every kernel
 * reads X and the activations along rows, neighbouring work-items at
 * neighbouring addresses (coalesced). The layers next to X are wide (n =
 * 1024) and the others narrow (8, 3), so forward_layer and
 * gradient_partial give each work-item RB units of the narrow side in
 * registers: with RB = 8 no work is wasted on the galaxy network.
 *
 * Results are the same bits on every run on the same device: every sum has
 * a fixed order (tile by tile; a fixed tree in local memory; partial sums
 * per chunk added in chunk order), and there are no atomics. Sums over
 * samples are compensated.
 *
 * Types, chosen by the host's build options (opencl.c):
 *   real     weights, activations, deltas and their products: double, or
 *            float with -DSINGLE (single precision);
 *   acc_t    the sums over samples (each chunk's cost and gradient, and
 *            their sum over chunks): double, or float with -DACC_FLOAT
 *            (single precision on a device without fp64: then nothing
 *            here uses double, and the compensation carries the rest);
 *   input_t  X as the dataset stores it on the device: real, or bytes
 *            with -DINPUT_U8 (byte p is values[p], the dataset's own
 *            table of p / divisor, so a u8 dataset gives the f64 bits), or
 *            float with -DINPUT_F32. Only forward_layer, forward_tiled and
 *            gradient_partial read X, and only for layer 1: a program
 *            built with INPUT_U8 or INPUT_F32 holds just those three.
 *
 * Not here: the lambda term (the core adds it), the 1/m scaling, the
 * final carry of the sums and the device choice (the host does them).
 *
 * The host defines TILE, LINE and RB when it builds this (see opencl.c).
 */
#if defined(SINGLE) && defined(ACC_FLOAT)
/* A device without fp64: any use of double below fails to build, and the
 * host adds -cl-single-precision-constant for the literals. */
#define double no_double_on_this_device
#else
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
/* As the host code (-ffp-contract=off): no fused multiply-adds behind our
 * back, so that the compensated sums below see the products they add. */
#pragma OPENCL FP_CONTRACT OFF

#ifdef SINGLE
typedef float real;
#else
typedef double real;
#endif
#ifdef ACC_FLOAT
typedef float acc_t;
#else
typedef double acc_t;
#endif

/* X's type, and LOAD_INPUT(p, e): element e of X as a real. A u8 program
 * copies the 256 values into local memory first (INPUT_TABLE_LOAD). */
#if defined(INPUT_U8)
#define INPUT_VARIANT
typedef uchar input_t;
#define INPUT_TABLE_DECLARE __local real input_values[256]
#define INPUT_TABLE_LOAD(lid, items)                       \
    do {                                                   \
        for (uint e_ = (lid); e_ < 256; e_ += (items))     \
            input_values[e_] = values[e_];                 \
        barrier(CLK_LOCAL_MEM_FENCE);                      \
    } while (0)
#define LOAD_INPUT(p, e) input_values[(p)[e]]
#else
#if defined(INPUT_F32)
#define INPUT_VARIANT
typedef float input_t;
#else
typedef real input_t;
#endif
#define INPUT_TABLE_DECLARE
#define INPUT_TABLE_LOAD(lid, items) do { } while (0)
#define LOAD_INPUT(p, e) ((real)(p)[e])
#endif

/* backward_layer, forward_tiled: work-groups of TILE x TILE. */
#ifndef TILE
#define TILE 16
#endif
/* forward_layer, gradient_partial, score_output: 1-D work-groups of LINE
 * work-items (a power of two). */
#ifndef LINE
#define LINE 128
#endif
/* Units per work-item in forward_layer and gradient_partial. */
#ifndef RB
#define RB 8
#endif
/* Columns of X staged per step in forward_layer; samples of deltas staged
 * per step in gradient_partial. */
#define KT 16
#define ST 16

/* log(1 + e^t) without overflow: -log g(z) = softplus(-z) and
 * -log(1 - g(z)) = softplus(z). In acc_t: the cost terms are summed over
 * samples, and single precision with fp64 forms them in double too. */
acc_t softplus(acc_t t)
{
    return (t > (acc_t)0 ? t : (acc_t)0) + log1p(exp(-fabs(t)));
}

real sigmoid(real z)
{
    return (real)1 / ((real)1 + exp(-z));
}

/* *sum + value, the rounding error kept in *carry (Knuth's TwoSum, without
 * branches). The sums over samples are compensated: the conjugate-gradient
 * trajectory amplifies rounding differences (see the blas backend), and
 * the final value is sum + carry. */
void add_compensated(acc_t *sum, acc_t *carry, acc_t value)
{
    const acc_t t = *sum + value;
    const acc_t v = t - *sum;
    *carry += (*sum - (t - v)) + (value - v);
    *sum = t;
}

/* z[i, r] = Theta[r, 0] + sum_j A[i, j] Theta[r, 1 + j];  a[i, r] = g(z[i, r])
 *
 * One work-group per block of LINE samples x RB units of layer l: a
 * work-item per sample, its RB sums in registers. The block's rows of A go
 * through local memory KT columns at a time: read along the rows
 * (coalesced), stored transposed, so that each work-item then reads its
 * own sample with its neighbours at neighbouring addresses. Each z is
 * summed over j in order, then the bias is added. For the output layer
 * (keep_z) z is also written, to the delta buffer, for the stable cost.
 * values: a u8 program's table of byte values (unused otherwise). */
__kernel __attribute__((reqd_work_group_size(LINE, 1, 1)))
void forward_layer(__global const input_t *in, __global const real *values, ulong in_off, uint cols,
                   __global const real *theta, ulong theta_off, uint rows, uint m,
                   __global real *act, ulong act_off,
                   __global real *z_out, ulong z_off, int keep_z)
{
    __local real a_tile[KT][LINE + 1];  /* [j][sample], padded against bank conflicts */
    __local real w_tile[KT][RB];        /* [j][unit] */
    INPUT_TABLE_DECLARE;
    const uint lid = get_local_id(0);
    const uint i0 = get_group_id(0) * LINE, r0 = get_group_id(1) * RB;
    const ulong ld = (ulong)cols + 1;
    in += in_off;
    theta += theta_off;
    INPUT_TABLE_LOAD(lid, LINE);

    real acc[RB];
    for (uint u = 0; u < RB; u++)
        acc[u] = (real)0;
    for (uint j0 = 0; j0 < cols; j0 += KT) {
        for (uint e = lid; e < KT * LINE; e += LINE) {
            const uint s = e / KT, jj = e % KT, i = i0 + s, j = j0 + jj;
            a_tile[jj][s] = (i < m && j < cols) ? LOAD_INPUT(in, (ulong)i * cols + j) : (real)0;
        }
        for (uint e = lid; e < KT * RB; e += LINE) {
            const uint u = e / KT, jj = e % KT, r = r0 + u, j = j0 + jj;
            w_tile[jj][u] = (r < rows && j < cols) ? theta[(ulong)r * ld + 1 + j] : (real)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint jj = 0; jj < KT; jj++) {
            const real a = a_tile[jj][lid];
            for (uint u = 0; u < RB; u++)
                acc[u] += a * w_tile[jj][u];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const uint i = i0 + lid;
    if (i >= m)
        return;
    for (uint u = 0; u < RB && r0 + u < rows; u++) {
        const uint r = r0 + u;
        const real z = theta[(ulong)r * ld] + acc[u];
        act[act_off + (ulong)i * rows + r] = sigmoid(z);
        if (keep_z)
            z_out[z_off + (ulong)i * rows + r] = z;
    }
}

/* forward_layer for few samples: the same sums in the same order (so the
 * same bits), spread over more, smaller work-groups. When forward_layer
 * would give a GPU too few groups to hide memory latency (each of them
 * walks all of j), the host runs this instead.
 *
 * One work-group per tile of TILE samples x TILE units; dimension 0 runs
 * along the units r, dimension 1 along the samples i. Tiles of A (samples
 * x j) and Theta (units x j) are loaded with dimension 0 along j. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void forward_tiled(__global const input_t *in, __global const real *values, ulong in_off, uint cols,
                   __global const real *theta, ulong theta_off, uint rows, uint m,
                   __global real *act, ulong act_off,
                   __global real *z_out, ulong z_off, int keep_z)
{
    __local real a_tile[TILE][TILE + 1];  /* [sample][j], padded against bank conflicts */
    __local real w_tile[TILE][TILE + 1];  /* [j][unit]: read along units below */
    INPUT_TABLE_DECLARE;
    const uint tx = get_local_id(0), ty = get_local_id(1);
    const uint r0 = get_group_id(0) * TILE, i0 = get_group_id(1) * TILE;
    const ulong ld = (ulong)cols + 1;
    in += in_off;
    theta += theta_off;
    INPUT_TABLE_LOAD(ty * TILE + tx, TILE * TILE);

    real acc = (real)0;
    for (uint j0 = 0; j0 < cols; j0 += TILE) {
        const uint j = j0 + tx, i = i0 + ty, r = r0 + ty;
        a_tile[ty][tx] = (i < m && j < cols) ? LOAD_INPUT(in, (ulong)i * cols + j) : (real)0;
        w_tile[tx][ty] = (r < rows && j < cols) ? theta[(ulong)r * ld + 1 + j] : (real)0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint t = 0; t < TILE; t++)
            acc += a_tile[ty][t] * w_tile[t][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const uint i = i0 + ty, r = r0 + tx;
    if (i < m && r < rows) {
        const real z = theta[(ulong)r * ld] + acc;
        act[act_off + (ulong)i * rows + r] = sigmoid(z);
        if (keep_z)
            z_out[z_off + (ulong)i * rows + r] = z;
    }
}

/* P_c[r, q] = sum_{i in chunk c} delta[i, r] * [1, A][i, q]   (q = 0 is the bias)
 *
 * The gradient of one layer as a reduction over the samples of one chunk
 * (the third dimension). One work-group per block of LINE columns q x RB
 * units r: a work-item per column, so that the rows of X (or of the
 * activations below) are read coalesced, sample after sample, straight
 * from global memory; its RB sums stay in registers, compensated. The
 * deltas of ST samples x RB units are staged in local memory and read by
 * all. The chunk's sums go to
 * partials[c * stride + param_off + r * (cols + 1) + q], the layout of the
 * parameter vector, so that reduce_partials handles all layers at once. */
__kernel __attribute__((reqd_work_group_size(LINE, 1, 1)))
void gradient_partial(__global const real *delta, ulong delta_off, uint rows,
                      __global const input_t *in, __global const real *values, ulong in_off, uint cols, uint m,
                      uint chunk, __global acc_t *partials, ulong stride, ulong param_off)
{
    __local real d_tile[ST][RB];  /* [sample][unit] */
    INPUT_TABLE_DECLARE;
    const uint lid = get_local_id(0);
    const uint q = get_group_id(0) * LINE + lid, r0 = get_group_id(1) * RB, c = get_group_id(2);
    const uint first = c * chunk, last = min(m, first + chunk);
    delta += delta_off;
    in += in_off;
    INPUT_TABLE_LOAD(lid, LINE);

    acc_t acc[RB], carry[RB];
    for (uint u = 0; u < RB; u++)
        acc[u] = carry[u] = (acc_t)0;
    for (uint i0 = first; i0 < last; i0 += ST) {
        for (uint e = lid; e < ST * RB; e += LINE) {
            const uint s = e / RB, u = e % RB, i = i0 + s, r = r0 + u;
            d_tile[s][u] = (i < last && r < rows) ? delta[(ulong)i * rows + r] : (real)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const uint n = min((uint)ST, last - i0);
        for (uint s = 0; s < n; s++) {
            const ulong row = (ulong)(i0 + s) * cols;
            const real x = q == 0 ? (real)1 : (q <= cols ? LOAD_INPUT(in, row + q - 1) : (real)0);
            for (uint u = 0; u < RB; u++)
                add_compensated(&acc[u], &carry[u], (acc_t)(d_tile[s][u] * x));
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    if (q > cols)
        return;
    for (uint u = 0; u < RB && r0 + u < rows; u++)
        partials[(ulong)c * stride + param_off + (ulong)(r0 + u) * (cols + 1) + q] = acc[u] + carry[u];
}

#ifndef INPUT_VARIANT
/* For the samples of chunk c = group id:
 *   cost_c    = sum_i sum_q [q == y_i ? softplus(-z_iq) : softplus(z_iq)]
 *   correct_c = #{i : argmax_q a_iq (first on ties) == y_i}
 *   delta_L   = a_L - y (when want_delta; it overwrites z)
 * Each work-item sums its own samples in order, then the group adds the
 * LINE sums along a fixed binary tree; work-item 0 writes the chunk's
 * two numbers to partials[c * stride + slot + {0, 1}]. Sample i's label is
 * labels[label_off + i]. */
__kernel __attribute__((reqd_work_group_size(LINE, 1, 1)))
void score_output(__global real *delta, ulong delta_off,
                  __global const real *act, ulong act_off,
                  __global const int *labels, ulong label_off, uint m, uint k, uint chunk,
                  __global acc_t *partials, ulong stride, ulong slot, int want_delta)
{
    __local acc_t cost_sum[LINE];
    __local uint correct_sum[LINE];
    const uint lid = get_local_id(0), c = get_group_id(0);
    const uint first = c * chunk, last = min(m, first + chunk);
    labels += label_off;

    acc_t cost = (acc_t)0, carry = (acc_t)0;
    uint correct = 0;
    for (uint i = first + lid; i < last; i += LINE) {
        const int label = labels[i];
        __global real *d = delta + delta_off + (ulong)i * k;
        __global const real *a = act + act_off + (ulong)i * k;
        uint best = 0;
        for (uint q = 0; q < k; q++) {
            const real z = d[q];
            add_compensated(&cost, &carry, (int)q == label ? softplus(-(acc_t)z) : softplus((acc_t)z));
            if (a[q] > a[best])
                best = q;
            if (want_delta)
                d[q] = a[q] - ((int)q == label ? (real)1 : (real)0);
        }
        correct += (int)best == label;
    }

    cost_sum[lid] = cost + carry;
    correct_sum[lid] = correct;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = LINE / 2; s > 0; s >>= 1) {
        if (lid < s) {
            cost_sum[lid] += cost_sum[lid + s];
            correct_sum[lid] += correct_sum[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        partials[(ulong)c * stride + slot] = cost_sum[0];
        partials[(ulong)c * stride + slot + 1] = (acc_t)correct_sum[0];
    }
}

/* below[i, j] = (sum_r above[i, r] Theta[r, 1 + j]) * a[i, j] (1 - a[i, j])
 *
 * Theta is Theta_{l+1} (rows = s_{l+1} units above, cols = s_l), a and
 * below belong to layer l. One work-group per tile of TILE samples x TILE
 * units j; dimension 0 runs along j, dimension 1 along the samples. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void backward_layer(__global const real *above, ulong above_off, uint rows,
                    __global const real *theta, ulong theta_off, uint cols, uint m,
                    __global const real *act, ulong act_off,
                    __global real *below, ulong below_off)
{
    __local real d_tile[TILE][TILE + 1];  /* [sample][r] */
    __local real w_tile[TILE][TILE + 1];  /* [r][j] */
    const uint tx = get_local_id(0), ty = get_local_id(1);
    const uint j0 = get_group_id(0) * TILE, i0 = get_group_id(1) * TILE;
    const ulong ld = (ulong)cols + 1;
    above += above_off;
    theta += theta_off;

    real acc = (real)0;
    for (uint r0 = 0; r0 < rows; r0 += TILE) {
        const uint i = i0 + ty, r = r0 + tx, rw = r0 + ty, j = j0 + tx;
        d_tile[ty][tx] = (i < m && r < rows) ? above[(ulong)i * rows + r] : (real)0;
        w_tile[ty][tx] = (rw < rows && j < cols) ? theta[(ulong)rw * ld + 1 + j] : (real)0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint t = 0; t < TILE; t++)
            acc += d_tile[ty][t] * w_tile[t][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const uint i = i0 + ty, j = j0 + tx;
    if (i < m && j < cols) {
        const ulong e = (ulong)i * cols + j;
        const real a = act[act_off + e];
        below[below_off + e] = acc * a * ((real)1 - a);
    }
}

/* sums[p] + carries[p] = sum over chunks of partials[c * stride + p],
 * p < count, in chunk order (compensated): one work-item per entry, reads
 * coalesced along p. The partial sums may come in batches of chunks (when
 * they do not fit one buffer): a batch after the first (first == 0)
 * carries on from the sum and carry the last one left, so the result is
 * the same bits as one pass. out holds the sums, then the carries (count
 * each); the host adds each pair. */
__kernel void reduce_partials(__global const acc_t *partials, ulong stride, uint n_chunks, uint count, int first,
                              __global acc_t *out)
{
    const uint p = get_global_id(0);
    if (p >= count)
        return;
    acc_t sum = (acc_t)0, carry = (acc_t)0;
    if (!first) {
        sum = out[p];
        carry = out[count + p];
    }
    for (uint c = 0; c < n_chunks; c++)
        add_compensated(&sum, &carry, partials[(ulong)c * stride + p]);
    out[p] = sum;
    out[count + p] = carry;
}
#endif /* INPUT_VARIANT */
