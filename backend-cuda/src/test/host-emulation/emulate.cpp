// Runs the CUDA kernels of src/main/cuda on the CPU (one std::thread per CUDA thread, blocks in turn)
// against a float64 reference: a check of index arithmetic, tiling, masking and the online softmax for
// machines without a GPU. It proves nothing about the GPU's memory model or speed; the GPU tests do.
// Build and run: see run.sh.
#include "emulation.hpp"
#include "server.hpp"

static int failures = 0;

static void expectClose(const char* what, const std::vector<double>& want, const std::vector<float>& got, double tol) {
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        double err;
        if (std::isinf(want[i]) || std::isinf(got[i])) {
            err = (want[i] == got[i]) ? 0 : INFINITY;
        } else {
            err = std::fabs(want[i] - got[i]);
        }
        if (std::isnan(got[i])) err = INFINITY;
        if (err > worst) { worst = err; at = i; }
    }
    const bool ok = worst <= tol;
    if (!ok) ++failures;
    std::printf("%-5s %-60s max err %.3g%s\n", ok ? "ok" : "FAIL", what, worst,
                ok ? "" : (" at " + std::to_string(at) + " want " + std::to_string(want[at]) + " got " + std::to_string(got[at])).c_str());
}

struct Dims { int b, sq, sk, h, hkv, d; };

// The masks, biases and dropout of one case, as host data (empty = absent), and the kernel arguments they
// become.
struct Feat {
    bool causal = false;
    int winLeft = -1, winRight = -1;
    float softcap = 0;
    std::vector<float> alibi;           // [H] or [B, H]
    bool alibiPerBatch = false;
    std::vector<float> table;           // [H, Sq + Sk - 1]
    std::vector<unsigned char> dmask;   // [Bm, Hm, Sq, Sk]
    int dmaskB = 1, dmaskH = 1;
    std::vector<float> dbias;           // [Bb, Hb, Sq, Sk]
    int dbiasB = 1, dbiasH = 1;
    bool dbiasAsF32 = true;             // which kernel path reads it (both are float in the emulation)
    std::vector<int> fmask;             // [B, Hm, Sk, n]
    int fmaskHeads = 1, fmaskN = 1;
    double dropP = 0;
    unsigned long long seed = 0, offset = 0;
    std::string name = "plain";

    attn4j::Mods mods(const Dims& n) const {
        const long long plane = (long long)n.sq * n.sk;
        return attn4j::Mods{causal, winLeft, winRight, softcap, alibi.empty() ? nullptr : alibi.data(), alibiPerBatch,
                            table.empty() ? nullptr : table.data(), dmask.empty() ? nullptr : dmask.data(),
                            dmaskB == 1 ? 0 : dmaskH * plane, dmaskH == 1 ? 0 : plane,
                            dbias.empty() ? nullptr : (const void*)dbias.data(), dbiasAsF32 ? 1 : 0,
                            dbiasB == 1 ? 0 : dbiasH * plane, dbiasH == 1 ? 0 : plane,
                            fmask.empty() ? nullptr : fmask.data(), fmaskHeads, fmaskN,
                            dropP > 0 ? (unsigned)std::ceil(dropP * 0x1p24) : 0u, float(1.0 / (1.0 - dropP)),
                            (unsigned)seed, (unsigned)(seed >> 32), (unsigned)offset, (unsigned)(offset >> 32)};
    }
};
#define MOD_ARGS(m) m.causal, m.winLeft, m.winRight, m.softcap, m.alibi, m.alibiPerBatch, m.table, m.dmask, m.dmaskBs, \
    m.dmaskHs, m.dbias, m.dbiasF32, m.dbiasBs, m.dbiasHs, m.fmask, m.fmaskHeads, m.fmaskN, m.dropThreshold, m.dropScale, \
    m.seedLo, m.seedHi, m.offLo, m.offHi

// Reference Philox4x32-10 in 64-bit arithmetic, written apart from the kernel's.
static void philoxReference(uint32_t ctr[4], uint32_t k0, uint32_t k1) {
    for (int r = 0; r < 10; ++r) {
        const uint64_t p0 = uint64_t(0xD2511F53u) * ctr[0], p1 = uint64_t(0xCD9E8D57u) * ctr[2];
        const uint32_t n0 = uint32_t(p1 >> 32) ^ ctr[1] ^ k0, n1 = uint32_t(p1), n2 = uint32_t(p0 >> 32) ^ ctr[3] ^ k1,
                       n3 = uint32_t(p0);
        ctr[0] = n0; ctr[1] = n1; ctr[2] = n2; ctr[3] = n3;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
}

// The ports' Dropout rule, straight from its Javadoc: u = (w >> 8) 2^-24, kept iff u >= p.
static bool keptReference(const Feat& f, const Dims& n, int b, int h, int i, int j) {
    const uint64_t e = ((uint64_t(b) * n.h + h) * n.sq + i) * n.sk + j;
    uint32_t c[4] = {uint32_t(e >> 2), uint32_t(e >> 34), uint32_t(f.offset), uint32_t(f.offset >> 32)};
    philoxReference(c, uint32_t(f.seed), uint32_t(f.seed >> 32));
    return double(c[e & 3] >> 8) * 0x1p-24 >= f.dropP;
}

static bool maskedReference(const Feat& f, const Dims& n, int b, int h, int i, int j) {
    const int d = i + n.sk - n.sq;
    if (f.causal && j > d) return true;
    if (f.winLeft >= 0 && j < d - f.winLeft) return true;
    if (f.winRight >= 0 && j > d + f.winRight) return true;
    if (!f.dmask.empty()) {
        const size_t at = ((size_t(f.dmaskB == 1 ? 0 : b) * f.dmaskH + (f.dmaskH == 1 ? 0 : h)) * n.sq + i) * n.sk + j;
        if (!f.dmask[at]) return true;
    }
    if (!f.fmask.empty()) {
        const int mh = h / (n.h / f.fmaskHeads);
        const int* r = &f.fmask[((size_t(b) * f.fmaskHeads + mh) * n.sk + j) * f.fmaskN];
        auto cl = [&](int x) { return std::min(x, n.sq); };  // values above Sq act as Sq
        bool m;
        if (f.causal) m = f.fmaskN == 1 ? i >= cl(r[0]) : (i >= cl(r[0]) && i < cl(r[1]));
        else if (f.fmaskN == 2) m = i >= cl(r[0]) || i < cl(r[1]);
        else m = (i >= cl(r[0]) && i < cl(r[1])) || (i >= cl(r[2]) && i < cl(r[3]));
        if (m) return true;
    }
    return false;
}

static void attentionCase(Dims n, const Feat& f, int bucket) {
    std::mt19937 rng(n.sq * 31 + n.sk + n.d + f.causal);
    std::normal_distribution<float> g;
    auto fill = [&](size_t count) { std::vector<float> v(count); for (auto& x : v) x = g(rng); return v; };
    const size_t qn = size_t(n.b) * n.sq * n.h * n.d, kn = size_t(n.b) * n.sk * n.hkv * n.d, ln = size_t(n.b) * n.h * n.sq;
    auto q = fill(qn), k = fill(kn), v = fill(kn), dO = fill(qn);
    const float scale = 1.0f / std::sqrt(float(n.d));
    auto qi = [&](int b, int i, int h, int d) { return ((size_t(b) * n.sq + i) * n.h + h) * n.d + d; };
    auto ki = [&](int b, int j, int h, int d) { return ((size_t(b) * n.sk + j) * n.hkv + h) * n.d + d; };
    const int width = n.sq + n.sk - 1;
    std::vector<double> o(qn), lse(ln), dq(qn), dk(kn), dv(kn), dtable(size_t(n.h) * width);
    const int off = n.sk - n.sq;
    for (int b = 0; b < n.b; ++b) for (int h = 0; h < n.h; ++h) for (int i = 0; i < n.sq; ++i) {
        const int kvh = h / (n.h / n.hkv);
        std::vector<double> s(n.sk, -INFINITY), raw(n.sk, 0.0), p(n.sk, 0.0), dp(n.sk, 0.0), z(n.sk, 1.0);
        double m = -INFINITY;
        for (int j = 0; j < n.sk; ++j) {
            if (maskedReference(f, n, b, h, i, j)) continue;
            double dot = 0;
            for (int d = 0; d < n.d; ++d) dot += double(q[qi(b, i, h, d)]) * k[ki(b, j, kvh, d)];
            double x = raw[j] = dot * scale;
            if (f.softcap > 0) x = f.softcap * std::tanh(x / f.softcap);
            const int rel = j - (i + off);
            if (!f.alibi.empty()) x -= f.alibi[f.alibiPerBatch ? b * n.h + h : h] * std::abs(rel);
            if (!f.table.empty()) x += f.table[size_t(h) * width + rel + n.sk - 1];
            if (!f.dbias.empty())
                x += f.dbias[((size_t(f.dbiasB == 1 ? 0 : b) * f.dbiasH + (f.dbiasH == 1 ? 0 : h)) * n.sq + i) * n.sk + j];
            s[j] = x;
            if (f.dropP > 0) z[j] = keptReference(f, n, b, h, i, j) ? 1.0 / (1.0 - f.dropP) : 0.0;
            m = std::max(m, s[j]);
        }
        const size_t li = (size_t(b) * n.h + h) * n.sq + i;
        if (m == -INFINITY) { lse[li] = -INFINITY; continue; }
        double l = 0;
        for (int j = 0; j < n.sk; ++j) { p[j] = std::exp(s[j] - m); l += p[j]; }
        for (int j = 0; j < n.sk; ++j) p[j] /= l;
        lse[li] = m + std::log(l);
        double delta = 0;
        for (int j = 0; j < n.sk; ++j) {
            for (int d = 0; d < n.d; ++d) {
                o[qi(b, i, h, d)] += p[j] * z[j] * v[ki(b, j, kvh, d)];
                dp[j] += double(dO[qi(b, i, h, d)]) * v[ki(b, j, kvh, d)];
            }
            delta += p[j] * z[j] * dp[j];
        }
        for (int j = 0; j < n.sk; ++j) {
            if (p[j] == 0) continue;
            const double dlogit = p[j] * (z[j] * dp[j] - delta);
            const double t = f.softcap > 0 ? std::tanh(raw[j] / f.softcap) : 0.0;
            const double ds = dlogit * (1 - t * t);
            dtable[size_t(h) * width + j - (i + off) + n.sk - 1] += dlogit;
            for (int d = 0; d < n.d; ++d) {
                dq[qi(b, i, h, d)] += scale * ds * k[ki(b, j, kvh, d)];
                dk[ki(b, j, kvh, d)] += scale * ds * q[qi(b, i, h, d)];
                dv[ki(b, j, kvh, d)] += p[j] * z[j] * dO[qi(b, i, h, d)];
            }
        }
    }
    std::vector<float> go(qn), glse(ln), gdelta(ln), gdq(qn), gdk(kn), gdv(kn), gdt(size_t(n.h) * width);
    const int rows = 128 / (bucket / 16);
    auto blocks = [](int count, int per) { return unsigned((count + per - 1) / per); };
    auto fwd = bucket == 32 ? attn_fwd_f32_d32 : bucket == 64 ? attn_fwd_f32_d64 : bucket == 128 ? attn_fwd_f32_d128 : attn_fwd_f32_d256;
    auto bdq = bucket == 32 ? attn_bwd_dq_f32_d32 : bucket == 64 ? attn_bwd_dq_f32_d64 : bucket == 128 ? attn_bwd_dq_f32_d128 : attn_bwd_dq_f32_d256;
    auto bkv = bucket == 32 ? attn_bwd_dkdv_f32_d32 : bucket == 64 ? attn_bwd_dkdv_f32_d64 : bucket == 128 ? attn_bwd_dkdv_f32_d128 : attn_bwd_dkdv_f32_d256;
    const attn4j::Mods m = f.mods(n);
    const long skippedBefore = skippedTiles.load();
    launch(fwd, dim3{blocks(n.sq, rows), unsigned(n.h), unsigned(n.b)}, 128u,
           (const float*)q.data(), (const float*)k.data(), (const float*)v.data(), go.data(), glse.data(), n.sq, n.sk, n.h, n.hkv, n.d, scale, MOD_ARGS(m));
    launch(attn_bwd_delta_f32, dim3{blocks(int(ln), 4), 1, 1}, 128u, (const float*)dO.data(), (const float*)go.data(), gdelta.data(), n.b, n.sq, n.h, n.d);
    launch(bkv, dim3{blocks(n.sk, rows), unsigned(n.hkv), unsigned(n.b)}, 128u,
           (const float*)dO.data(), (const float*)q.data(), (const float*)k.data(), (const float*)v.data(), (const float*)glse.data(),
           (const float*)gdelta.data(), gdk.data(), gdv.data(), n.sq, n.sk, n.h, n.hkv, n.d, scale, MOD_ARGS(m));
    launch(bdq, dim3{blocks(n.sq, rows), unsigned(n.h), unsigned(n.b)}, 128u,
           (const float*)dO.data(), (const float*)q.data(), (const float*)k.data(), (const float*)v.data(), (const float*)glse.data(),
           (const float*)gdelta.data(), gdq.data(), n.sq, n.sk, n.h, n.hkv, n.d, scale, MOD_ARGS(m));
    if (!f.table.empty()) {
        launch(attn_bwd_dtable_f32, dim3{blocks(n.h * width, 128), 1, 1}, 128u,
               (const float*)dO.data(), (const float*)q.data(), (const float*)k.data(), (const float*)v.data(), (const float*)glse.data(),
               (const float*)gdelta.data(), gdt.data(), n.b, n.sq, n.sk, n.h, n.hkv, n.d, scale, MOD_ARGS(m));
    }
    char name[200];
    auto label = [&](const char* t) {
        std::snprintf(name, sizeof name, "%s B%d Sq%d Sk%d H%d Hkv%d D%d(d%d) %s", t, n.b, n.sq, n.sk, n.h, n.hkv, n.d, bucket,
                      f.name.c_str());
        return name;
    };
    expectClose(label("o"), o, go, 1e-4);
    expectClose(label("lse"), lse, glse, 1e-4);
    expectClose(label("dq"), dq, gdq, 1e-4);
    expectClose(label("dk"), dk, gdk, 1e-4);
    expectClose(label("dv"), dv, gdv, 1e-4);
    if (!f.table.empty()) expectClose(label("dtable"), dtable, gdt, 1e-4);
    if (!f.fmask.empty()) {  // the cases' masks are built so that whole tiles are masked: they must be skipped
        const long skipped = skippedTiles.load() - skippedBefore;
        if (skipped == 0) ++failures;
        std::printf("%-5s %-60s %ld tiles skipped\n", skipped > 0 ? "ok" : "FAIL", label("flashmask skip"), skipped);
    }
}

static void attentionCase(Dims n, bool causal, int bucket) {
    Feat f;
    f.causal = causal;
    f.name = causal ? "causal" : "plain";
    attentionCase(n, f, bucket);
}

// The tensor-core forward with bf16 storage: inputs are rounded to bf16 first, and the reference sees the
// rounded values; o is compared at bf16's precision (it is stored in bf16, and P is rounded before P·V).
static void tensorCoreCase(Dims n, bool causal, int bucket) {
    std::mt19937 rng(n.sq * 17 + n.sk + n.d + causal);
    std::normal_distribution<float> g;
    const size_t qn = size_t(n.b) * n.sq * n.h * n.d, kn = size_t(n.b) * n.sk * n.hkv * n.d, ln = size_t(n.b) * n.h * n.sq;
    auto fill = [&](size_t count, std::vector<float>& wide) {
        std::vector<__nv_bfloat16> v(count);
        wide.resize(count);
        for (size_t i = 0; i < count; ++i) { v[i] = __float2bfloat16_rn(g(rng)); wide[i] = __bfloat162float(v[i]); }
        return v;
    };
    std::vector<float> qw, kw, vw;
    auto q = fill(qn, qw), k = fill(kn, kw), v = fill(kn, vw);
    const float scale = 1.0f / std::sqrt(float(n.d));
    const int off = n.sk - n.sq;
    std::vector<double> o(qn, 0.0), lse(ln);
    auto qi = [&](int b, int i, int h, int d) { return ((size_t(b) * n.sq + i) * n.h + h) * n.d + d; };
    auto ki = [&](int b, int j, int h, int d) { return ((size_t(b) * n.sk + j) * n.hkv + h) * n.d + d; };
    for (int b = 0; b < n.b; ++b) for (int h = 0; h < n.h; ++h) for (int i = 0; i < n.sq; ++i) {
        const int kvh = h / (n.h / n.hkv);
        std::vector<double> s(n.sk, -INFINITY);
        double m = -INFINITY;
        for (int j = 0; j < n.sk; ++j) {
            if (causal && j > i + off) continue;
            double dot = 0;
            for (int d = 0; d < n.d; ++d) dot += double(qw[qi(b, i, h, d)]) * kw[ki(b, j, kvh, d)];
            s[j] = dot * scale;
            m = std::max(m, s[j]);
        }
        const size_t li = (size_t(b) * n.h + h) * n.sq + i;
        if (m == -INFINITY) { lse[li] = -INFINITY; continue; }
        double l = 0;
        for (int j = 0; j < n.sk; ++j) l += std::exp(s[j] - m);
        lse[li] = m + std::log(l);
        for (int j = 0; j < n.sk; ++j)
            for (int d = 0; d < n.d; ++d) o[qi(b, i, h, d)] += std::exp(s[j] - m) / l * vw[ki(b, j, kvh, d)];
    }
    std::vector<__nv_bfloat16> go(qn);
    std::vector<float> glse(ln);
    using Tc = void (*)(const __nv_bfloat16*, const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*, float*, int, int, int, int, int, int, float);
    Tc kernel = bucket == 64 ? attn_fwd_tc_bf16_d64 : attn_fwd_tc_bf16_d128;
    int bytes = 0;
    (bucket == 64 ? attn_fwd_tc_bf16_d64_smem : attn_fwd_tc_bf16_d128_smem)(&bytes);
    std::vector<unsigned char> smem(bytes + 128);
    dynamicSmem = smem.data();
    launch(kernel, dim3{unsigned((n.sq + 63) / 64), unsigned(n.h), unsigned(n.b)}, 128u,
           (const __nv_bfloat16*)q.data(), (const __nv_bfloat16*)k.data(), (const __nv_bfloat16*)v.data(), go.data(), glse.data(),
           n.sq, n.sk, n.h, n.hkv, n.d, causal ? 1 : 0, scale);
    std::vector<float> gof(qn);
    double maxRef = 1;
    for (size_t i = 0; i < qn; ++i) { gof[i] = __bfloat162float(go[i]); maxRef = std::max(maxRef, std::fabs(o[i])); }
    char name[160];
    auto label = [&](const char* t) {
        std::snprintf(name, sizeof name, "tc %s B%d Sq%d Sk%d H%d Hkv%d D%d(d%d) causal=%d smem=%d", t, n.b, n.sq, n.sk, n.h, n.hkv,
                      n.d, bucket, int(causal), bytes);
        return name;
    };
    expectClose(label("o"), o, gof, 8 * 0x1p-8 * maxRef);
    expectClose(label("lse"), lse, glse, 1e-4);
}

static void normCase(int rows, int C, bool rms, bool residual, bool bias) {
    std::mt19937 rng(rows * 7 + C + rms * 2 + residual);
    std::normal_distribution<float> g;
    auto fill = [&](size_t count) { std::vector<float> v(count); for (auto& x : v) x = g(rng); return v; };
    auto x = fill(size_t(rows) * C), res = fill(size_t(rows) * C), gamma = fill(C), beta = fill(C), dy = fill(size_t(rows) * C),
         dSum = fill(size_t(rows) * C);
    const float alpha = residual ? 1.7f : 1.0f, eps = 1e-5f;
    std::vector<double> y(x.size()), mean(rows), rstd(rows), dh(x.size()), dres(x.size()), dgamma(C), dbeta(C), h(x.size());
    for (int r = 0; r < rows; ++r) {
        double mu = 0, var = 0;
        for (int c = 0; c < C; ++c) {
            h[size_t(r) * C + c] = residual ? double(fmaf(alpha, res[size_t(r) * C + c], x[size_t(r) * C + c])) : x[size_t(r) * C + c];
            mu += h[size_t(r) * C + c];
        }
        mu = rms ? 0 : mu / C;
        for (int c = 0; c < C; ++c) var += (h[size_t(r) * C + c] - mu) * (h[size_t(r) * C + c] - mu);
        mean[r] = mu;
        rstd[r] = 1 / std::sqrt(var / C + eps);
        double sg = 0, sgx = 0;
        for (int c = 0; c < C; ++c) {
            const size_t i = size_t(r) * C + c;
            const double xhat = (h[i] - mu) * rstd[r];
            y[i] = xhat * gamma[c] + (bias ? beta[c] : 0);
            const double gg = double(dy[i]) * gamma[c];
            sg += gg;
            sgx += gg * xhat;
            dgamma[c] += dy[i] * xhat;
            dbeta[c] += dy[i];
        }
        for (int c = 0; c < C; ++c) {
            const size_t i = size_t(r) * C + c;
            const double xhat = (h[i] - mu) * rstd[r];
            dh[i] = rstd[r] * (double(dy[i]) * gamma[c] - (rms ? 0 : sg / C) - xhat * sgx / C) + (residual ? dSum[i] : 0);
            dres[i] = alpha * dh[i];
        }
    }
    std::vector<float> gy(x.size()), gmean(rows), grstd(rows), gsum(x.size()), gdx(x.size()), gdres(x.size()), gdg(C), gdb(C);
    launch(norm_fwd_f32_f32, dim3{unsigned(rows), 1, 1}, 256u, (const float*)x.data(), (const float*)res.data(), int(residual), alpha,
           (const float*)gamma.data(), (const float*)beta.data(), int(bias), int(rms), eps, C, gy.data(), gmean.data(), grstd.data(), gsum.data());
    launch(norm_bwd_f32_f32, dim3{unsigned(rows), 1, 1}, 256u, (const float*)(residual ? gsum.data() : x.data()), (const float*)gmean.data(),
           (const float*)grstd.data(), (const float*)gamma.data(), (const float*)dy.data(), (const float*)dSum.data(), int(residual), int(rms), C,
           alpha, gdx.data(), gdres.data(), int(residual));
    const int chunks0 = std::min(rows, 256), perChunk = (rows + chunks0 - 1) / chunks0, chunks = (rows + perChunk - 1) / perChunk;
    std::vector<float> gp(size_t(chunks) * C), bp(size_t(chunks) * C);
    launch(norm_param_partials_f32, dim3{unsigned((C + 127) / 128), unsigned(chunks), 1}, 128u, (const float*)(residual ? gsum.data() : x.data()),
           (const float*)gmean.data(), (const float*)grstd.data(), (const float*)dy.data(), int(rms), rows, C, perChunk, gp.data(), bp.data());
    launch(norm_param_totals_f32, dim3{unsigned((C + 127) / 128), 1, 1}, 128u, (const float*)gp.data(), (const float*)bp.data(), chunks, C,
           gdg.data(), gdb.data(), int(bias));
    char name[160];
    auto label = [&](const char* t) {
        std::snprintf(name, sizeof name, "%s rows%d C%d rms=%d residual=%d bias=%d", t, rows, C, rms, residual, bias);
        return name;
    };
    expectClose(label("y"), y, gy, 1e-4);
    if (!rms) expectClose(label("mean"), mean, gmean, 1e-5);
    expectClose(label("rstd"), rstd, grstd, 1e-4);
    if (residual) expectClose(label("sum"), h, gsum, 1e-6);
    expectClose(label("dInput"), dh, gdx, 1e-4);
    if (residual) expectClose(label("dResidual"), dres, gdres, 2e-4);
    expectClose(label("dGamma"), dgamma, gdg, 1e-3);
    if (bias) expectClose(label("dBeta"), dbeta, gdb, 1e-3);
}

// Random123's known-answer vectors for Philox4x32-10, run through the kernels' own function.
static void philoxKnownAnswers() {
    struct Kat { uint32_t ctr[4], key[2], out[4]; };
    const Kat kats[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}, {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (const Kat& k : kats) {
        unsigned c[4] = {k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]};
        attn4j::philox4x32_10(c, k.key[0], k.key[1]);
        uint32_t r[4] = {k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]};
        philoxReference(r, k.key[0], k.key[1]);
        const bool ok = std::equal(c, c + 4, k.out) && std::equal(r, r + 4, k.out);
        if (!ok) ++failures;
        std::printf("%-5s philox4x32-10 known answer key %08x%08x: %08x %08x %08x %08x\n", ok ? "ok" : "FAIL", k.key[1], k.key[0],
                    c[0], c[1], c[2], c[3]);
    }
}

// FlashMask startend_row_indices [B, Hm, Sk, n]: documents of the given lengths (so whole tiles are masked
// and skipped) with some values above Sq, which act as Sq.
static std::vector<int> documentMask(Dims n, int heads, int width, bool causal, std::mt19937& rng) {
    std::vector<int> m(size_t(n.b) * heads * n.sk * width);
    std::uniform_int_distribution<int> any(0, n.sq + 8);
    for (int b = 0; b < n.b; ++b) for (int h = 0; h < heads; ++h) for (int j = 0; j < n.sk; ++j) {
        int* r = &m[((size_t(b) * heads + h) * n.sk + j) * width];
        const int docEnd = j < n.sk * 2 / 5 ? n.sq * 2 / 5 + h : n.sq + 7;  // > Sq: never masked below
        if (causal && width == 1) { r[0] = docEnd; }
        else if (causal) {  // the first document's columns masked below docEnd; others in [LTS, LTE) at random
            r[0] = docEnd;
            r[1] = (j >= n.sk * 2 / 5 && j % 3 == 0) ? any(rng) : n.sq + 3;
            if (r[1] < r[0]) r[1] = r[0];
        }
        else if (width == 2) { r[0] = docEnd; r[1] = j < n.sk * 2 / 5 ? 0 : n.sq * 2 / 5 + b; }
        else {
            r[0] = docEnd; r[1] = n.sq + 5;
            r[2] = j % 5; r[3] = std::max(r[2], j < n.sk * 2 / 5 ? 0 : std::min(n.sq * 2 / 5 + (j % 4), n.sq));
        }
    }
    return m;
}

static void featureCases() {
    philoxKnownAnswers();
    std::mt19937 rng(7);
    std::normal_distribution<float> g;
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    const Dims n{2, 37, 53, 4, 2, 40};
    { Feat f; f.winLeft = 5; f.winRight = 3; f.name = "window(5,3)"; attentionCase(n, f, 64); }
    { Feat f; f.causal = true; f.winLeft = 8; f.name = "causal window(8,-1)"; attentionCase({1, 70, 50, 2, 2, 20}, f, 32); }
    { Feat f; f.softcap = 2.0f; f.alibi = {0.5f, 0.0f, 0.125f, 0.0625f}; f.name = "softcap 2 alibi[H]"; attentionCase(n, f, 64); }
    { Feat f; f.causal = true; f.alibiPerBatch = true; for (int x = 0; x < 8; ++x) f.alibi.push_back(0.05f * (x + 1));
      f.name = "causal alibi[B,H]"; attentionCase(n, f, 64); }
    { Feat f; f.causal = true; f.softcap = 3.0f; for (int x = 0; x < n.h * (n.sq + n.sk - 1); ++x) f.table.push_back(g(rng));
      f.name = "causal softcap table+grad"; attentionCase(n, f, 64); }
    { Feat f; for (int x = 0; x < n.h * (n.sq + n.sk - 1); ++x) f.table.push_back(g(rng));
      f.name = "table+grad Sq>Sk"; attentionCase({2, 45, 30, 2, 1, 16}, f, 32); }
    const Dims big{2, 100, 100, 4, 2, 24};
    for (int width : {1, 2}) {
        Feat f; f.causal = true; f.fmaskHeads = 2; f.fmaskN = width; f.fmask = documentMask(big, 2, width, true, rng);
        f.name = "flashmask causal n=" + std::to_string(width) + " Hm=2"; attentionCase(big, f, 32);
    }
    for (int width : {2, 4}) {
        Feat f; f.fmaskHeads = 1; f.fmaskN = width; f.fmask = documentMask(big, 1, width, false, rng);
        f.name = "flashmask n=" + std::to_string(width) + " Hm=1"; attentionCase(big, f, 32);
    }
    { Feat f; f.fmaskHeads = 4; f.fmaskN = 4; f.fmask = documentMask(big, 4, 4, false, rng);
      f.name = "flashmask n=4 Hm=H"; attentionCase(big, f, 32); }
    { Feat f; f.dmaskB = 1; f.dmaskH = n.h; f.dmask.resize(size_t(n.h) * n.sq * n.sk);
      for (size_t x = 0; x < f.dmask.size(); ++x) f.dmask[x] = u(rng) < 0.6f && (x / n.sk) % 11 != 3;  // some rows empty
      f.dbiasB = n.b; f.dbiasH = 1; for (int x = 0; x < n.b * n.sq * n.sk; ++x) f.dbias.push_back(g(rng));
      f.name = "dense mask[1,H] dense bias[B,1] f32"; attentionCase(n, f, 64); }
    { Feat f; f.causal = true; f.dbiasB = 1; f.dbiasH = 1; f.dbiasAsF32 = false; for (int x = 0; x < n.sq * n.sk; ++x) f.dbias.push_back(g(rng));
      f.dmaskB = n.b; f.dmaskH = 1; f.dmask.resize(size_t(n.b) * n.sq * n.sk); for (auto& x : f.dmask) x = u(rng) < 0.8f;
      f.name = "causal dense mask[B,1] dense bias[1,1] storage"; attentionCase(n, f, 64); }
    { Feat f; f.dropP = 0.3; f.seed = 0x123456789abcdefULL; f.offset = 0x500000007ULL; f.name = "dropout 0.3";
      attentionCase(n, f, 64); }
    { Feat f; f.causal = true; f.dropP = 0.1; f.seed = 42; f.softcap = 5.0f; f.alibi = {0.25f, 0.5f}; f.winRight = 4;
      f.name = "causal dropout 0.1 softcap alibi"; attentionCase({1, 33, 33, 2, 1, 100}, f, 128); }
}

static void rotaryCase(int B, int S, int H, int D, int pairs, bool splitHalf, bool scaled, bool inverse) {
    std::mt19937 rng(D * 13 + pairs + splitHalf);
    std::normal_distribution<float> g;
    std::vector<float> x(size_t(B) * S * H * D), cs(size_t(S) * pairs), sn(cs.size()), sc(cs.size());
    for (auto& e : x) e = g(rng);
    for (size_t t = 0; t < cs.size(); ++t) { const double a = 0.37 * t; cs[t] = float(std::cos(a)); sn[t] = float(std::sin(a)); sc[t] = 0.5f + 0.01f * t; }
    std::vector<double> want(x.size());
    for (int b = 0; b < B; ++b) for (int s = 0; s < S; ++s) for (int h = 0; h < H; ++h) {
        const size_t base = ((size_t(b) * S + s) * H + h) * D;
        for (int d = 0; d < D; ++d) want[base + d] = x[base + d];
        for (int p = 0; p < pairs; ++p) {
            const int d1 = splitHalf ? p : 2 * p, d2 = splitHalf ? p + pairs : 2 * p + 1;
            const double c = cs[size_t(s) * pairs + p], sv = (inverse ? -1 : 1) * double(sn[size_t(s) * pairs + p]);
            const double z = scaled ? sc[size_t(s) * pairs + p] : 1.0;
            want[base + d1] = z * (x[base + d1] * c - x[base + d2] * sv);
            want[base + d2] = z * (x[base + d1] * sv + x[base + d2] * c);
        }
    }
    std::vector<float> got(x.size());
    const long long count = (long long)x.size();
    launch(rotary_f32, dim3{unsigned((count + 127) / 128), 1, 1}, 128u, (const float*)x.data(), (const float*)cs.data(),
           (const float*)sn.data(), scaled ? (const float*)sc.data() : (const float*)nullptr, S, H, D, pairs, int(splitHalf), int(inverse), got.data(), count);
    char name[160];
    std::snprintf(name, sizeof name, "rotary B%d S%d H%d D%d R%d %s scale=%d inverse=%d", B, S, H, D, 2 * pairs,
                  splitHalf ? "split-half" : "interleaved", scaled, inverse);
    expectClose(name, want, got, 1e-5);
}

static void rotaryCases() {
    rotaryCase(2, 5, 3, 10, 3, false, false, false);
    rotaryCase(2, 5, 3, 10, 3, true, true, false);
    rotaryCase(1, 7, 2, 8, 4, false, true, true);
    rotaryCase(1, 7, 2, 8, 4, true, false, true);
}

// The non-finite rule of ports' AttentionOptions: a NaN (or +inf) logit makes its row's o and lse NaN and only
// that row's (fmaxf alone would drop the NaN and report the row empty); an empty row (every logit -inf) gets
// o = 0, lse = -inf and a zero dq even when k holds infinities (0 * inf must not reach it).
static void expectPattern(const char* what, const std::vector<float>& got, const std::function<int(size_t)>& want) {
    // want(i): 1 = NaN expected, 0 = finite expected, 2 = exactly 0 expected, 3 = exactly -inf expected
    size_t bad = got.size();
    for (size_t i = 0; i < got.size() && bad == got.size(); ++i) {
        const int w = want(i);
        const bool ok = w == 1 ? std::isnan(got[i]) : w == 0 ? std::isfinite(got[i]) : w == 2 ? got[i] == 0.0f
                : got[i] == -INFINITY;
        if (!ok) bad = i;
    }
    const bool ok = bad == got.size();
    if (!ok) ++failures;
    std::printf("%-5s %-60s%s\n", ok ? "ok" : "FAIL", what,
                ok ? "" : (" at " + std::to_string(bad) + ": got " + std::to_string(got[bad])).c_str());
}

static void nonFiniteCases() {
    const Dims n{1, 21, 21, 2, 1, 16};
    const size_t qn = size_t(n.b) * n.sq * n.h * n.d, kn = size_t(n.b) * n.sk * n.hkv * n.d, ln = size_t(n.b) * n.h * n.sq;
    std::mt19937 rng(13);
    std::normal_distribution<float> g;
    std::uniform_real_distribution<float> pos(0.1f, 1.0f);
    auto fill = [&](size_t count) { std::vector<float> v(count); for (auto& x : v) x = g(rng); return v; };
    const float scale = 0.25f;
    const Feat f;
    const attn4j::Mods m = f.mods(n);
    const int nanRow = 9, nanHead = 1;
    auto run = [&](std::vector<float>& q, std::vector<float>& k, std::vector<float>& v, std::vector<float>& dO,
                   std::vector<float>& go, std::vector<float>& glse, std::vector<float>& gdq) {
        std::vector<float> gdelta(ln), gdk(kn), gdv(kn);
        launch(attn_fwd_f32_d32, dim3{1, unsigned(n.h), 1}, 128u, (const float*)q.data(), (const float*)k.data(),
               (const float*)v.data(), go.data(), glse.data(), n.sq, n.sk, n.h, n.hkv, n.d, scale, MOD_ARGS(m));
        launch(attn_bwd_delta_f32, dim3{unsigned((ln + 3) / 4), 1, 1}, 128u, (const float*)dO.data(), (const float*)go.data(),
               gdelta.data(), n.b, n.sq, n.h, n.d);
        launch(attn_bwd_dq_f32_d32, dim3{1, unsigned(n.h), 1}, 128u, (const float*)dO.data(), (const float*)q.data(),
               (const float*)k.data(), (const float*)v.data(), (const float*)glse.data(), (const float*)gdelta.data(),
               gdq.data(), n.sq, n.sk, n.h, n.hkv, n.d, scale, MOD_ARGS(m));
    };
    {
        auto q = fill(qn), k = fill(kn), v = fill(kn), dO = fill(qn);
        q[((size_t(0) * n.sq + nanRow) * n.h + nanHead) * n.d + 3] = NAN;
        std::vector<float> go(qn), glse(ln), gdq(qn);
        run(q, k, v, dO, go, glse, gdq);
        auto rowOf = [&](size_t at) { return std::make_pair(int(at / n.d / n.h), int(at / n.d % n.h)); };
        auto nanRowQ = [&](size_t at) { auto [i, h] = rowOf(at); return i == nanRow && h == nanHead ? 1 : 0; };
        expectPattern("nonfinite nan in q: o NaN in its row only", go, nanRowQ);
        expectPattern("nonfinite nan in q: lse NaN in its row only", glse,
                      [&](size_t at) { return at == size_t(nanHead) * n.sq + nanRow ? 1 : 0; });
        expectPattern("nonfinite nan in q: dq NaN in its row only", gdq, nanRowQ);
    }
    {
        auto q = fill(qn), k = fill(kn), v = fill(kn), dO = fill(qn);
        for (auto& x : q) x = pos(rng);
        for (auto& x : k) x = -INFINITY;
        std::vector<float> go(qn), glse(ln), gdq(qn);
        run(q, k, v, dO, go, glse, gdq);
        expectPattern("nonfinite every logit -inf: o = 0", go, [](size_t) { return 2; });
        expectPattern("nonfinite every logit -inf: lse = -inf", glse, [](size_t) { return 3; });
        expectPattern("nonfinite every logit -inf: dq = 0 (no 0 * inf)", gdq, [](size_t) { return 2; });
    }
    {
        // The tensor-core forward, bf16: one NaN in q poisons its row only.
        const Dims t{1, 40, 40, 1, 1, 64};
        const size_t tq = size_t(t.sq) * t.d;
        std::vector<__nv_bfloat16> q(tq), k(tq), v(tq), go(tq);
        for (size_t i = 0; i < tq; ++i) { q[i] = __float2bfloat16_rn(g(rng)); k[i] = __float2bfloat16_rn(g(rng)); v[i] = __float2bfloat16_rn(g(rng)); }
        q[size_t(17) * t.d + 5] = __float2bfloat16_rn(NAN);
        std::vector<float> glse(t.sq);
        int bytes = 0;
        attn_fwd_tc_bf16_d64_smem(&bytes);
        std::vector<unsigned char> smem(bytes + 128);
        dynamicSmem = smem.data();
        launch(attn_fwd_tc_bf16_d64, dim3{1, 1, 1}, 128u, (const __nv_bfloat16*)q.data(), (const __nv_bfloat16*)k.data(),
               (const __nv_bfloat16*)v.data(), go.data(), glse.data(), t.sq, t.sk, t.h, t.hkv, t.d, 0, 0.125f);
        std::vector<float> gof(tq);
        for (size_t i = 0; i < tq; ++i) gof[i] = __bfloat162float(go[i]);
        expectPattern("nonfinite tc: nan in q poisons its row only (o)", gof, [&](size_t at) { return at / t.d == 17 ? 1 : 0; });
        expectPattern("nonfinite tc: nan in q poisons its row only (lse)", glse, [&](size_t at) { return at == 17 ? 1 : 0; });
    }
}

int main(int argc, char** argv) {
    const std::string only = argc > 1 ? argv[1] : "";
    if (only == "serve") return emulation::Server().serve();
    if (only.empty() || only == "features") featureCases();
    if (only.empty() || only == "rotary") rotaryCases();
    if (only.empty() || only == "nonfinite") nonFiniteCases();
    if (!only.empty()) {
        std::printf(failures == 0 ? "all passed\n" : "%d FAILED\n", failures);
        return failures == 0 ? 0 : 1;
    }
    attentionCase({2, 37, 53, 4, 2, 40}, false, 64);
    attentionCase({2, 37, 53, 4, 2, 40}, true, 64);
    attentionCase({1, 70, 33, 3, 1, 16}, true, 32);
    attentionCase({1, 70, 33, 3, 1, 16}, false, 32);
    attentionCase({1, 40, 40, 2, 2, 128}, true, 128);
    attentionCase({1, 19, 40, 2, 1, 200}, true, 256);
    attentionCase({1, 9, 9, 1, 1, 1}, true, 32);
    tensorCoreCase({2, 70, 90, 4, 2, 64}, false, 64);
    tensorCoreCase({2, 70, 90, 4, 2, 64}, true, 64);
    tensorCoreCase({1, 100, 37, 2, 1, 100}, true, 128);
    tensorCoreCase({1, 64, 64, 1, 1, 128}, false, 128);
    normCase(5, 1000, false, false, true);
    normCase(5, 1000, true, false, false);
    normCase(300, 70, false, true, true);
    normCase(3, 300, true, true, false);
    std::printf(failures == 0 ? "all passed\n" : "%d FAILED\n", failures);
    return failures == 0 ? 0 : 1;
}
