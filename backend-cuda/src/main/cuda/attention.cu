// Attention forward and backward in the structure of FlashAttention-2 (docs/design.md §4-5), fp32 arithmetic.
//
// Layouts: q, o, dO [B, Sq, H, D]; k, v, dK, dV [B, Sk, Hkv, D]; lse, delta [B, H, Sq] (fp32).
// Query head h reads KV head h / (H / Hkv). Causal masks are bottom-right aligned: with off = Sk - Sq,
// key j is visible to query i iff j <= i + off. A row with no visible key gets o = 0, lse = -inf.
//
// Thread layout: a block of THREADS threads owns ROWS rows (queries, or keys in the dK/dV pass); the TPR
// consecutive lanes of a row each hold ELEMS of its D values, interleaved (lane c holds d = c + e*TPR), so
// that global loads coalesce and shared-memory reads broadcast. Dot products are summed across the TPR
// lanes with shuffles. Tiles of the other operand stream through shared memory, converted to fp32.
//
// Kernels are instantiated per storage type and per DMAX (the head dimension rounded up to 32, 64, 128 or
// 256); dims beyond the real D are held as zeros.
#include "mods.cuh"

// A hook the host emulation uses to count skipped tiles; nothing on the device.
#ifndef ATTN4J_TILE_SKIPPED
#define ATTN4J_TILE_SKIPPED()
#endif

using namespace attn4j;

namespace {

constexpr int THREADS = 128;

template <int DMAX>
struct Tiling {
    static constexpr int ELEMS = 16;                     // values of a row per thread
    static constexpr int TPR = DMAX / ELEMS;             // threads per row: 2, 4, 8, 16
    static constexpr int ROWS = THREADS / TPR;           // rows per block: 64, 32, 16, 8
    static constexpr int TILE = DMAX <= 128 ? 32 : 16;   // rows of the streamed operand per shared tile
};

__device__ __forceinline__ size_t rowIndex(int b, int seq, int s, int heads, int h, int D) {
    return ((static_cast<size_t>(b) * seq + s) * heads + h) * static_cast<size_t>(D);
}

// Loads rows [first, first + TILE) of a [B, seq, heads, D] tensor (head `head`) into shared memory,
// zero-filling rows past `seq` and dims past D.
template <typename T, int DMAX, int TILE>
__device__ __forceinline__ void loadTile(float (*dst)[DMAX], const T* __restrict__ src, int b, int first, int seq,
                                         int heads, int head, int D) {
    for (int idx = threadIdx.x; idx < TILE * DMAX; idx += THREADS) {
        const int r = idx / DMAX;
        const int d = idx % DMAX;
        const int s = first + r;
        dst[r][d] = (s < seq && d < D) ? ld(src[rowIndex(b, seq, s, heads, head, D) + d]) : 0.0f;
    }
}

// Loads this thread's ELEMS values of one row into registers (zeros when the row does not exist).
template <typename T, int DMAX>
__device__ __forceinline__ void loadRow(float* dst, const T* __restrict__ src, bool exists, size_t base, int c, int D) {
    using P = Tiling<DMAX>;
#pragma unroll
    for (int e = 0; e < P::ELEMS; ++e) {
        const int d = c + e * P::TPR;
        dst[e] = (exists && d < D) ? ld(src[base + d]) : 0.0f;
    }
}

template <typename T, int DMAX>
__device__ __forceinline__ void storeRow(T* __restrict__ dst, const float* src, float factor, size_t base, int c, int D) {
    using P = Tiling<DMAX>;
#pragma unroll
    for (int e = 0; e < P::ELEMS; ++e) {
        const int d = c + e * P::TPR;
        if (d < D) {
            dst[base + d] = st<T>(src[e] * factor);
        }
    }
}

// FlashMask's per-tile test, taken by the whole block: whether key j of this thread's vote (see callers) is
// masked for every query of [i0, i1]. Without a FlashMask no tile is skipped this way.
template <typename T>
__device__ __forceinline__ bool flashTileMasked(const Head<T>& hd, bool vote) {
    const bool skip = hd.fmask != nullptr && __syncthreads_and(vote ? 1 : 0) != 0;
    if (skip && threadIdx.x == 0) {
        ATTN4J_TILE_SKIPPED();
    }
    return skip;
}

// Forward: one block per (query tile, head, batch). Online softmax over the key tiles the causal and window
// masks leave to the block's rows; tiles that FlashMask masks for every row of the block are skipped.
template <typename T, int DMAX>
__device__ void attentionForward(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                 T* __restrict__ o, float* __restrict__ lse,
                                 int Sq, int Sk, int H, int Hkv, int D, float scale, const Mods& mods) {
    using P = Tiling<DMAX>;
    __shared__ float ks[P::TILE][DMAX];
    __shared__ float vs[P::TILE][DMAX];

    const int r = threadIdx.x / P::TPR;
    const int c = threadIdx.x % P::TPR;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int kvh = h / (H / Hkv);
    const int i0 = blockIdx.x * P::ROWS;
    const int i = i0 + r;
    const bool rowExists = i < Sq;
    const Head<T> hd(mods, b, h, Sq, Sk, H);

    float qr[P::ELEMS];
    float acc[P::ELEMS];
    loadRow<T, DMAX>(qr, q, rowExists, rowIndex(b, Sq, i, H, h, D), c, D);
#pragma unroll
    for (int e = 0; e < P::ELEMS; ++e) {
        acc[e] = 0.0f;
    }
    float m = -CUDART_INF_F;
    float l = 0.0f;
    // The non-finite rule (ports' AttentionOptions): a NaN or +inf logit among the keys a row attends makes its o
    // and lse NaN. fmaxf drops NaN and expf(inf - inf) would leave the row looking empty, so such a logit is
    // recorded here and decides the row at the end.
    bool poisoned = false;

    const int lastRow = min(Sq, i0 + P::ROWS) - 1;
    int kvLo, kvHi;
    hd.keyRange(i0, lastRow, kvLo, kvHi);
    for (int j0 = kvLo / P::TILE * P::TILE; j0 < kvHi; j0 += P::TILE) {
        const int jv = j0 + static_cast<int>(threadIdx.x);
        if (flashTileMasked(hd, threadIdx.x >= P::TILE || jv >= Sk || hd.columnMasked(jv, i0, lastRow))) {
            continue;
        }
        __syncthreads();  // everyone is done with the previous tile
        loadTile<T, DMAX, P::TILE>(ks, k, b, j0, Sk, Hkv, kvh, D);
        loadTile<T, DMAX, P::TILE>(vs, v, b, j0, Sk, Hkv, kvh, D);
        __syncthreads();
        const bool needMask = j0 + P::TILE > Sk || !hd.tileUnmasked(i0, lastRow, j0, j0 + P::TILE - 1);

        float s[P::TILE];
        float tileMax = -CUDART_INF_F;
#pragma unroll
        for (int jj = 0; jj < P::TILE; ++jj) {
            float partial = 0.0f;
#pragma unroll
            for (int e = 0; e < P::ELEMS; ++e) {
                partial = fmaf(qr[e], ks[jj][c + e * P::TPR], partial);
            }
            float x = groupSum<P::TPR>(partial) * scale;
            const int j = j0 + jj;
            if (!rowExists || (needMask && (j >= Sk || hd.masked(i, j)))) {
                x = -CUDART_INF_F;
            } else {
                x = hd.logit(x, i, j);
                poisoned |= isnan(x) || x == CUDART_INF_F;
            }
            s[jj] = x;
            tileMax = fmaxf(tileMax, x);
        }
        const float mNew = fmaxf(m, tileMax);
        if (mNew != -CUDART_INF_F) {  // otherwise every key so far is masked for this row: nothing to add
            const float correction = expf(m - mNew);
            float tileSum = 0.0f;
#pragma unroll
            for (int jj = 0; jj < P::TILE; ++jj) {
                s[jj] = expf(s[jj] - mNew);
                tileSum += s[jj];  // lse is that of the scores before dropout
                if (hd.dropping() && s[jj] != 0.0f) {
                    s[jj] *= hd.keep(i, j0 + jj);
                }
            }
            l = l * correction + tileSum;
#pragma unroll
            for (int e = 0; e < P::ELEMS; ++e) {
                float a = acc[e] * correction;
#pragma unroll
                for (int jj = 0; jj < P::TILE; ++jj) {
                    a = fmaf(s[jj], vs[jj][c + e * P::TPR], a);
                }
                acc[e] = a;
            }
            m = mNew;
        }
    }

    if (rowExists) {
        const bool empty = l == 0.0f;  // l >= 1 as soon as one key is visible
        // A NaN factor makes every feature NaN (NaN times anything is NaN).
        storeRow<T, DMAX>(o, acc, poisoned ? CUDART_NAN_F : empty ? 0.0f : 1.0f / l, rowIndex(b, Sq, i, H, h, D), c, D);
        if (c == 0) {
            lse[(static_cast<size_t>(b) * H + h) * Sq + i] = poisoned ? CUDART_NAN_F : empty ? -CUDART_INF_F : m + logf(l);
        }
    }
}

// delta[b, h, i] = sum_d dO * o: one warp per row.
template <typename T>
__device__ void attentionDelta(const T* __restrict__ dO, const T* __restrict__ o, float* __restrict__ delta,
                               int B, int Sq, int H, int D) {
    const long long row = static_cast<long long>(blockIdx.x) * (THREADS / 32) + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const long long rows = static_cast<long long>(B) * H * Sq;
    float partial = 0.0f;
    size_t base = 0;
    if (row < rows) {
        const int i = static_cast<int>(row % Sq);
        const int h = static_cast<int>((row / Sq) % H);
        const int b = static_cast<int>(row / (static_cast<long long>(Sq) * H));
        base = rowIndex(b, Sq, i, H, h, D);
        for (int d = lane; d < D; d += 32) {
            partial = fmaf(ld(dO[base + d]), ld(o[base + d]), partial);
        }
    }
    const float total = groupSum<32>(partial);
    if (row < rows && lane == 0) {
        delta[row] = total;
    }
}

// The gradient of one raw score: dS = P (z dP - delta) times d logit / d raw, with z the dropout factor.
// pKept receives P z (what dV sums). Zero for masked scores and empty rows.
template <typename T>
__device__ __forceinline__ float scoreGrad(const Head<T>& hd, bool masked, float raw, float rowLse, float dp,
                                           float rowDelta, int i, int j, float& pKept) {
    if (masked || rowLse == -CUDART_INF_F) {
        pKept = 0.0f;
        return 0.0f;
    }
    const float p = expf(hd.logit(raw, i, j) - rowLse);
    const float z = hd.keep(i, j);
    pKept = p * z;
    return p * (z * dp - rowDelta) * hd.logitGrad(raw);
}

// dQ: one block per (query tile, head, batch), streaming key tiles as the forward does. Each query row's
// gradient is owned by one group of lanes, so nothing races.
template <typename T, int DMAX>
__device__ void attentionBackwardQuery(const T* __restrict__ dO, const T* __restrict__ q, const T* __restrict__ k,
                                       const T* __restrict__ v, const float* __restrict__ lse,
                                       const float* __restrict__ delta, T* __restrict__ dq,
                                       int Sq, int Sk, int H, int Hkv, int D, float scale, const Mods& mods) {
    using P = Tiling<DMAX>;
    __shared__ float ks[P::TILE][DMAX];
    __shared__ float vs[P::TILE][DMAX];

    const int r = threadIdx.x / P::TPR;
    const int c = threadIdx.x % P::TPR;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int kvh = h / (H / Hkv);
    const int i0 = blockIdx.x * P::ROWS;
    const int i = i0 + r;
    const bool rowExists = i < Sq;
    const size_t base = rowIndex(b, Sq, i, H, h, D);
    const Head<T> hd(mods, b, h, Sq, Sk, H);

    float qr[P::ELEMS];
    float dor[P::ELEMS];
    float acc[P::ELEMS];
    loadRow<T, DMAX>(qr, q, rowExists, base, c, D);
    loadRow<T, DMAX>(dor, dO, rowExists, base, c, D);
#pragma unroll
    for (int e = 0; e < P::ELEMS; ++e) {
        acc[e] = 0.0f;
    }
    const size_t stat = (static_cast<size_t>(b) * H + h) * Sq + i;
    const float rowLse = rowExists ? lse[stat] : -CUDART_INF_F;
    const float rowDelta = rowExists ? delta[stat] : 0.0f;

    const int lastRow = min(Sq, i0 + P::ROWS) - 1;
    int kvLo, kvHi;
    hd.keyRange(i0, lastRow, kvLo, kvHi);
    for (int j0 = kvLo / P::TILE * P::TILE; j0 < kvHi; j0 += P::TILE) {
        const int jv = j0 + static_cast<int>(threadIdx.x);
        if (flashTileMasked(hd, threadIdx.x >= P::TILE || jv >= Sk || hd.columnMasked(jv, i0, lastRow))) {
            continue;
        }
        __syncthreads();
        loadTile<T, DMAX, P::TILE>(ks, k, b, j0, Sk, Hkv, kvh, D);
        loadTile<T, DMAX, P::TILE>(vs, v, b, j0, Sk, Hkv, kvh, D);
        __syncthreads();
        const bool needMask = j0 + P::TILE > Sk || !hd.tileUnmasked(i0, lastRow, j0, j0 + P::TILE - 1);
#pragma unroll 4
        for (int jj = 0; jj < P::TILE; ++jj) {
            float sPart = 0.0f;
            float dpPart = 0.0f;
#pragma unroll
            for (int e = 0; e < P::ELEMS; ++e) {
                sPart = fmaf(qr[e], ks[jj][c + e * P::TPR], sPart);
                dpPart = fmaf(dor[e], vs[jj][c + e * P::TPR], dpPart);
            }
            const float s = groupSum<P::TPR>(sPart) * scale;
            const float dp = groupSum<P::TPR>(dpPart);
            const int j = j0 + jj;
            const bool masked = !rowExists || (needMask && (j >= Sk || hd.masked(i, j)));
            float pKept;
            const float ds = scoreGrad(hd, masked, s, rowLse, dp, rowDelta, i, j, pKept);
#pragma unroll
            for (int e = 0; e < P::ELEMS; ++e) {
                acc[e] = fmaf(ds, ks[jj][c + e * P::TPR], acc[e]);
            }
        }
    }
    if (rowExists) {
        if (rowLse == -CUDART_INF_F) {
            // An empty row has no gradient: its dS is 0, but 0 times a non-finite k would still be NaN.
#pragma unroll
            for (int e = 0; e < P::ELEMS; ++e) {
                acc[e] = 0.0f;
            }
        }
        storeRow<T, DMAX>(dq, acc, scale, base, c, D);
    }
}

// dK, dV: one block per (key tile, KV head, batch); it walks every query head of its group and every query
// tile that can see its keys, so each key row's gradient is owned by one group of lanes and nothing races.
template <typename T, int DMAX>
__device__ void attentionBackwardKeyValue(const T* __restrict__ dO, const T* __restrict__ q, const T* __restrict__ k,
                                          const T* __restrict__ v, const float* __restrict__ lse,
                                          const float* __restrict__ delta, T* __restrict__ dk, T* __restrict__ dv,
                                          int Sq, int Sk, int H, int Hkv, int D, float scale, const Mods& mods) {
    using P = Tiling<DMAX>;
    __shared__ float qs[P::TILE][DMAX];
    __shared__ float dos[P::TILE][DMAX];
    __shared__ float lses[P::TILE];
    __shared__ float deltas[P::TILE];

    const int r = threadIdx.x / P::TPR;
    const int c = threadIdx.x % P::TPR;
    const int kvh = blockIdx.y;
    const int b = blockIdx.z;
    const int group = H / Hkv;
    const int j0 = blockIdx.x * P::ROWS;
    const int j = j0 + r;
    const bool rowExists = j < Sk;
    const size_t base = rowIndex(b, Sk, j, Hkv, kvh, D);

    float kr[P::ELEMS];
    float vr[P::ELEMS];
    float dkAcc[P::ELEMS];
    float dvAcc[P::ELEMS];
    loadRow<T, DMAX>(kr, k, rowExists, base, c, D);
    loadRow<T, DMAX>(vr, v, rowExists, base, c, D);
#pragma unroll
    for (int e = 0; e < P::ELEMS; ++e) {
        dkAcc[e] = 0.0f;
        dvAcc[e] = 0.0f;
    }

    const int lastKey = min(Sk, j0 + P::ROWS) - 1;
    for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
        const Head<T> hd(mods, b, h, Sq, Sk, H);
        int qLo, qHi;
        hd.queryRange(j0, lastKey, qLo, qHi);
        for (int i0 = qLo; i0 < qHi; i0 += P::TILE) {
            const int lastQuery = min(Sq, i0 + P::TILE) - 1;
            if (flashTileMasked(hd, !rowExists || hd.columnMasked(j, i0, lastQuery))) {
                continue;
            }
            __syncthreads();
            loadTile<T, DMAX, P::TILE>(qs, q, b, i0, Sq, H, h, D);
            loadTile<T, DMAX, P::TILE>(dos, dO, b, i0, Sq, H, h, D);
            if (threadIdx.x < P::TILE) {
                const int i = i0 + threadIdx.x;
                const size_t stat = (static_cast<size_t>(b) * H + h) * Sq + i;
                lses[threadIdx.x] = i < Sq ? lse[stat] : -CUDART_INF_F;
                deltas[threadIdx.x] = i < Sq ? delta[stat] : 0.0f;
            }
            __syncthreads();
            const bool needMask = i0 + P::TILE > Sq || !hd.tileUnmasked(i0, i0 + P::TILE - 1, j0, lastKey);
#pragma unroll 4
            for (int ii = 0; ii < P::TILE; ++ii) {
                float sPart = 0.0f;
                float dpPart = 0.0f;
#pragma unroll
                for (int e = 0; e < P::ELEMS; ++e) {
                    sPart = fmaf(kr[e], qs[ii][c + e * P::TPR], sPart);
                    dpPart = fmaf(vr[e], dos[ii][c + e * P::TPR], dpPart);
                }
                const float s = groupSum<P::TPR>(sPart) * scale;
                const float dp = groupSum<P::TPR>(dpPart);
                const int i = i0 + ii;
                const bool masked = !rowExists || (needMask && (i >= Sq || hd.masked(i, j)));
                float pKept;
                const float ds = scoreGrad(hd, masked, s, lses[ii], dp, deltas[ii], i, j, pKept);
#pragma unroll
                for (int e = 0; e < P::ELEMS; ++e) {
                    dvAcc[e] = fmaf(pKept, dos[ii][c + e * P::TPR], dvAcc[e]);
                    dkAcc[e] = fmaf(ds, qs[ii][c + e * P::TPR], dkAcc[e]);
                }
            }
        }
    }
    if (rowExists) {
        storeRow<T, DMAX>(dk, dkAcc, scale, base, c, D);
        storeRow<T, DMAX>(dv, dvAcc, 1.0f, base, c, D);
    }
}

// Gradient of the relative-position table: dT[h][t] sums dlogit (dS before the softcap chain rule) over
// every (b, i, j) on diagonal j - (i + off) = t - (Sk - 1). One thread per (h, t) walks its diagonal in
// order, so the sum is deterministic; each (i, j) lies on one diagonal, so the work is one more score pass.
template <typename T>
__device__ void attentionBackwardTable(const T* __restrict__ dO, const T* __restrict__ q, const T* __restrict__ k,
                                       const T* __restrict__ v, const float* __restrict__ lse,
                                       const float* __restrict__ delta, float* __restrict__ dTable,
                                       int B, int Sq, int Sk, int H, int Hkv, int D, float scale, const Mods& mods) {
    const int width = Sq + Sk - 1;
    const long long id = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= static_cast<long long>(H) * width) {
        return;
    }
    const int h = static_cast<int>(id / width);
    const int t = static_cast<int>(id % width);
    const int kvh = h / (H / Hkv);
    const int rel = t - (Sk - 1);
    float sum = 0.0f;
    for (int b = 0; b < B; ++b) {
        const Head<T> hd(mods, b, h, Sq, Sk, H);
        const int iLo = max(0, -rel - hd.off);
        const int iHi = min(Sq, Sk - rel - hd.off);
        for (int i = iLo; i < iHi; ++i) {
            const int j = i + hd.off + rel;
            const size_t stat = (static_cast<size_t>(b) * H + h) * Sq + i;
            const float rowLse = lse[stat];
            if (rowLse == -CUDART_INF_F || hd.masked(i, j)) {
                continue;
            }
            const size_t qo = rowIndex(b, Sq, i, H, h, D);
            const size_t ko = rowIndex(b, Sk, j, Hkv, kvh, D);
            float raw = 0.0f;
            float dp = 0.0f;
            for (int d = 0; d < D; ++d) {
                raw = fmaf(ld(q[qo + d]), ld(k[ko + d]), raw);
                dp = fmaf(ld(dO[qo + d]), ld(v[ko + d]), dp);
            }
            raw *= scale;
            const float p = expf(hd.logit(raw, i, j) - rowLse);
            sum += p * (hd.keep(i, j) * dp - delta[stat]);
        }
    }
    dTable[id] = sum;
}

}  // namespace

#define ATTN4J_ATTENTION_DIM(T, NAME, DMAX)                                                                        \
    extern "C" __global__ void __launch_bounds__(THREADS) attn_fwd_##NAME##_d##DMAX(                               \
        const T* q, const T* k, const T* v, T* o, float* lse, int Sq, int Sk, int H, int Hkv, int D, float scale,  \
        ATTN4J_MOD_PARAMS) {                                                                                       \
        attentionForward<T, DMAX>(q, k, v, o, lse, Sq, Sk, H, Hkv, D, scale, ATTN4J_MOD_ARGS);                    \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(THREADS) attn_bwd_dq_##NAME##_d##DMAX(                            \
        const T* dO, const T* q, const T* k, const T* v, const float* lse, const float* delta, T* dq, int Sq,      \
        int Sk, int H, int Hkv, int D, float scale, ATTN4J_MOD_PARAMS) {                                           \
        attentionBackwardQuery<T, DMAX>(dO, q, k, v, lse, delta, dq, Sq, Sk, H, Hkv, D, scale, ATTN4J_MOD_ARGS);  \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(THREADS) attn_bwd_dkdv_##NAME##_d##DMAX(                          \
        const T* dO, const T* q, const T* k, const T* v, const float* lse, const float* delta, T* dk, T* dv,       \
        int Sq, int Sk, int H, int Hkv, int D, float scale, ATTN4J_MOD_PARAMS) {                                   \
        attentionBackwardKeyValue<T, DMAX>(dO, q, k, v, lse, delta, dk, dv, Sq, Sk, H, Hkv, D, scale,             \
                                           ATTN4J_MOD_ARGS);                                                       \
    }

#define ATTN4J_ATTENTION(T, NAME)                                                                                  \
    extern "C" __global__ void __launch_bounds__(THREADS) attn_bwd_delta_##NAME(                                   \
        const T* dO, const T* o, float* delta, int B, int Sq, int H, int D) {                                      \
        attentionDelta<T>(dO, o, delta, B, Sq, H, D);                                                              \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(THREADS) attn_bwd_dtable_##NAME(                                  \
        const T* dO, const T* q, const T* k, const T* v, const float* lse, const float* delta, float* dTable,      \
        int B, int Sq, int Sk, int H, int Hkv, int D, float scale, ATTN4J_MOD_PARAMS) {                            \
        attentionBackwardTable<T>(dO, q, k, v, lse, delta, dTable, B, Sq, Sk, H, Hkv, D, scale, ATTN4J_MOD_ARGS); \
    }                                                                                                              \
    ATTN4J_ATTENTION_DIM(T, NAME, 32)                                                                              \
    ATTN4J_ATTENTION_DIM(T, NAME, 64)                                                                              \
    ATTN4J_ATTENTION_DIM(T, NAME, 128)                                                                             \
    ATTN4J_ATTENTION_DIM(T, NAME, 256)

ATTN4J_ATTENTION(float, f32)
ATTN4J_ATTENTION(__half, f16)
ATTN4J_ATTENTION(__nv_bfloat16, bf16)
