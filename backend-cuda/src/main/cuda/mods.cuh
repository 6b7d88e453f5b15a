// What turns a raw score into a logit, and which scores are masked or dropped (docs/design.md §4 steps 2-5):
// softcap, then ALiBi / relative table / dense bias, then causal / window / FlashMask / dense masks, and
// the Philox4x32-10 dropout rule of ports' Dropout. Shared by every attention kernel of attention.cu.
#pragma once
#include "common.cuh"

// The mask, bias and dropout arguments every attention kernel ends with, in this order (CudaAttention
// passes them). Absent tensors are null pointers.
#define ATTN4J_MOD_PARAMS                                                                                           \
    int causal, int winLeft, int winRight, float softcap, const float *alibi, int alibiPerBatch, const float *table, \
        const unsigned char *dmask, long long dmaskBs, long long dmaskHs, const void *dbias, int dbiasF32,           \
        long long dbiasBs, long long dbiasHs, const int *fmask, int fmaskHeads, int fmaskN, unsigned dropThreshold, \
        float dropScale, unsigned seedLo, unsigned seedHi, unsigned offLo, unsigned offHi
#define ATTN4J_MOD_ARGS                                                                                             \
    attn4j::Mods {                                                                                                  \
        causal, winLeft, winRight, softcap, alibi, alibiPerBatch, table, dmask, dmaskBs, dmaskHs, dbias, dbiasF32,  \
            dbiasBs, dbiasHs, fmask, fmaskHeads, fmaskN, dropThreshold, dropScale, seedLo, seedHi, offLo, offHi     \
    }

namespace attn4j {

struct Mods {
    int causal, winLeft, winRight;  // window sides: -1 = unbounded
    float softcap;                  // 0 = off
    const float* alibi;             // [H] or [B, H] slopes
    int alibiPerBatch;
    const float* table;             // [H, Sq + Sk - 1]
    const unsigned char* dmask;     // [B|1, H|1, Sq, Sk], strides 0 where broadcast
    long long dmaskBs, dmaskHs;
    const void* dbias;              // [B|1, H|1, Sq, Sk], float or the storage type
    int dbiasF32;
    long long dbiasBs, dbiasHs;
    const int* fmask;               // [B, Hm, Sk, n] startend_row_indices
    int fmaskHeads, fmaskN;
    unsigned dropThreshold;         // kept iff (word >> 8) >= ceil(p 2^24); 0 = no dropout
    float dropScale;                // 1 / (1 - p)
    unsigned seedLo, seedHi, offLo, offHi;
};

// Philox4x32-10 (Salmon et al., SC'11): ten rounds of two 32x32->64 multiplies with a Weyl-bumped key.
__device__ __forceinline__ void philox4x32_10(unsigned ctr[4], unsigned k0, unsigned k1) {
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        const unsigned lo0 = 0xD2511F53u * ctr[0], hi0 = __umulhi(0xD2511F53u, ctr[0]);
        const unsigned lo1 = 0xCD9E8D57u * ctr[2], hi1 = __umulhi(0xCD9E8D57u, ctr[2]);
        const unsigned c1 = ctr[1], c3 = ctr[3];
        ctr[0] = hi1 ^ c1 ^ k0;
        ctr[1] = lo1;
        ctr[2] = hi0 ^ c3 ^ k1;
        ctr[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

// The modifiers of one (batch, head), resolved to that head's slices.
template <typename T>
struct Head {
    int Sq, Sk, off, H, b, h;
    int causal, winLeft, winRight, fmaskN;
    float softcap, slope, dropScale;
    const float* table;
    const unsigned char* dmask;
    const float* dbiasF;
    const T* dbiasT;
    const int* fmask;
    unsigned dropThreshold, seedLo, seedHi, offLo, offHi;

    __device__ Head(const Mods& m, int b_, int h_, int Sq_, int Sk_, int H_)
        : Sq(Sq_), Sk(Sk_), off(Sk_ - Sq_), H(H_), b(b_), h(h_), causal(m.causal), winLeft(m.winLeft),
          winRight(m.winRight), fmaskN(m.fmaskN), softcap(m.softcap),
          slope(m.alibi ? m.alibi[m.alibiPerBatch ? b_ * H_ + h_ : h_] : 0.0f), dropScale(m.dropScale),
          table(m.table ? m.table + static_cast<size_t>(h_) * (Sq_ + Sk_ - 1) : nullptr),
          dmask(m.dmask ? m.dmask + b_ * m.dmaskBs + h_ * m.dmaskHs : nullptr),
          dbiasF(m.dbias && m.dbiasF32 ? static_cast<const float*>(m.dbias) + b_ * m.dbiasBs + h_ * m.dbiasHs : nullptr),
          dbiasT(m.dbias && !m.dbiasF32 ? static_cast<const T*>(m.dbias) + b_ * m.dbiasBs + h_ * m.dbiasHs : nullptr),
          fmask(m.fmask ? m.fmask + (static_cast<size_t>(b_) * m.fmaskHeads + h_ / (H_ / m.fmaskHeads)) * Sk_ * m.fmaskN
                        : nullptr),
          dropThreshold(m.dropThreshold), seedLo(m.seedLo), seedHi(m.seedHi), offLo(m.offLo), offHi(m.offHi) {}

    // Whether key j is masked for query i (both in range). Bottom-right aligned: the diagonal is i + off.
    __device__ bool masked(int i, int j) const {
        const int d = i + off;
        if ((causal && j > d) || (winLeft >= 0 && j < d - winLeft) || (winRight >= 0 && j > d + winRight)) {
            return true;
        }
        if (dmask && !dmask[static_cast<size_t>(i) * Sk + j]) {
            return true;
        }
        if (fmask) {
            const int* r = fmask + static_cast<size_t>(j) * fmaskN;
            if (causal) {  // [LTS]: rows >= LTS; [LTS, LTE]: rows in [LTS, LTE)
                return fmaskN == 1 ? i >= r[0] : (i >= r[0] && i < r[1]);
            }
            // [LTS, UTE]: rows >= LTS or < UTE; [LTS, LTE, UTS, UTE]: rows in [LTS, LTE) or [UTS, UTE)
            return fmaskN == 2 ? (i >= r[0] || i < r[1]) : ((i >= r[0] && i < r[1]) || (i >= r[2] && i < r[3]));
        }
        return false;
    }

    // Raw scaled score to logit: softcap, then ALiBi, the relative table and the dense bias.
    __device__ float logit(float s, int i, int j) const {
        if (softcap > 0.0f) {
            s = softcap * tanhf(s / softcap);
        }
        const int rel = j - (i + off);
        if (slope != 0.0f) {
            s -= slope * static_cast<float>(abs(rel));
        }
        if (table) {
            s += table[rel + Sk - 1];
        }
        if (dbiasF) {
            s += dbiasF[static_cast<size_t>(i) * Sk + j];
        } else if (dbiasT) {
            s += ld(dbiasT[static_cast<size_t>(i) * Sk + j]);
        }
        return s;
    }

    // d logit / d raw score: 1, or 1 - tanh^2 under softcap.
    __device__ float logitGrad(float s) const {
        if (softcap > 0.0f) {
            const float t = tanhf(s / softcap);
            return 1.0f - t * t;
        }
        return 1.0f;
    }

    __device__ bool dropping() const { return dropThreshold != 0u; }

    // Dropout factor of (b, h, i, j): 0 when dropped, 1 / (1 - p) when kept; counter mapping of ports' Dropout.
    __device__ float keep(int i, int j) const {
        if (!dropping()) {
            return 1.0f;
        }
        const unsigned long long n =
            ((static_cast<unsigned long long>(b) * H + h) * Sq + i) * static_cast<unsigned long long>(Sk) + j;
        const unsigned long long block = n >> 2;
        unsigned w[4] = {static_cast<unsigned>(block), static_cast<unsigned>(block >> 32), offLo, offHi};
        philox4x32_10(w, seedLo, seedHi);
        const unsigned lane = static_cast<unsigned>(n & 3);  // a select, not an indexed (local-memory) load
        const unsigned word = lane == 0 ? w[0] : lane == 1 ? w[1] : lane == 2 ? w[2] : w[3];
        return (word >> 8) >= dropThreshold ? dropScale : 0.0f;
    }

    // Keys [lo, hi) that causal and window leave to some query of [i0, i1].
    __device__ void keyRange(int i0, int i1, int& lo, int& hi) const {
        lo = 0;
        hi = Sk;
        if (causal) hi = min(hi, i1 + off + 1);
        if (winRight >= 0) hi = min(hi, i1 + off + winRight + 1);
        if (winLeft >= 0) lo = max(lo, i0 + off - winLeft);
    }

    // Queries [lo, hi) that causal and window let see some key of [j0, j1].
    __device__ void queryRange(int j0, int j1, int& lo, int& hi) const {
        lo = 0;
        hi = Sq;
        if (causal) lo = max(lo, j0 - off);
        if (winRight >= 0) lo = max(lo, j0 - off - winRight);
        if (winLeft >= 0) hi = min(hi, j1 - off + winLeft + 1);
    }

    // Whether no element of queries [i0, i1] x keys [j0, j1] is masked, so the per-element test can be skipped.
    __device__ bool tileUnmasked(int i0, int i1, int j0, int j1) const {
        if (dmask || fmask) return false;
        if (causal && j1 > i0 + off) return false;
        if (winRight >= 0 && j1 > i0 + off + winRight) return false;
        if (winLeft >= 0 && j0 < i1 + off - winLeft) return false;
        return true;
    }

    // Whether FlashMask masks every query of [i0, i1] for key j (conservative: may say false when it does).
    __device__ bool columnMasked(int j, int i0, int i1) const {
        if (!fmask) {
            return false;
        }
        const int* r = fmask + static_cast<size_t>(j) * fmaskN;
        if (causal) {
            return fmaskN == 1 ? r[0] <= i0 : (r[0] <= i0 && r[1] > i1);
        }
        if (fmaskN == 2) {  // unmasked rows are [UTE, LTS): masked when the tile misses them
            return i1 < r[1] || i0 >= r[0] || r[1] >= r[0];
        }
        return (r[0] <= i0 && r[1] > i1) || (r[2] <= i0 && r[3] > i1) ||
               (min(r[0], r[2]) <= i0 && max(r[1], r[3]) > i1 && r[1] >= r[2] && r[3] >= r[0]);
    }
};

}  // namespace attn4j
