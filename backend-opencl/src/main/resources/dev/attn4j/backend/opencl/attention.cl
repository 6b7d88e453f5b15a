/*
 * FlashAttention-2 style attention for attn4j, fp32 (docs/design.md §4-5).
 *
 * Compile-time constants (set by the host with -D): HEAD_DIM (D), BLOCK_M (work-items per group: query
 * rows in forward and dQ, key rows in dK/dV), BLOCK_N (rows of the tile staged in local memory), BHSD (1 when
 * q, k, v, o and the gradients are [B, H, S, D] rather than [B, S, H, D]; lse and delta are [B, H, Sq] always).
 *
 * Each work-item owns one row (a query in forward/dQ, a key in dK/dV) and keeps its accumulators in
 * private memory; the other operand streams through local memory one tile at a time, so nothing
 * O(Sq x Sk) is ever stored. The backward recomputes probabilities from lse, dK/dV are summed per key
 * by the one work-item that owns the key (over every query head of its KV group) and dQ is a separate
 * pass over query tiles: no atomics anywhere, so every result is bit-identical run to run.
 */

/*
 * The backward recomputes the forward's scores and rowsum(dO o O) must cancel against dO.v where it should:
 * both only hold bit for bit if every kernel rounds the same expressions the same way, so no contraction
 * into fma behind our back, and the same scale placement and summation order everywhere.
 */
#pragma OPENCL FP_CONTRACT OFF

/*
 * Rows are processed VW floats at a time (explicit SIMD within a work-item: CPU drivers such as POCL
 * vectorise this reliably, GPUs see wide loads).
 */
#if HEAD_DIM % 4 == 0
#define VW 4
typedef float4 vfloat;
#define VLOAD(i, p) vload4((i), (p))
#define VSTORE(v, i, p) vstore4((v), (i), (p))
#define VDOT(a, b) dot((a), (b))
#else
#define VW 1
typedef float vfloat;
#define VLOAD(i, p) ((p)[i])
#define VSTORE(v, i, p) ((p)[i] = (v))
#define VDOT(a, b) ((a) * (b))
#endif
#define NV (HEAD_DIM / VW)

/*
 * Where a head's rows start in a [B, S, N, D] ([B, N, S, D] with BHSD) tensor of N heads and S rows, and how
 * far apart its consecutive rows are. Every kernel reads rows of D floats through these two, so the layout
 * changes addresses only, never the arithmetic or its order.
 */
#ifndef BHSD
#define BHSD 0
#endif
#if BHSD
#define ROW_BASE(bb, hh, n, s) (((long) (bb) * (n) + (hh)) * (long) (s) * HEAD_DIM)
#define ROW_STRIDE(n) HEAD_DIM
#else
#define ROW_BASE(bb, hh, n, s) ((long) (bb) * (s) * (n) * HEAD_DIM + (long) (hh) * HEAD_DIM)
#define ROW_STRIDE(n) ((n) * HEAD_DIM)
#endif

#define FEATURE_ALIBI 1
#define FEATURE_TABLE 2
#define FEATURE_DENSE_MASK 4
#define FEATURE_DENSE_BIAS 8
#define FEATURE_FLASH_MASK 16
#define FEATURE_DROPOUT 32

/* Mask, bias and dropout arguments shared by every attention kernel, in this order. */
#define MOD_PARAMS int causal, int win_left, int win_right, float softcap, int features, \
        __global const float* alibi, int alibi_per_batch, __global const float* table, \
        __global const uchar* dmask, long dmask_bs, long dmask_hs, \
        __global const float* dbias, long dbias_bs, long dbias_hs, \
        __global const int* fmask, int fmask_heads, int fmask_n, \
        uint drop_threshold, float drop_scale, uint seed_lo, uint seed_hi, uint off_lo, uint off_hi
#define MOD_ARGS causal, win_left, win_right, softcap, features, alibi, alibi_per_batch, table, \
        dmask, dmask_bs, dmask_hs, dbias, dbias_bs, dbias_hs, fmask, fmask_heads, fmask_n, \
        drop_threshold, drop_scale, seed_lo, seed_hi, off_lo, off_hi

/* Everything that decides the logits of one (batch, head): built once per work-item. */
typedef struct {
    int sq, sk, off, heads, b, h;
    int causal, win_left, win_right, fmask_n, dropping;
    float softcap, slope, keep_scale;
    __global const float* table;   /* this head's table row, or 0 */
    __global const uchar* dmask;   /* this (b, h)'s [Sq, Sk] mask, or 0 */
    __global const float* dbias;   /* this (b, h)'s [Sq, Sk] bias, or 0 */
    __global const int* fmask;     /* this (b, mask head)'s [Sk, n] row indices, or 0 */
    uint drop_threshold, seed_lo, seed_hi, off_lo, off_hi;
} head_ctx;

inline head_ctx make_head(int b, int h, int sq, int sk, int heads, MOD_PARAMS) {
    head_ctx c;
    c.sq = sq; c.sk = sk; c.off = sk - sq; c.heads = heads; c.b = b; c.h = h;
    c.causal = causal; c.win_left = win_left; c.win_right = win_right; c.softcap = softcap;
    c.slope = (features & FEATURE_ALIBI) ? alibi[alibi_per_batch ? b * heads + h : h] : 0.0f;
    c.table = (features & FEATURE_TABLE) ? table + (long) h * (sq + sk - 1) : 0;
    c.dmask = (features & FEATURE_DENSE_MASK) ? dmask + b * dmask_bs + h * dmask_hs : 0;
    c.dbias = (features & FEATURE_DENSE_BIAS) ? dbias + b * dbias_bs + h * dbias_hs : 0;
    c.fmask = (features & FEATURE_FLASH_MASK)
            ? fmask + ((long) b * fmask_heads + h / (heads / fmask_heads)) * sk * fmask_n : 0;
    c.fmask_n = fmask_n;
    c.dropping = (features & FEATURE_DROPOUT) != 0;
    c.drop_threshold = drop_threshold;
    c.keep_scale = drop_scale;
    c.seed_lo = seed_lo; c.seed_hi = seed_hi; c.off_lo = off_lo; c.off_hi = off_hi;
    return c;
}

/*
 * Window arithmetic (d - win_left, d + win_right, and the tile ranges below) is int: the request records store a
 * window side that excludes no key as -1, so a window is below Sk (left) or Sq (right), Sq + Sk < 2^31, and every
 * such sum stays within +-(Sq + Sk). A window of INT_MAX reaching a kernel would wrap round and mask whole rows.
 */

/* Whether key j is masked for query i (docs/design.md §4 step 4; bottom-right aligned: d = i + Sk - Sq). */
inline int head_masked(const head_ctx* c, int i, int j) {
    int d = i + c->off;
    if ((c->causal && j > d) || (c->win_left >= 0 && j < d - c->win_left)
            || (c->win_right >= 0 && j > d + c->win_right)) {
        return 1;
    }
    if (c->dmask && !c->dmask[(long) i * c->sk + j]) {
        return 1;
    }
    if (c->fmask) {
        __global const int* r = c->fmask + (long) j * c->fmask_n;
        if (c->causal) {
            /* [LTS]: rows >= LTS; [LTS, LTE]: rows in [LTS, LTE). */
            return c->fmask_n == 1 ? i >= r[0] : (i >= r[0] && i < r[1]);
        }
        /* [LTS, UTE]: rows >= LTS or < UTE; [LTS, LTE, UTS, UTE]: rows in [LTS, LTE) or [UTS, UTE). */
        return c->fmask_n == 2 ? (i >= r[0] || i < r[1])
                               : ((i >= r[0] && i < r[1]) || (i >= r[2] && i < r[3]));
    }
    return 0;
}

/* Whether only the causal and window masks apply, so whole tiles can be classified arithmetically. */
inline int head_banded(const head_ctx* c) {
    return !c->dmask && !c->fmask;
}

/* Raw scaled score to logit: softcap, then ALiBi, the relative table and the dense bias (steps 2-3). */
inline float head_logit(const head_ctx* c, float s, int i, int j) {
    if (c->softcap > 0.0f) {
        s = c->softcap * tanh(s / c->softcap);
    }
    int rel = j - (i + c->off);
    if (c->slope != 0.0f) {
        s -= c->slope * (float) abs(rel);
    }
    if (c->table) {
        s += c->table[rel + c->sk - 1];
    }
    if (c->dbias) {
        s += c->dbias[(long) i * c->sk + j];
    }
    return s;
}

/* d logit / d raw score: 1, or 1 - tanh^2 under softcap. */
inline float logit_grad(float s, float softcap) {
    if (softcap > 0.0f) {
        float t = tanh(s / softcap);
        return 1.0f - t * t;
    }
    return 1.0f;
}

/* philox4x32_10 comes from philox.cl, built ahead of this source (ClAttention's SOURCE). */

/*
 * The dropout factor of element (b, h, i, j): 0 when dropped, 1 / (1 - p) when kept, 1 without dropout.
 * Counter mapping of ports' Dropout: n = ((b H + h) Sq + i) Sk + j; kept iff (word[n & 3] >> 8) >= ceil(p 2^24).
 */
inline float head_keep(const head_ctx* c, int i, int j) {
    if (!c->dropping) {
        return 1.0f;
    }
    const ulong n = (((ulong) c->b * c->heads + c->h) * c->sq + i) * c->sk + j;
    const ulong block = n >> 2;
    const uint4 w = philox4x32_10((uint4) ((uint) block, (uint) (block >> 32), c->off_lo, c->off_hi),
                                  (uint2) (c->seed_lo, c->seed_hi));
    const uint lane = (uint) (n & 3);
    const uint word = lane == 0 ? w.x : lane == 1 ? w.y : lane == 2 ? w.z : w.w;
    return (word >> 8) >= c->drop_threshold ? c->keep_scale : 0.0f;
}

/* Keys [*lo, *hi) that the causal and window masks leave to any query in [i0, i1]. */
inline void key_range(const head_ctx* c, int i0, int i1, int* lo, int* hi) {
    int a = 0, b = c->sk;
    if (c->causal) b = min(b, i1 + c->off + 1);
    if (c->win_right >= 0) b = min(b, i1 + c->off + c->win_right + 1);
    if (c->win_left >= 0) a = max(a, i0 + c->off - c->win_left);
    *lo = a;
    *hi = b;
}

/* Queries [*lo, *hi) that the causal and window masks let see any key in [j0, j1]. */
inline void query_range(const head_ctx* c, int j0, int j1, int* lo, int* hi) {
    int a = 0, b = c->sq;
    if (c->causal) a = max(a, j0 - c->off);
    if (c->win_right >= 0) a = max(a, j0 - c->off - c->win_right);
    if (c->win_left >= 0) b = min(b, j1 - c->off + c->win_left + 1);
    *lo = a;
    *hi = b;
}

/* Whether no element of queries [i0, i1] x keys [j0, j1] is masked, so the mask test can be skipped. */
inline int tile_unmasked(const head_ctx* c, int i0, int i1, int j0, int j1) {
    if (!head_banded(c)) return 0;
    if (c->causal && j1 > i0 + c->off) return 0;
    if (c->win_right >= 0 && j1 > i0 + c->off + c->win_right) return 0;
    if (c->win_left >= 0 && j0 < i1 + c->off - c->win_left) return 0;
    return 1;
}

/* Whether FlashMask masks every query of [i0, i1] for key j (conservative: may answer 0 when it does). */
inline int column_masked(const head_ctx* c, int j, int i0, int i1) {
    __global const int* r = c->fmask + (long) j * c->fmask_n;
    if (c->causal) {
        return c->fmask_n == 1 ? r[0] <= i0 : (r[0] <= i0 && r[1] > i1);
    }
    if (c->fmask_n == 2) {
        /* Unmasked rows are [UTE, LTS): the tile is masked when it misses them. */
        return i1 < r[1] || i0 >= r[0] || r[1] >= r[0];
    }
    return (r[0] <= i0 && r[1] > i1) || (r[2] <= i0 && r[3] > i1)
            || (min(r[0], r[2]) <= i0 && max(r[1], r[3]) > i1 && r[1] >= r[2] && r[3] >= r[0]);
}

/*
 * FlashMask's per-tile test: whether every query of [i0, i1] is masked for every key of [j0, j0 + n), so
 * the tile can be skipped. All work-items of the group call it and get the same answer.
 */
inline int flash_tile_masked(const head_ctx* c, int i0, int i1, int j0, int n, volatile __local int* flag, int lid) {
    /* Every barrier is reached by the whole group whatever the mask: no early return around them. */
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0) *flag = c->fmask ? 1 : 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (c->fmask) {
        for (int x = lid; x < n; x += BLOCK_M) {
            if (!column_masked(c, j0 + x, i0, i1)) atomic_and(flag, 0);
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    return *flag;
}

/* Copies rows [r0, r0 + n) of one head (rows row_stride apart from base) into tile[BLOCK_N][HEAD_DIM]. */
inline void stage_rows(__local float* tile, __global const float* src, long base, int row_stride,
                       int r0, int n, int lid) {
    for (int e = lid; e < n * HEAD_DIM; e += BLOCK_M) {
        int r = e / HEAD_DIM, d = e - r * HEAD_DIM;
        tile[e] = src[base + (long) (r0 + r) * row_stride + d];
    }
}

/* stage_rows, multiplying by scale as it copies (queries are scaled before the dot product everywhere). */
inline void stage_scaled_rows(__local float* tile, __global const float* src, long base, int row_stride,
                              int r0, int n, int lid, float scale) {
    for (int e = lid; e < n * HEAD_DIM; e += BLOCK_M) {
        int r = e / HEAD_DIM, d = e - r * HEAD_DIM;
        tile[e] = src[base + (long) (r0 + r) * row_stride + d] * scale;
    }
}

__kernel __attribute__((reqd_work_group_size(BLOCK_M, 1, 1)))
void attn_fwd(__global const float* q, __global const float* k, __global const float* v,
              __global float* o, __global float* lse,
              int sq, int sk, int heads, int kv_heads, float scale, MOD_PARAMS) {
    __local float ks[BLOCK_N * HEAD_DIM];
    __local float vs[BLOCK_N * HEAD_DIM];
    __local int skip;
    const int lid = get_local_id(0);
    const int bh = get_group_id(1);
    const int b = bh / heads, h = bh % heads;
    const int hk = h / (heads / kv_heads);
    const head_ctx ctx = make_head(b, h, sq, sk, heads, MOD_ARGS);
    const int i0 = get_group_id(0) * BLOCK_M;
    const int i1 = min(sq, i0 + BLOCK_M) - 1;
    const int i = i0 + lid;
    const int valid = i < sq;
    const int q_stride = ROW_STRIDE(heads), kv_stride = ROW_STRIDE(kv_heads);
    const long kv_base = ROW_BASE(b, hk, kv_heads, sk);

    vfloat qr[NV];
    vfloat acc[NV];
    float sc[BLOCK_N];
    const long q_off = ROW_BASE(b, h, heads, sq) + (long) (valid ? i : 0) * q_stride;
    for (int x = 0; x < NV; x++) {
        qr[x] = valid ? VLOAD(x, q + q_off) * scale : (vfloat) 0.0f;
        acc[x] = (vfloat) 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    /*
     * The non-finite rule (ports' AttentionOptions): a NaN or +inf logit among the keys a row attends makes its
     * o and lse NaN. fmax drops NaN, and exp(+inf - +inf) would leave l NaN and the row looking empty, so such
     * a logit is recorded here and decides the row at the end.
     */
    int poisoned = 0;
    int lo, hi;
    key_range(&ctx, i0, i1, &lo, &hi);
    for (int j0 = lo; j0 < hi; j0 += BLOCK_N) {
        const int n = min(BLOCK_N, hi - j0);
        /* Skipped tiles still pass every barrier (drivers need uniform barriers), only the work goes. */
        const int masked_tile = flash_tile_masked(&ctx, i0, i1, j0, n, &skip, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (!masked_tile) {
            stage_rows(ks, k, kv_base, kv_stride, j0, n, lid);
            stage_rows(vs, v, kv_base, kv_stride, j0, n, lid);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (valid && !masked_tile) {
            const int full = tile_unmasked(&ctx, i0, i1, j0, j0 + n - 1);
            float mt = m;
            for (int c = 0; c < n; c++) {
                const int j = j0 + c;
                float s = -INFINITY;
                if (full || !head_masked(&ctx, i, j)) {
                    __local const float* kr = ks + c * HEAD_DIM;
                    float dot_ = 0.0f;
                    for (int x = 0; x < NV; x++) dot_ += VDOT(qr[x], VLOAD(x, kr));
                    s = head_logit(&ctx, dot_, i, j);
                    poisoned |= isnan(s) || s == INFINITY;
                }
                sc[c] = s;
                mt = fmax(mt, s);
            }
            if (mt > -INFINITY) {
                const float alpha = exp(m - mt);
                l *= alpha;
                for (int x = 0; x < NV; x++) acc[x] *= alpha;
                for (int c = 0; c < n; c++) {
                    const float p = exp(sc[c] - mt);
                    l += p;
                    /* Dropout thins what reaches o, never the normaliser l (lse is that of the scores). */
                    const float pk = p > 0.0f ? p * head_keep(&ctx, i, j0 + c) : 0.0f;
                    if (pk != 0.0f) {
                        __local const float* vr = vs + c * HEAD_DIM;
                        for (int x = 0; x < NV; x++) acc[x] += pk * VLOAD(x, vr);
                    }
                }
                m = mt;
            }
        }
    }
    if (valid && poisoned) {
        for (int x = 0; x < NV; x++) VSTORE((vfloat) NAN, x, o + q_off);
        lse[((long) b * heads + h) * sq + i] = NAN;
    } else if (valid) {
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int x = 0; x < NV; x++) VSTORE(acc[x] * inv, x, o + q_off);
        lse[((long) b * heads + h) * sq + i] = l > 0.0f ? m + log(l) : -INFINITY;
    }
}

/* delta[b, h, i] = rowsum(dO o O), the D of FlashAttention-2's backward. */
__kernel void attn_bwd_delta(__global const float* dout, __global const float* o, __global float* delta,
                             int sq, int heads) {
#if BHSD
    const int row = get_global_id(0);             /* (b * heads + h) * sq + i: rows of dO and o in order */
    const long base = (long) row * HEAD_DIM;
    const long stat = row;
#else
    const int row = get_global_id(0);             /* (b * sq + i) * heads + h */
    const int h = row % heads;
    const int bi = row / heads;
    const int b = bi / sq, i = bi % sq;
    const long base = (long) row * HEAD_DIM;
    const long stat = ((long) b * heads + h) * sq + i;
#endif
    /* Summed as dO.v is in the dQ and dK/dV kernels, so that a row with one key gets dS = 0 exactly. */
    float s = 0.0f;
    for (int x = 0; x < NV; x++) s += VDOT(VLOAD(x, dout + base), VLOAD(x, o + base));
    delta[stat] = s;
}

/*
 * The gradient of one logit: dS = P (z dP - delta), with z the dropout factor, times d logit / d raw
 * score. *dlogit receives the part before the softcap chain rule (what the bias table's gradient sums).
 */
inline float score_grad(const head_ctx* c, float raw, float row_lse, float dp, float row_delta, int i, int j,
                        float* p_kept, float* dlogit) {
    const float p = exp(head_logit(c, raw, i, j) - row_lse);
    const float z = head_keep(c, i, j);
    *p_kept = p * z;
    *dlogit = p * (z * dp - row_delta);
    return *dlogit * logit_grad(raw, c->softcap);
}

/* dQ: one work-item per query row, K and V tiles streamed through local memory. */
__kernel __attribute__((reqd_work_group_size(BLOCK_M, 1, 1)))
void attn_bwd_dq(__global const float* q, __global const float* k, __global const float* v,
                 __global const float* dout, __global const float* lse, __global const float* delta,
                 __global float* dq, int sq, int sk, int heads, int kv_heads, float scale, MOD_PARAMS) {
    __local float ks[BLOCK_N * HEAD_DIM];
    __local float vs[BLOCK_N * HEAD_DIM];
    __local int skip;
    const int lid = get_local_id(0);
    const int bh = get_group_id(1);
    const int b = bh / heads, h = bh % heads;
    const int hk = h / (heads / kv_heads);
    const head_ctx ctx = make_head(b, h, sq, sk, heads, MOD_ARGS);
    const int i0 = get_group_id(0) * BLOCK_M;
    const int i1 = min(sq, i0 + BLOCK_M) - 1;
    const int i = i0 + lid;
    const int valid = i < sq;
    const int q_stride = ROW_STRIDE(heads), kv_stride = ROW_STRIDE(kv_heads);
    const long kv_base = ROW_BASE(b, hk, kv_heads, sk);

    vfloat qr[NV];
    vfloat dor[NV];
    vfloat acc[NV];
    const long q_off = ROW_BASE(b, h, heads, sq) + (long) (valid ? i : 0) * q_stride;
    const long stat = ((long) b * heads + h) * sq + (valid ? i : 0);
    const float row_lse = lse[stat];
    const float row_delta = delta[stat];
    for (int x = 0; x < NV; x++) {
        qr[x] = valid ? VLOAD(x, q + q_off) * scale : (vfloat) 0.0f;
        dor[x] = valid ? VLOAD(x, dout + q_off) : (vfloat) 0.0f;
        acc[x] = (vfloat) 0.0f;
    }
    /* A fully masked row has lse = -inf: no probability, no gradient. A NaN lse (a NaN row) is live: NaN flows on. */
    const int live = valid && !(row_lse == -INFINITY);
    int lo, hi;
    key_range(&ctx, i0, i1, &lo, &hi);
    for (int j0 = lo; j0 < hi; j0 += BLOCK_N) {
        const int n = min(BLOCK_N, hi - j0);
        /* Skipped tiles still pass every barrier (drivers need uniform barriers), only the work goes. */
        const int masked_tile = flash_tile_masked(&ctx, i0, i1, j0, n, &skip, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (!masked_tile) {
            stage_rows(ks, k, kv_base, kv_stride, j0, n, lid);
            stage_rows(vs, v, kv_base, kv_stride, j0, n, lid);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (live && !masked_tile) {
            const int full = tile_unmasked(&ctx, i0, i1, j0, j0 + n - 1);
            for (int c = 0; c < n; c++) {
                const int j = j0 + c;
                if (!full && head_masked(&ctx, i, j)) continue;
                __local const float* kr = ks + c * HEAD_DIM;
                __local const float* vr = vs + c * HEAD_DIM;
                float dot_ = 0.0f, dp = 0.0f;
                for (int x = 0; x < NV; x++) {
                    dot_ += VDOT(qr[x], VLOAD(x, kr));
                    dp += VDOT(dor[x], VLOAD(x, vr));
                }
                float pk, dl;
                const float ds = score_grad(&ctx, dot_, row_lse, dp, row_delta, i, j, &pk, &dl) * scale;
                for (int x = 0; x < NV; x++) acc[x] += ds * VLOAD(x, kr);
            }
        }
    }
    if (valid) {
        for (int x = 0; x < NV; x++) VSTORE(acc[x], x, dq + q_off);
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
    __local int skip;
    const int lid = get_local_id(0);
    const int bh = get_group_id(1);
    const int b = bh / kv_heads, hk = bh % kv_heads;
    const int group = heads / kv_heads;
    const int j0 = get_group_id(0) * BLOCK_M;
    const int j1 = min(sk, j0 + BLOCK_M) - 1;
    const int j = j0 + lid;
    const int valid = j < sk;
    const int q_stride = ROW_STRIDE(heads), kv_stride = ROW_STRIDE(kv_heads);
    const long kv_off = ROW_BASE(b, hk, kv_heads, sk) + (long) (valid ? j : 0) * kv_stride;

    vfloat kr[NV];
    vfloat vr[NV];
    vfloat dkr[NV];
    vfloat dvr[NV];
    for (int x = 0; x < NV; x++) {
        kr[x] = valid ? VLOAD(x, k + kv_off) : (vfloat) 0.0f;
        vr[x] = valid ? VLOAD(x, v + kv_off) : (vfloat) 0.0f;
        dkr[x] = (vfloat) 0.0f;
        dvr[x] = (vfloat) 0.0f;
    }
    for (int g = 0; g < group; g++) {
        const int h = hk * group + g;
        const head_ctx ctx = make_head(b, h, sq, sk, heads, MOD_ARGS);
        int lo, hi;
        query_range(&ctx, j0, j1, &lo, &hi);
        const long q_base = ROW_BASE(b, h, heads, sq);
        const long stat_base = ((long) b * heads + h) * sq;
        for (int r0 = lo; r0 < hi; r0 += BLOCK_N) {
            const int n = min(BLOCK_N, hi - r0);
            const int masked_tile = flash_tile_masked(&ctx, r0, r0 + n - 1, j0, j1 - j0 + 1, &skip, lid);
            barrier(CLK_LOCAL_MEM_FENCE);
            if (!masked_tile) {
                stage_scaled_rows(qs, q, q_base, q_stride, r0, n, lid, scale);
                stage_rows(dos, dout, q_base, q_stride, r0, n, lid);
                for (int r = lid; r < n; r += BLOCK_M) {
                    lses[r] = lse[stat_base + r0 + r];
                    deltas[r] = delta[stat_base + r0 + r];
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            if (valid && !masked_tile) {
                const int full = tile_unmasked(&ctx, r0, r0 + n - 1, j0, j1);
                for (int c = 0; c < n; c++) {
                    const int i = r0 + c;
                    const float row_lse = lses[c];
                    if (row_lse == -INFINITY) continue;
                    if (!full && head_masked(&ctx, i, j)) continue;
                    __local const float* qrow = qs + c * HEAD_DIM;
                    __local const float* dorow = dos + c * HEAD_DIM;
                    float dot_ = 0.0f, dp = 0.0f;
                    for (int x = 0; x < NV; x++) {
                        dot_ += VDOT(VLOAD(x, qrow), kr[x]);
                        dp += VDOT(VLOAD(x, dorow), vr[x]);
                    }
                    /* qrow holds q * scale: dot_ is the forward's score bit for bit, and dK = sum dS q scale. */
                    float pk, dl;
                    const float ds = score_grad(&ctx, dot_, row_lse, dp, deltas[c], i, j, &pk, &dl);
                    for (int x = 0; x < NV; x++) {
                        dvr[x] += pk * VLOAD(x, dorow);
                        dkr[x] += ds * VLOAD(x, qrow);
                    }
                }
            }
        }
    }
    if (valid) {
        for (int x = 0; x < NV; x++) {
            VSTORE(dkr[x], x, dk + kv_off);
            VSTORE(dvr[x], x, dv + kv_off);
        }
    }
}

/*
 * Gradient of the relative-position table: dT[h][t] sums dS over every (b, i, j) on diagonal
 * j - (i + off) = t - (Sk - 1). One work-item per (h, t) walks its diagonal in order (deterministic);
 * each (i, j) lies on exactly one diagonal, so the work equals one more pass over the scores.
 */
__kernel void attn_bwd_dtable(__global const float* q, __global const float* k, __global const float* v,
                              __global const float* dout, __global const float* lse, __global const float* delta,
                              __global float* dtable, int batch, int sq, int sk, int heads, int kv_heads,
                              float scale, MOD_PARAMS) {
    const int width = sq + sk - 1;
    const int id = get_global_id(0);
    if (id >= heads * width) return;
    const int h = id / width, t = id % width;
    const int hk = h / (heads / kv_heads);
    const int rel = t - (sk - 1);
    const int q_stride = ROW_STRIDE(heads), kv_stride = ROW_STRIDE(kv_heads);
    float sum = 0.0f;
    for (int b = 0; b < batch; b++) {
        const head_ctx ctx = make_head(b, h, sq, sk, heads, MOD_ARGS);
        const int i_lo = max(0, -rel - ctx.off), i_hi = min(sq, sk - rel - ctx.off);
        for (int i = i_lo; i < i_hi; i++) {
            const int j = i + ctx.off + rel;
            const long stat = ((long) b * heads + h) * sq + i;
            const float row_lse = lse[stat];
            if (row_lse == -INFINITY || head_masked(&ctx, i, j)) continue;
            const long qo = ROW_BASE(b, h, heads, sq) + (long) i * q_stride;
            const long ko = ROW_BASE(b, hk, kv_heads, sk) + (long) j * kv_stride;
            float raw = 0.0f, dp = 0.0f;
            for (int x = 0; x < NV; x++) {
                raw += VDOT(VLOAD(x, q + qo) * scale, VLOAD(x, k + ko));
                dp += VDOT(VLOAD(x, dout + qo), VLOAD(x, v + ko));
            }
            float pk, dl;
            score_grad(&ctx, raw, row_lse, dp, delta[stat], i, j, &pk, &dl);
            sum += dl;
        }
    }
    dtable[id] = sum;
}
