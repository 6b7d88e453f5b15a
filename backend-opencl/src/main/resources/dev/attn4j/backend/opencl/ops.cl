/*
 * The model ports' small kernels (docs/design.md §9), fp32: activations and GLUs, element-wise ops, broadcast
 * multiply, token shift, embedding, AdamW, sums of squares and column sums, the Philox uniform fill. One work-item
 * per element unless a comment says otherwise. Every reduction runs in a fixed order (a work-item walking its
 * range in order, or a fixed tree), never with atomics, so results are identical run to run. FP_CONTRACT OFF: the
 * compiler fuses nothing the source does not (fma() where it says so), as the cpu backend computes.
 * Built with philox.cl ahead of it (ClOps' SOURCE).
 */
#pragma OPENCL FP_CONTRACT OFF

#ifdef OPS_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define ACT_GELU 0
#define ACT_GELU_TANH 1
#define ACT_SILU 2
#define ACT_RELU 3

#define SQRT_2_OVER_PI_X2 1.5957691216057308f   /* 2·√(2/π) */
#define KAPPA 0.044715f
#define THREE_KAPPA 0.134145f
#define INV_SQRT_2PI 0.3989422804014327f
#define INV_SQRT_2 0.7071067811865476f

/* Φ(x) = erfc(−x/√2)/2: the tail form keeps its digits for negative x, where 1 + erf(x/√2) would cancel. */
inline float normal_cdf(float x) {
    return 0.5f * erfc(-x * INV_SQRT_2);
}

/*
 * SiLU and tanh-GELU are x·σ(z) (½(1 + tanh(u)) = σ(2u)). With e = exp(−z), σ = 1/(1 + e) and 1 − σ is e·σ for z > 0,
 * 1 − σ otherwise, so neither cancels; exp overflows to +∞, so σ reaches exactly 0 (the cpu backend's ActivationMath).
 */
inline float act(int f, float x) {
    switch (f) {
        case ACT_GELU: return x * normal_cdf(x);
        case ACT_GELU_TANH: {
            const float z = SQRT_2_OVER_PI_X2 * fma(KAPPA * (x * x), x, x);
            return x / (1.0f + exp(-z));
        }
        case ACT_SILU: return x / (1.0f + exp(-x));
        default: return x < 0.0f ? 0.0f : x;
    }
}

/* dy·f'(x). */
inline float act_grad(int f, float x, float dy) {
    switch (f) {
        case ACT_GELU: {
            const float density = INV_SQRT_2PI * exp(-0.5f * x * x);
            return dy * fma(x, density, normal_cdf(x));
        }
        case ACT_GELU_TANH: {
            const float z = SQRT_2_OVER_PI_X2 * fma(KAPPA * (x * x), x, x);
            const float e = exp(-z);
            const float sigma = 1.0f / (1.0f + e);
            const float rest = z > 0.0f ? e * sigma : 1.0f - sigma;
            const float slope = SQRT_2_OVER_PI_X2 * fma(THREE_KAPPA, x * x, 1.0f);
            return dy * fma(x * sigma * rest, slope, sigma);
        }
        case ACT_SILU: {
            const float e = exp(-x);
            const float sigma = 1.0f / (1.0f + e);
            const float rest = x > 0.0f ? e * sigma : 1.0f - sigma;
            return dy * (sigma * fma(x, rest, 1.0f));
        }
        default: return x > 0.0f ? dy : 0.0f;
    }
}

__kernel void act_fwd(int f, __global const float* x, __global float* y, long n) {
    const long i = get_global_id(0);
    if (i < n) y[i] = act(f, x[i]);
}

__kernel void act_bwd(int f, __global const float* x, __global const float* dy, __global float* dx, long n) {
    const long i = get_global_id(0);
    if (i < n) dx[i] = act_grad(f, x[i], dy[i]);
}

/*
 * y[r, c] = a·f(g) with a = value[r·stride + c] and g = gate[gate_at + r·stride + c]; n = rows·F. The concatenated
 * form passes x [..., 2F] as both buffers (read-only aliases, which OpenCL allows) with stride 2F and gate_at F; the
 * split form passes the value and the gate's input [..., F] with stride F and gate_at 0.
 */
__kernel void glu_fwd(int f, __global const float* value, __global const float* gate, __global float* y, long n,
                      int width, int stride, long gate_at) {
    const long i = get_global_id(0);
    if (i < n) {
        const long r = i / width;
        const long at = r * stride + (i - r * width);
        y[i] = value[at] * act(f, gate[gate_at + at]);
    }
}

/*
 * da = dy·f(g), dg = (dy·a)·f'(g), with a and g read as glu_fwd reads them; da goes to dx[r·stride + c] and dg to
 * dx[dgate_at + r·stride + c]: laid out as x when concatenated (dgate_at F), stacked [2, ..., F] when split
 * (dgate_at rows·F = n).
 */
__kernel void glu_bwd(int f, __global const float* value, __global const float* gate, __global const float* dy,
                      __global float* dx, long n, int width, int stride, long gate_at, long dgate_at) {
    const long i = get_global_id(0);
    if (i < n) {
        const long r = i / width;
        const long at = r * stride + (i - r * width);
        const float g = gate[gate_at + at];
        const float d = dy[i];
        dx[at] = d * act(f, g);
        dx[dgate_at + at] = act_grad(f, g, d * value[at]);
    }
}

/* y = a + alpha·b (one rounding). */
__kernel void add(__global const float* a, __global const float* b, float alpha, __global float* y, long n) {
    const long i = get_global_id(0);
    if (i < n) y[i] = fma(alpha, b[i], a[i]);
}

/* y += alpha·x (one rounding); x may be y itself. */
__kernel void axpy(float alpha, __global const float* x, __global float* y, long n) {
    const long i = get_global_id(0);
    if (i < n) y[i] = fma(alpha, x[i], y[i]);
}

__kernel void scale(__global float* x, float alpha, long n) {
    const long i = get_global_id(0);
    if (i < n) x[i] = x[i] * alpha;
}

/* y[r, c] = x[r, c]·v[c] (columns) or ·v[r] (rows); n = rows·C. */
__kernel void bcast_mul(__global const float* x, __global const float* v, int columns, int cols,
                        __global float* y, long n) {
    const long i = get_global_id(0);
    if (i < n) {
        const long r = i / cols;
        y[i] = x[i] * (columns ? v[i - r * cols] : v[r]);
    }
}

/* grad[c] += Σ_r dy[r, c]·x[r, c]: one work-item per column, rows in order (one fma chain). */
__kernel void bcast_grad_cols(__global const float* x, __global const float* dy, int rows, int cols,
                              __global float* grad) {
    const int c = get_global_id(0);
    if (c < cols) {
        float s = 0.0f;
        for (long r = 0; r < rows; r++) s = fma(dy[r * cols + c], x[r * cols + c], s);
        grad[c] = grad[c] + s;
    }
}

/* grad[r] += Σ_c dy[r, c]·x[r, c]: one work-item per row, columns in order. */
__kernel void bcast_grad_rows(__global const float* x, __global const float* dy, int rows, int cols,
                              __global float* grad) {
    const int r = get_global_id(0);
    if (r < rows) {
        const long at = (long) r * cols;
        float s = 0.0f;
        for (int c = 0; c < cols; c++) s = fma(dy[at + c], x[at + c], s);
        grad[r] = grad[r] + s;
    }
}

/* sum[c] += Σ_r x[xOff + r·cols + c] (a bias gradient): one work-item per column, rows in order. */
__kernel void column_sums(__global const float* x, long xOff, int rows, int cols, __global float* sum) {
    const int c = get_global_id(0);
    if (c < cols) {
        float s = 0.0f;
        for (long r = 0; r < rows; r++) s = s + x[xOff + r * cols + c];
        sum[c] = sum[c] + s;
    }
}

/*
 * Token shift over x [B, S, C]: features [begin, begin + count) of token t come from token t − amount of the same row
 * when it exists and is in the same document (segment ids equal, neither negative), else 0; the rest are copied.
 */
__kernel void token_shift(__global const float* x, __global const int* seg, int has_seg, int seq, int cols,
                          int begin, int count, long amount, __global float* y, long n) {
    const long i = get_global_id(0);
    if (i >= n) return;
    const long row = i / cols;
    const int c = (int) (i - row * cols);
    if (c < begin || c >= begin + count) {
        y[i] = x[i];
        return;
    }
    const int t = (int) (row % seq);
    const long src = (long) t - amount;
    bool ok = src >= 0 && src < seq;
    if (ok && has_seg) {
        const long first = row - t;
        const int id = seg[first + t];
        ok = id >= 0 && seg[first + src] == id;
    }
    y[i] = ok ? x[(row - t + src) * cols + c] : 0.0f;
}

/* y[t, :] = table[ids[t], :]; n = T·D. */
__kernel void embed_fwd(__global const float* table, __global const int* ids, int d, __global float* y, long n) {
    const long i = get_global_id(0);
    if (i < n) {
        const long t = i / d;
        y[i] = table[(long) ids[t] * d + (i - t * d)];
    }
}

/*
 * grad[ids[t], c] += dy[t, c]: one work-item per feature c walking every token in order, so no two work-items write
 * one element and each element receives its tokens in token order (deterministic, no atomics, no sorting).
 */
__kernel void embed_bwd(__global const int* ids, __global const float* dy, int tokens, int d, __global float* grad) {
    const int c = get_global_id(0);
    if (c < d) {
        for (long t = 0; t < tokens; t++) {
            const long at = (long) ids[t] * d + c;
            grad[at] = grad[at] + dy[t * d + c];
        }
    }
}

/* sqrt(x) rounded once: in fp64 where the device has it (else the build asks for a correctly rounded sqrt). */
inline float sqrt_rn(float x) {
#ifdef OPS_FP64
    return (float) sqrt((double) x);
#else
    return sqrt(x);
#endif
}

/*
 * One AdamW step (AdamWRequest, torch.optim.AdamW); the constants are computed on the host in double, as PyTorch
 * does in Python. The clipping factor min(1, maxNorm / (√ss + 1e-6)) is computed from the device's accumulator by
 * every work-item alike (clip_grad_norm_'s formula, fp32).
 */
__kernel void adamw(__global float* p, __global const float* g, __global float* m, __global float* v, long n,
                    int clipping, __global const float* ss, float max_norm, float decay, float beta1, float omb1,
                    float beta2, float omb2, float neg_step, float bc2_sqrt, float eps) {
    const long i = get_global_id(0);
    if (i >= n) return;
    float clip = 1.0f;
    if (clipping) {
        clip = fmin(1.0f, max_norm / (sqrt_rn(ss[0]) + 1e-6f));
    }
    const float grad = g[i] * clip;
    const float param = p[i] * decay;
    const float mi = fma(omb1, grad, beta1 * m[i]);
    const float vi = fma(omb2 * grad, grad, beta2 * v[i]);
    const float denom = sqrt_rn(vi) / bc2_sqrt + eps;
    p[i] = fma(neg_step, mi / denom, param);
    m[i] = mi;
    v[i] = vi;
}

/*
 * Sum of squares, pass 1: work-group g sums elements [g·chunk, (g + 1)·chunk): each work-item its strided share in
 * order, then a fixed tree over the group (SUM_WG work-items, a power of two).
 */
__kernel __attribute__((reqd_work_group_size(SUM_WG, 1, 1)))
void sumsq_partial(__global const float* x, long n, long chunk, __global float* partial) {
    __local float red[SUM_WG];
    const int lid = get_local_id(0);
    const long g = get_group_id(0);
    const long from = g * chunk;
    const long to = min(n, from + chunk);
    float s = 0.0f;
    for (long i = from + lid; i < to; i += SUM_WG) s = fma(x[i], x[i], s);
    red[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = SUM_WG / 2; w > 0; w >>= 1) {
        if (lid < w) red[lid] += red[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[g] = red[0];
}

/* Pass 2: acc[0] += the partial sums, added in order by one work-item. */
__kernel void sum_into(__global const float* partial, int count, __global float* acc) {
    if (get_global_id(0) == 0) {
        float s = 0.0f;
        for (int i = 0; i < count; i++) s = s + partial[i];
        acc[0] = acc[0] + s;
    }
}

/*
 * Uniform fill (UniformRequest): element n takes word n & 3 of Philox4x32-10 under key (lo(seed), hi(seed)) and
 * counter (lo(n >> 2), hi(n >> 2), lo(offset), hi(offset)), u = (w >> 8)·2⁻²⁴ (exact), value = fma(u, range, low).
 * One work-item per block of four elements (one Philox call).
 */
__kernel void uniform(__global float* out, long n, uint seed_lo, uint seed_hi, uint off_lo, uint off_hi, float low,
                      float range) {
    const long block = get_global_id(0);
    const long first = block * 4;
    if (first >= n) return;
    const uint4 w = philox4x32_10((uint4) ((uint) block, (uint) (block >> 32), off_lo, off_hi), (uint2) (seed_lo, seed_hi));
    const uint words[4] = {w.x, w.y, w.z, w.w};
    for (int k = 0; k < 4 && first + k < n; k++) {
        out[first + k] = fma((float) (words[k] >> 8) * 0x1.0p-24f, range, low);
    }
}
