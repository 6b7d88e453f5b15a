/*
 * FlashAttention-2 style attention for attn4j, fp32 (DESIGN §4-5).
 *
 * Compile-time constants (set by the host with -D): HEAD_DIM (D), BLOCK_M (work-items per group: query
 * rows in forward and dQ, key rows in dK/dV), BLOCK_N (rows of the tile staged in local memory).
 *
 * Each work-item owns one row (a query in forward/dQ, a key in dK/dV) and keeps its accumulators in
 * private memory; the other operand streams through local memory one tile at a time, so nothing
 * O(Sq x Sk) is ever stored. The backward recomputes probabilities from lse, dK/dV are summed per key
 * by the one work-item that owns the key (over every query head of its KV group) and dQ is a separate
 * pass over query tiles: no atomics anywhere, so every result is bit-identical run to run.
 */

#define FEATURE_ALIBI 1
#define FEATURE_TABLE 2

/* Mask and bias arguments shared by every attention kernel, in this order. */
#define MOD_PARAMS int causal, int win_left, int win_right, float softcap, int features, \
                   __global const float* alibi, int alibi_per_batch, __global const float* table

/* Whether key j is masked for query i (causal and window, bottom-right aligned: d = i + Sk - Sq). */
inline int attn_masked(int i, int j, int off, int causal, int win_left, int win_right) {
    int d = i + off;
    return (causal && j > d) || (win_left >= 0 && j < d - win_left) || (win_right >= 0 && j > d + win_right);
}

/* Raw scaled score to logit: softcap, then ALiBi and the relative table (DESIGN §4 steps 2-3). */
inline float attn_logit(float s, float softcap, float slope, __global const float* table_row,
                        int i, int j, int off, int sk) {
    if (softcap > 0.0f) {
        s = softcap * tanh(s / softcap);
    }
    int rel = j - (i + off);
    if (slope != 0.0f) {
        s -= slope * (float) abs(rel);
    }
    if (table_row) {
        s += table_row[rel + sk - 1];
    }
    return s;
}

/* d logit / d raw score: 1, or 1 - tanh^2 under softcap. */
inline float attn_logit_grad(float s, float softcap) {
    if (softcap > 0.0f) {
        float t = tanh(s / softcap);
        return 1.0f - t * t;
    }
    return 1.0f;
}

inline float head_slope(int features, __global const float* alibi, int alibi_per_batch, int b, int h, int heads) {
    return (features & FEATURE_ALIBI) ? alibi[alibi_per_batch ? b * heads + h : h] : 0.0f;
}

inline __global const float* head_table(int features, __global const float* table, int h, int sq, int sk) {
    return (features & FEATURE_TABLE) ? table + (long) h * (sq + sk - 1) : 0;
}

/* Keys [*lo, *hi) that any query in [i0, i1] may attend to. */
inline void key_range(int i0, int i1, int off, int sk, int causal, int win_left, int win_right, int* lo, int* hi) {
    int a = 0, b = sk;
    if (causal) b = min(b, i1 + off + 1);
    if (win_right >= 0) b = min(b, i1 + off + win_right + 1);
    if (win_left >= 0) a = max(a, i0 + off - win_left);
    *lo = a;
    *hi = b;
}

/* Whether no element of queries [i0, i1] x keys [j0, j1] is masked, so the mask test can be skipped. */
inline int tile_unmasked(int i0, int i1, int j0, int j1, int off, int causal, int win_left, int win_right) {
    if (causal && j1 > i0 + off) return 0;
    if (win_right >= 0 && j1 > i0 + off + win_right) return 0;
    if (win_left >= 0 && j0 < i1 + off - win_left) return 0;
    return 1;
}

/* Copies rows [r0, r0 + n) of one head of a [B, S, Hx, D] tensor into tile[BLOCK_N][HEAD_DIM]. */
inline void stage_rows(__local float* tile, __global const float* src, long base, int row_stride,
                       int r0, int n, int lid) {
    for (int e = lid; e < n * HEAD_DIM; e += BLOCK_M) {
        int r = e / HEAD_DIM, d = e - r * HEAD_DIM;
        tile[e] = src[base + (long) (r0 + r) * row_stride + d];
    }
}

__kernel __attribute__((reqd_work_group_size(BLOCK_M, 1, 1)))
void attn_fwd(__global const float* q, __global const float* k, __global const float* v,
              __global float* o, __global float* lse,
              int sq, int sk, int heads, int kv_heads, float scale, MOD_PARAMS) {
    __local float ks[BLOCK_N * HEAD_DIM];
    __local float vs[BLOCK_N * HEAD_DIM];
    const int lid = get_local_id(0);
    const int bh = get_group_id(1);
    const int b = bh / heads, h = bh % heads;
    const int hk = h / (heads / kv_heads);
    const int off = sk - sq;
    const int i0 = get_group_id(0) * BLOCK_M;
    const int i1 = min(sq, i0 + BLOCK_M) - 1;
    const int i = i0 + lid;
    const int valid = i < sq;
    const int q_stride = heads * HEAD_DIM, kv_stride = kv_heads * HEAD_DIM;
    const long kv_base = (long) b * sk * kv_stride + (long) hk * HEAD_DIM;
    const float slope = head_slope(features, alibi, alibi_per_batch, b, h, heads);
    __global const float* trow = head_table(features, table, h, sq, sk);

    float qr[HEAD_DIM];
    float acc[HEAD_DIM];
    float sc[BLOCK_N];
    const long q_off = ((long) b * sq + (valid ? i : 0)) * q_stride + (long) h * HEAD_DIM;
    for (int d = 0; d < HEAD_DIM; d++) {
        qr[d] = valid ? q[q_off + d] * scale : 0.0f;
        acc[d] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    int lo, hi;
    key_range(i0, i1, off, sk, causal, win_left, win_right, &lo, &hi);
    for (int j0 = lo; j0 < hi; j0 += BLOCK_N) {
        const int n = min(BLOCK_N, hi - j0);
        barrier(CLK_LOCAL_MEM_FENCE);
        stage_rows(ks, k, kv_base, kv_stride, j0, n, lid);
        stage_rows(vs, v, kv_base, kv_stride, j0, n, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (valid) {
            const int full = tile_unmasked(i0, i1, j0, j0 + n - 1, off, causal, win_left, win_right);
            float mt = m;
            for (int c = 0; c < n; c++) {
                const int j = j0 + c;
                float s = -INFINITY;
                if (full || !attn_masked(i, j, off, causal, win_left, win_right)) {
                    float dot = 0.0f;
                    for (int d = 0; d < HEAD_DIM; d++) dot += qr[d] * ks[c * HEAD_DIM + d];
                    s = attn_logit(dot, softcap, slope, trow, i, j, off, sk);
                }
                sc[c] = s;
                mt = fmax(mt, s);
            }
            if (mt > -INFINITY) {
                const float alpha = exp(m - mt);
                l *= alpha;
                for (int d = 0; d < HEAD_DIM; d++) acc[d] *= alpha;
                for (int c = 0; c < n; c++) {
                    const float p = exp(sc[c] - mt);
                    l += p;
                    for (int d = 0; d < HEAD_DIM; d++) acc[d] += p * vs[c * HEAD_DIM + d];
                }
                m = mt;
            }
        }
    }
    if (valid) {
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int d = 0; d < HEAD_DIM; d++) o[q_off + d] = acc[d] * inv;
        lse[((long) b * heads + h) * sq + i] = l > 0.0f ? m + log(l) : -INFINITY;
    }
}

/* delta[b, h, i] = rowsum(dO o O), the D of FlashAttention-2's backward. */
__kernel void attn_bwd_delta(__global const float* dout, __global const float* o, __global float* delta,
                             int sq, int heads) {
    const int row = get_global_id(0);             /* (b * sq + i) * heads + h */
    const int h = row % heads;
    const int bi = row / heads;
    const int b = bi / sq, i = bi % sq;
    const long base = (long) row * HEAD_DIM;
    float s = 0.0f;
    for (int d = 0; d < HEAD_DIM; d++) s += dout[base + d] * o[base + d];
    delta[((long) b * heads + h) * sq + i] = s;
}

/* dQ: one work-item per query row, K and V tiles streamed through local memory. */
__kernel __attribute__((reqd_work_group_size(BLOCK_M, 1, 1)))
void attn_bwd_dq(__global const float* q, __global const float* k, __global const float* v,
                 __global const float* dout, __global const float* lse, __global const float* delta,
                 __global float* dq, int sq, int sk, int heads, int kv_heads, float scale, MOD_PARAMS) {
    __local float ks[BLOCK_N * HEAD_DIM];
    __local float vs[BLOCK_N * HEAD_DIM];
    const int lid = get_local_id(0);
    const int bh = get_group_id(1);
    const int b = bh / heads, h = bh % heads;
    const int hk = h / (heads / kv_heads);
    const int off = sk - sq;
    const int i0 = get_group_id(0) * BLOCK_M;
    const int i1 = min(sq, i0 + BLOCK_M) - 1;
    const int i = i0 + lid;
    const int valid = i < sq;
    const int q_stride = heads * HEAD_DIM, kv_stride = kv_heads * HEAD_DIM;
    const long kv_base = (long) b * sk * kv_stride + (long) hk * HEAD_DIM;
    const float slope = head_slope(features, alibi, alibi_per_batch, b, h, heads);
    __global const float* trow = head_table(features, table, h, sq, sk);

    float qr[HEAD_DIM];
    float dor[HEAD_DIM];
    float acc[HEAD_DIM];
    const long q_off = ((long) b * sq + (valid ? i : 0)) * q_stride + (long) h * HEAD_DIM;
    const long stat = ((long) b * heads + h) * sq + (valid ? i : 0);
    const float row_lse = lse[stat];
    const float row_delta = delta[stat];
    for (int d = 0; d < HEAD_DIM; d++) {
        qr[d] = valid ? q[q_off + d] * scale : 0.0f;
        dor[d] = valid ? dout[q_off + d] : 0.0f;
        acc[d] = 0.0f;
    }
    /* A fully masked row has lse = -inf: no probability, no gradient. */
    const int live = valid && row_lse > -INFINITY;
    int lo, hi;
    key_range(i0, i1, off, sk, causal, win_left, win_right, &lo, &hi);
    for (int j0 = lo; j0 < hi; j0 += BLOCK_N) {
        const int n = min(BLOCK_N, hi - j0);
        barrier(CLK_LOCAL_MEM_FENCE);
        stage_rows(ks, k, kv_base, kv_stride, j0, n, lid);
        stage_rows(vs, v, kv_base, kv_stride, j0, n, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (live) {
            const int full = tile_unmasked(i0, i1, j0, j0 + n - 1, off, causal, win_left, win_right);
            for (int c = 0; c < n; c++) {
                const int j = j0 + c;
                if (!full && attn_masked(i, j, off, causal, win_left, win_right)) continue;
                float dot = 0.0f, dp = 0.0f;
                for (int d = 0; d < HEAD_DIM; d++) {
                    dot += qr[d] * ks[c * HEAD_DIM + d];
                    dp += dor[d] * vs[c * HEAD_DIM + d];
                }
                const float p = exp(attn_logit(dot, softcap, slope, trow, i, j, off, sk) - row_lse);
                const float ds = p * (dp - row_delta) * attn_logit_grad(dot, softcap) * scale;
                for (int d = 0; d < HEAD_DIM; d++) acc[d] += ds * ks[c * HEAD_DIM + d];
            }
        }
    }
    if (valid) {
        for (int d = 0; d < HEAD_DIM; d++) dq[q_off + d] = acc[d];
    }
}

/*
 * dK and dV: one work-item per key row, summing over every query head of its KV group (GQA) and every
 * query tile that can see the key; Q, dO, lse and delta tiles are staged in local memory.
 */
__kernel __attribute__((reqd_work_group_size(BLOCK_M, 1, 1)))
void attn_bwd_dkdv(__global const float* q, __global const float* k, __global const float* v,
                   __global const float* dout, __global const float* lse, __global const float* delta,
                   __global float* dk, __global float* dv,
                   int sq, int sk, int heads, int kv_heads, float scale, MOD_PARAMS) {
    __local float qs[BLOCK_N * HEAD_DIM];
    __local float dos[BLOCK_N * HEAD_DIM];
    __local float lses[BLOCK_N];
    __local float deltas[BLOCK_N];
    const int lid = get_local_id(0);
    const int bh = get_group_id(1);
    const int b = bh / kv_heads, hk = bh % kv_heads;
    const int group = heads / kv_heads;
    const int off = sk - sq;
    const int j0 = get_group_id(0) * BLOCK_M;
    const int j1 = min(sk, j0 + BLOCK_M) - 1;
    const int j = j0 + lid;
    const int valid = j < sk;
    const int q_stride = heads * HEAD_DIM, kv_stride = kv_heads * HEAD_DIM;
    const long kv_off = ((long) b * sk + (valid ? j : 0)) * kv_stride + (long) hk * HEAD_DIM;

    float kr[HEAD_DIM];
    float vr[HEAD_DIM];
    float dkr[HEAD_DIM];
    float dvr[HEAD_DIM];
    for (int d = 0; d < HEAD_DIM; d++) {
        kr[d] = valid ? k[kv_off + d] : 0.0f;
        vr[d] = valid ? v[kv_off + d] : 0.0f;
        dkr[d] = 0.0f;
        dvr[d] = 0.0f;
    }
    /* Queries [lo, hi) that can see any key of [j0, j1]. */
    int lo = 0, hi = sq;
    if (causal) lo = max(lo, j0 - off);
    if (win_right >= 0) lo = max(lo, j0 - off - win_right);
    if (win_left >= 0) hi = min(hi, j1 - off + win_left + 1);
    for (int g = 0; g < group; g++) {
        const int h = hk * group + g;
        const float slope = head_slope(features, alibi, alibi_per_batch, b, h, heads);
        __global const float* trow = head_table(features, table, h, sq, sk);
        const long q_base = (long) b * sq * q_stride + (long) h * HEAD_DIM;
        const long stat_base = ((long) b * heads + h) * sq;
        for (int r0 = lo; r0 < hi; r0 += BLOCK_N) {
            const int n = min(BLOCK_N, hi - r0);
            barrier(CLK_LOCAL_MEM_FENCE);
            stage_rows(qs, q, q_base, q_stride, r0, n, lid);
            stage_rows(dos, dout, q_base, q_stride, r0, n, lid);
            for (int r = lid; r < n; r += BLOCK_M) {
                lses[r] = lse[stat_base + r0 + r];
                deltas[r] = delta[stat_base + r0 + r];
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            if (valid) {
                const int full = tile_unmasked(r0, r0 + n - 1, j0, j1, off, causal, win_left, win_right);
                for (int c = 0; c < n; c++) {
                    const int i = r0 + c;
                    const float row_lse = lses[c];
                    if (row_lse == -INFINITY) continue;
                    if (!full && attn_masked(i, j, off, causal, win_left, win_right)) continue;
                    float dot = 0.0f, dp = 0.0f;
                    for (int d = 0; d < HEAD_DIM; d++) {
                        dot += qs[c * HEAD_DIM + d] * kr[d];
                        dp += dos[c * HEAD_DIM + d] * vr[d];
                    }
                    dot *= scale;
                    const float p = exp(attn_logit(dot, softcap, slope, trow, i, j, off, sk) - row_lse);
                    const float ds = p * (dp - deltas[c]) * attn_logit_grad(dot, softcap) * scale;
                    for (int d = 0; d < HEAD_DIM; d++) {
                        dvr[d] += p * dos[c * HEAD_DIM + d];
                        dkr[d] += ds * qs[c * HEAD_DIM + d];
                    }
                }
            }
        }
    }
    if (valid) {
        for (int d = 0; d < HEAD_DIM; d++) {
            dk[kv_off + d] = dkr[d];
            dv[kv_off + d] = dvr[d];
        }
    }
}
