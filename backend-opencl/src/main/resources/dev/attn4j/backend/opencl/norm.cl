/*
 * LayerNorm / RMSNorm over the last dimension, fp32, with the fused residual form h = alpha * residual + x
 * (docs/design.md §5; semantics in ports/norm). One work-group of NORM_WG (a power of two) work-items per row;
 * reductions are fixed trees in local memory, so results are identical run to run.
 */

#ifdef NORM_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/*
 * rstd = 1 / sqrt(v + eps), rounded once where the device has fp64: in fp32 the sqrt and the divide each
 * round, which leaves e.g. 1/sqrt(1e-6) one ulp below the exact 1000.
 */
inline float inv_sqrt_eps(float v, float eps) {
#ifdef NORM_FP64
    return (float) (1.0 / sqrt((double) v + (double) eps));
#else
    return 1.0f / sqrt(v + eps);
#endif
}

inline float reduce_sum(__local float* red, float value, int lid) {
    red[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = NORM_WG / 2; w > 0; w >>= 1) {
        if (lid < w) red[lid] += red[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

inline float norm_input(__global const float* x, __global const float* res, float alpha, int has_res, long e) {
    return has_res ? alpha * res[e] + x[e] : x[e];
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void norm_fwd(__global const float* x, __global const float* res, float alpha, int has_res,
              __global const float* gamma, __global const float* beta, int has_beta, int layer_norm,
              float eps, int cols, __global float* y, __global float* mean_out, __global float* rstd_out,
              __global float* sum_out) {
    __local float red[NORM_WG];
    const int lid = get_local_id(0);
    const int row = get_group_id(0);
    const long base = (long) row * cols;
    float acc = 0.0f;
    for (int c = lid; c < cols; c += NORM_WG) {
        const float h = norm_input(x, res, alpha, has_res, base + c);
        if (has_res) sum_out[base + c] = h;
        acc += h;
    }
    const float mean = layer_norm ? reduce_sum(red, acc, lid) / cols : 0.0f;
    /* Second pass around the mean: no cancellation from E[h^2] - E[h]^2. */
    acc = 0.0f;
    for (int c = lid; c < cols; c += NORM_WG) {
        const float t = norm_input(x, res, alpha, has_res, base + c) - mean;
        acc += t * t;
    }
    const float rstd = inv_sqrt_eps(reduce_sum(red, acc, lid) / cols, eps);
    for (int c = lid; c < cols; c += NORM_WG) {
        const float t = (norm_input(x, res, alpha, has_res, base + c) - mean) * rstd * gamma[c];
        y[base + c] = has_beta ? t + beta[c] : t;
    }
    if (lid == 0) {
        if (layer_norm) mean_out[row] = mean;
        rstd_out[row] = rstd;
    }
}

/*
 * dh = rstd * (g - mean(g) - xhat * mean(g * xhat)) (+ dSum), g = dy * gamma, xhat = (h - mean) * rstd;
 * RMSNorm drops the mean(g) term (its mean is 0). Writes dInput = dh and dResidual = alpha * dh.
 */
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void norm_bwd_input(__global const float* hin, __global const float* dy, __global const float* dsum, int has_dsum,
                    __global const float* gamma, __global const float* mean_in, __global const float* rstd_in,
                    int layer_norm, int cols, float alpha, int has_res,
                    __global float* dinput, __global float* dresidual) {
    __local float red[NORM_WG];
    const int lid = get_local_id(0);
    const int row = get_group_id(0);
    const long base = (long) row * cols;
    const float mean = layer_norm ? mean_in[row] : 0.0f;
    const float rstd = rstd_in[row];
    float sg = 0.0f, sgx = 0.0f;
    for (int c = lid; c < cols; c += NORM_WG) {
        const float g = dy[base + c] * gamma[c];
        const float xhat = (hin[base + c] - mean) * rstd;
        sg += g;
        sgx += g * xhat;
    }
    const float mg = layer_norm ? reduce_sum(red, sg, lid) / cols : 0.0f;
    const float mgx = reduce_sum(red, sgx, lid) / cols;
    for (int c = lid; c < cols; c += NORM_WG) {
        const float g = dy[base + c] * gamma[c];
        const float xhat = (hin[base + c] - mean) * rstd;
        float dh = rstd * (g - mg - xhat * mgx);
        if (has_dsum) dh += dsum[base + c];
        dinput[base + c] = dh;
        if (has_res) dresidual[base + c] = alpha * dh;
    }
}

/* dGamma = sum over rows of dy * xhat, dBeta = sum of dy: one work-item per column, rows in order. */
__kernel void norm_bwd_params(__global const float* hin, __global const float* dy, __global const float* mean_in,
                              __global const float* rstd_in, int layer_norm, int rows, int cols, int has_beta,
                              __global float* dgamma, __global float* dbeta) {
    const int c = get_global_id(0);
    if (c >= cols) return;
    float sg = 0.0f, sb = 0.0f;
    for (int r = 0; r < rows; r++) {
        const long e = (long) r * cols + c;
        const float mean = layer_norm ? mean_in[r] : 0.0f;
        sg += dy[e] * (hin[e] - mean) * rstd_in[r];
        sb += dy[e];
    }
    dgamma[c] = sg;
    if (has_beta) dbeta[c] = sb;
}
