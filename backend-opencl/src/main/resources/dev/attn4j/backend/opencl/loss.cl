/*
 * Fused linear cross-entropy, the per-row part (ClLoss drives the chunks and the GEMMs around it). One work-group
 * of CE_WG work-items (a power of two) per row of a chunk's logits z [rows, V]: the row max and Σ exp(z − max) by
 * fixed trees in local memory, lse = max + log(Σ), the loss lse − z[target] (0 for an ignored row), and, when asked,
 * the gradient g = scale·(softmax(z) − onehot(target)) written over the logits in place (0 for an ignored row).
 * Deterministic: every reduction has a fixed shape.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifdef CE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double total_t;
#else
typedef float total_t;
#endif

inline float tree_max(__local float* red, float value, int lid) {
    red[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = CE_WG / 2; w > 0; w >>= 1) {
        if (lid < w) red[lid] = fmax(red[lid], red[lid + w]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

inline float tree_sum(__local float* red, float value, int lid) {
    red[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = CE_WG / 2; w > 0; w >>= 1) {
        if (lid < w) red[lid] += red[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

__kernel __attribute__((reqd_work_group_size(CE_WG, 1, 1)))
void ce_rows(__global float* z, int vocab, __global const int* targets, long row0, int ignore, float scale,
             int grad, __global float* loss) {
    __local float red[CE_WG];
    const int lid = get_local_id(0);
    const long row = get_group_id(0);
    __global float* zr = z + row * vocab;
    const int target = targets[row0 + row];
    // NaN propagates: fmax ignores a NaN operand, so the max is taken without it, but exp(NaN − max) is NaN.
    float m = -INFINITY;
    for (int j = lid; j < vocab; j += CE_WG) m = fmax(m, zr[j]);
    m = tree_max(red, m, lid);
    float s = 0.0f;
    for (int j = lid; j < vocab; j += CE_WG) s += exp(zr[j] - m);
    s = tree_sum(red, s, lid);
    const bool counted = target != ignore;
    // An ignored row's target is negative: never an index, not even one a compiler might load ahead of the test.
    const int at = counted ? target : 0;
    if (lid == 0) {
        const float zt = zr[at];
        loss[row0 + row] = counted ? (m + log(s)) - zt : 0.0f;
    }
    // Every work-item has read what it needs of the row (the trees' barriers), and work-item 0 the target's logit
    // above: wait for it before any work-item overwrites the row. Outside the branch: POCL 3.1 mishandles barriers
    // under conditions (backend-opencl/README.md).
    barrier(CLK_GLOBAL_MEM_FENCE);
    if (grad) {
        const float inv = 1.0f / s;
        for (int j = lid; j < vocab; j += CE_WG) {
            const float p = exp(zr[j] - m) * inv;
            zr[j] = counted ? scale * (p - (j == at ? 1.0f : 0.0f)) : 0.0f;
        }
    }
}

/*
 * lossSum[0] = Σ loss[r], count[0] = the rows counted, both in row order by one work-item; the sum in fp64 where the
 * device has it, so the total of thousands of rows is rounded once (an fp32 running sum drifts by ulps of the total).
 */
__kernel void ce_total(__global const float* loss, __global const int* targets, long rows, int ignore,
                       __global float* loss_sum, __global float* count) {
    if (get_global_id(0) == 0) {
        total_t s = 0;
        long c = 0;
        for (long r = 0; r < rows; r++) {
            s = s + (total_t) loss[r];
            c += targets[r] != ignore ? 1 : 0;
        }
        loss_sum[0] = (float) s;
        count[0] = (float) c;
    }
}
