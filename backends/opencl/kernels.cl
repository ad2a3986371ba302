/*
 * kernels.cl -- the opencl backend's device code (OpenCL C 1.2, double).
 *
 * The batched matrix form of docs/reference-model.md, one kernel per step:
 *
 *   forward_layer     A_l = g([1, A_{l-1}] Theta_l^T)         (tiled product)
 *   score_output      cost and correct predictions per chunk of samples,
 *                     delta_L = a_L - y
 *   backward_layer    delta_l = (delta_{l+1} Theta_{l+1}[:, 1:]) .* a_l (1 - a_l)
 *   gradient_partial  P_c[l] = delta_l^T [1, A_{l-1}] over the samples of chunk c
 *   reduce_partials   G = sum_c P_c, chunk by chunk in index order
 *
 * Samples are rows: the data matrix X (m x n), the activations and the
 * deltas are row-major, so a sample's values are contiguous. Every tiled
 * kernel loads its tiles with local dimension 0 running along a row, so
 * neighbouring work-items read neighbouring addresses (coalesced).
 *
 * Results are the same bits on every run on the same device: every sum has
 * a fixed order (tile by tile; a fixed tree in local memory; partial sums
 * per chunk added in chunk order), and there are no atomics. Sums over
 * samples are compensated.
 *
 * Not here: the lambda term (the core adds it), the 1/m scaling and the
 * device choice (the host does both).
 *
 * The host defines TILE (16, or 8 on small devices) when it builds this.
 */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
/* As the host code (-ffp-contract=off): no fused multiply-adds behind our
 * back, so that the compensated sums below see the products they add. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef TILE
#define TILE 16
#endif
/* Work-items in a 1-D group (score_output): one per tile element. */
#define GROUP (TILE * TILE)

/* log(1 + e^t) without overflow: -log g(z) = softplus(-z) and
 * -log(1 - g(z)) = softplus(z). */
static double softplus(double t)
{
    return (t > 0.0 ? t : 0.0) + log1p(exp(-fabs(t)));
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* *sum + value, the rounding error kept in *carry (Knuth's TwoSum, without
 * branches). The sums over samples are compensated: the conjugate-gradient
 * trajectory amplifies rounding differences (see the blas backend), and
 * the final value is sum + carry. */
static void add_compensated(double *sum, double *carry, double value)
{
    const double t = *sum + value;
    const double v = t - *sum;
    *carry += (*sum - (t - v)) + (value - v);
    *sum = t;
}

/* z[i, r] = Theta[r, 0] + sum_j A[i, j] Theta[r, 1 + j];  a[i, r] = g(z[i, r])
 *
 * One work-group per tile of TILE samples x TILE units of layer l;
 * dimension 0 runs along the units r, dimension 1 along the samples i.
 * Tiles of A (samples x j) and Theta (units x j) are loaded with dimension
 * 0 along j. For the output layer (keep_z) z is also written, to the
 * delta buffer, for the stable cost. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void forward_layer(__global const double *in, ulong in_off, uint cols,
                   __global const double *theta, ulong theta_off, uint rows, uint m,
                   __global double *act, ulong act_off,
                   __global double *z_out, ulong z_off, int keep_z)
{
    __local double a_tile[TILE][TILE + 1];  /* [sample][j], padded against bank conflicts */
    __local double w_tile[TILE][TILE + 1];  /* [j][unit]: read along units below */
    const uint tx = get_local_id(0), ty = get_local_id(1);
    const uint r0 = get_group_id(0) * TILE, i0 = get_group_id(1) * TILE;
    const ulong ld = (ulong)cols + 1;
    in += in_off;
    theta += theta_off;

    double acc = 0.0;
    for (uint j0 = 0; j0 < cols; j0 += TILE) {
        const uint j = j0 + tx, i = i0 + ty, r = r0 + ty;
        a_tile[ty][tx] = (i < m && j < cols) ? in[(ulong)i * cols + j] : 0.0;
        w_tile[tx][ty] = (r < rows && j < cols) ? theta[(ulong)r * ld + 1 + j] : 0.0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint t = 0; t < TILE; t++)
            acc += a_tile[ty][t] * w_tile[t][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const uint i = i0 + ty, r = r0 + tx;
    if (i < m && r < rows) {
        const double z = theta[(ulong)r * ld] + acc;
        act[act_off + (ulong)i * rows + r] = sigmoid(z);
        if (keep_z)
            z_out[z_off + (ulong)i * rows + r] = z;
    }
}

/* For the samples of chunk c = group id:
 *   cost_c    = sum_i sum_q [q == y_i ? softplus(-z_iq) : softplus(z_iq)]
 *   correct_c = #{i : argmax_q a_iq (first on ties) == y_i}
 *   delta_L   = a_L - y (when want_delta; it overwrites z)
 * Each work-item sums its own samples in order, then the group adds the
 * GROUP sums along a fixed binary tree; work-item 0 writes the chunk's
 * two numbers to partials[c * stride + slot + {0, 1}]. */
__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void score_output(__global double *delta, ulong delta_off,
                  __global const double *act, ulong act_off,
                  __global const int *labels, uint m, uint k, uint chunk,
                  __global double *partials, ulong stride, ulong slot, int want_delta)
{
    __local double cost_sum[GROUP];
    __local uint correct_sum[GROUP];
    const uint lid = get_local_id(0), c = get_group_id(0);
    const uint first = c * chunk, last = min(m, first + chunk);

    double cost = 0.0, carry = 0.0;
    uint correct = 0;
    for (uint i = first + lid; i < last; i += GROUP) {
        const int label = labels[i];
        __global double *d = delta + delta_off + (ulong)i * k;
        __global const double *a = act + act_off + (ulong)i * k;
        uint best = 0;
        for (uint q = 0; q < k; q++) {
            const double z = d[q];
            add_compensated(&cost, &carry, (int)q == label ? softplus(-z) : softplus(z));
            if (a[q] > a[best])
                best = q;
            if (want_delta)
                d[q] = a[q] - ((int)q == label ? 1.0 : 0.0);
        }
        correct += (int)best == label;
    }

    cost_sum[lid] = cost + carry;
    correct_sum[lid] = correct;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) {
            cost_sum[lid] += cost_sum[lid + s];
            correct_sum[lid] += correct_sum[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        partials[(ulong)c * stride + slot] = cost_sum[0];
        partials[(ulong)c * stride + slot + 1] = (double)correct_sum[0];
    }
}

/* below[i, j] = (sum_r above[i, r] Theta[r, 1 + j]) * a[i, j] (1 - a[i, j])
 *
 * Theta is Theta_{l+1} (rows = s_{l+1} units above, cols = s_l), a and
 * below belong to layer l. One work-group per tile of TILE samples x TILE
 * units j; dimension 0 runs along j, dimension 1 along the samples. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void backward_layer(__global const double *above, ulong above_off, uint rows,
                    __global const double *theta, ulong theta_off, uint cols, uint m,
                    __global const double *act, ulong act_off,
                    __global double *below, ulong below_off)
{
    __local double d_tile[TILE][TILE + 1];  /* [sample][r] */
    __local double w_tile[TILE][TILE + 1];  /* [r][j] */
    const uint tx = get_local_id(0), ty = get_local_id(1);
    const uint j0 = get_group_id(0) * TILE, i0 = get_group_id(1) * TILE;
    const ulong ld = (ulong)cols + 1;
    above += above_off;
    theta += theta_off;

    double acc = 0.0;
    for (uint r0 = 0; r0 < rows; r0 += TILE) {
        const uint i = i0 + ty, r = r0 + tx, rw = r0 + ty, j = j0 + tx;
        d_tile[ty][tx] = (i < m && r < rows) ? above[(ulong)i * rows + r] : 0.0;
        w_tile[ty][tx] = (rw < rows && j < cols) ? theta[(ulong)rw * ld + 1 + j] : 0.0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint t = 0; t < TILE; t++)
            acc += d_tile[ty][t] * w_tile[t][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const uint i = i0 + ty, j = j0 + tx;
    if (i < m && j < cols) {
        const ulong e = (ulong)i * cols + j;
        const double a = act[act_off + e];
        below[below_off + e] = acc * a * (1.0 - a);
    }
}

/* P_c[r, q] = sum_{i in chunk c} delta[i, r] * [1, A][i, q]   (q = 0 is the bias)
 *
 * The gradient of one layer as a reduction over the samples of one chunk.
 * Work-group (TILE x TILE) per tile of TILE columns q x TILE units r, the
 * third dimension is the chunk. Dimension 0 runs along q, the feature
 * dimension, so the rows of X (or of the activations below) are read
 * coalesced, TILE samples at a time. The chunk's sums go to
 * partials[c * stride + param_off + r * (cols + 1) + q], the layout of the
 * parameter vector, so that reduce_partials handles all layers at once. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void gradient_partial(__global const double *delta, ulong delta_off, uint rows,
                      __global const double *in, ulong in_off, uint cols, uint m, uint chunk,
                      __global double *partials, ulong stride, ulong param_off)
{
    __local double x_tile[TILE][TILE + 1];  /* [sample][q] */
    __local double d_tile[TILE][TILE + 1];  /* [sample][r] */
    const uint tx = get_local_id(0), ty = get_local_id(1);
    const uint q0 = get_group_id(0) * TILE, r0 = get_group_id(1) * TILE, c = get_group_id(2);
    const uint first = c * chunk, last = min(m, first + chunk);
    delta += delta_off;
    in += in_off;

    double acc = 0.0, carry = 0.0;
    for (uint i0 = first; i0 < last; i0 += TILE) {
        const uint i = i0 + ty, q = q0 + tx, r = r0 + tx;
        double x = 0.0;
        if (i < last && q <= cols)
            x = q == 0 ? 1.0 : in[(ulong)i * cols + q - 1];
        x_tile[ty][tx] = x;
        d_tile[ty][tx] = (i < last && r < rows) ? delta[(ulong)i * rows + r] : 0.0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint t = 0; t < TILE; t++)
            add_compensated(&acc, &carry, d_tile[t][ty] * x_tile[t][tx]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const uint q = q0 + tx, r = r0 + ty;
    if (q <= cols && r < rows)
        partials[(ulong)c * stride + param_off + (ulong)r * (cols + 1) + q] = acc + carry;
}

/* out[p] = sum_{c = 0..n_chunks-1} partials[c * stride + p], p < count,
 * in chunk order (compensated): one work-item per entry, reads coalesced
 * along p. */
__kernel void reduce_partials(__global const double *partials, ulong stride, uint n_chunks, uint count,
                              __global double *out)
{
    const uint p = get_global_id(0);
    if (p >= count)
        return;
    double sum = 0.0, carry = 0.0;
    for (uint c = 0; c < n_chunks; c++)
        add_compensated(&sum, &carry, partials[(ulong)c * stride + p]);
    out[p] = sum + carry;
}
