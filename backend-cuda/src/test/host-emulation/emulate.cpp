// Runs the CUDA kernels of src/main/cuda on the CPU (one std::thread per CUDA thread, blocks in turn)
// against a float64 reference: a check of index arithmetic, tiling, masking and the online softmax for
// machines without a GPU. It proves nothing about the GPU's memory model or speed; the GPU tests do.
// Build and run: see run.sh.
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "attention.cu"
#include "attention_tc.cu"
#include "norm.cu"

template <typename... A>
static void launch(void (*kernel)(A...), dim3 grid, unsigned threads, A... args) {
    gridDim = grid;
    blockDim = dim3{threads, 1, 1};
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                blockIdx = dim3{x, y, z};
                blockBarrier = std::make_unique<std::barrier<>>(threads);
                std::vector<std::thread> pool;
                for (unsigned t = 0; t < threads; ++t) {
                    pool.emplace_back([&, t] {
                        threadIdx = dim3{t, 0, 0};
                        kernel(args...);
                    });
                }
                for (auto& th : pool) th.join();
            }
}

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

static void attentionCase(Dims n, bool causal, int bucket) {
    std::mt19937 rng(n.sq * 31 + n.sk + n.d + causal);
    std::normal_distribution<float> g;
    auto fill = [&](size_t count) { std::vector<float> v(count); for (auto& x : v) x = g(rng); return v; };
    const size_t qn = size_t(n.b) * n.sq * n.h * n.d, kn = size_t(n.b) * n.sk * n.hkv * n.d, ln = size_t(n.b) * n.h * n.sq;
    auto q = fill(qn), k = fill(kn), v = fill(kn), dO = fill(qn);
    const float scale = 1.0f / std::sqrt(float(n.d));
    auto qi = [&](int b, int i, int h, int d) { return ((size_t(b) * n.sq + i) * n.h + h) * n.d + d; };
    auto ki = [&](int b, int j, int h, int d) { return ((size_t(b) * n.sk + j) * n.hkv + h) * n.d + d; };
    std::vector<double> o(qn), lse(ln), dq(qn), dk(kn), dv(kn);
    const int off = n.sk - n.sq;
    for (int b = 0; b < n.b; ++b) for (int h = 0; h < n.h; ++h) for (int i = 0; i < n.sq; ++i) {
        const int kvh = h / (n.h / n.hkv);
        std::vector<double> s(n.sk, -INFINITY), p(n.sk, 0.0), dp(n.sk, 0.0);
        double m = -INFINITY;
        for (int j = 0; j < n.sk; ++j) {
            if (causal && j > i + off) continue;
            double dot = 0;
            for (int d = 0; d < n.d; ++d) dot += double(q[qi(b, i, h, d)]) * k[ki(b, j, kvh, d)];
            s[j] = dot * scale;
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
                o[qi(b, i, h, d)] += p[j] * v[ki(b, j, kvh, d)];
                dp[j] += double(dO[qi(b, i, h, d)]) * v[ki(b, j, kvh, d)];
            }
            delta += p[j] * dp[j];
        }
        for (int j = 0; j < n.sk; ++j) {
            const double ds = p[j] * (dp[j] - delta);
            for (int d = 0; d < n.d; ++d) {
                dq[qi(b, i, h, d)] += scale * ds * k[ki(b, j, kvh, d)];
                dk[ki(b, j, kvh, d)] += scale * ds * q[qi(b, i, h, d)];
                dv[ki(b, j, kvh, d)] += p[j] * dO[qi(b, i, h, d)];
            }
        }
    }
    std::vector<float> go(qn), glse(ln), gdelta(ln), gdq(qn), gdk(kn), gdv(kn);
    const int rows = 128 / (bucket / 16);
    auto blocks = [](int count, int per) { return unsigned((count + per - 1) / per); };
    using Fwd = void (*)(const float*, const float*, const float*, float*, float*, int, int, int, int, int, int, float);
    using Dq = void (*)(const float*, const float*, const float*, const float*, const float*, const float*, float*, int, int, int, int, int, int, float);
    using Dkdv = void (*)(const float*, const float*, const float*, const float*, const float*, const float*, float*, float*, int, int, int, int, int, int, float);
    Fwd fwd = bucket == 32 ? attn_fwd_f32_d32 : bucket == 64 ? attn_fwd_f32_d64 : bucket == 128 ? attn_fwd_f32_d128 : attn_fwd_f32_d256;
    Dq bdq = bucket == 32 ? attn_bwd_dq_f32_d32 : bucket == 64 ? attn_bwd_dq_f32_d64 : bucket == 128 ? attn_bwd_dq_f32_d128 : attn_bwd_dq_f32_d256;
    Dkdv bkv = bucket == 32 ? attn_bwd_dkdv_f32_d32 : bucket == 64 ? attn_bwd_dkdv_f32_d64 : bucket == 128 ? attn_bwd_dkdv_f32_d128 : attn_bwd_dkdv_f32_d256;
    const int c = causal ? 1 : 0;
    launch(fwd, dim3{blocks(n.sq, rows), unsigned(n.h), unsigned(n.b)}, 128u,
           (const float*)q.data(), (const float*)k.data(), (const float*)v.data(), go.data(), glse.data(), n.sq, n.sk, n.h, n.hkv, n.d, c, scale);
    launch(attn_bwd_delta_f32, dim3{blocks(int(ln), 4), 1, 1}, 128u, (const float*)dO.data(), (const float*)go.data(), gdelta.data(), n.b, n.sq, n.h, n.d);
    launch(bkv, dim3{blocks(n.sk, rows), unsigned(n.hkv), unsigned(n.b)}, 128u,
           (const float*)dO.data(), (const float*)q.data(), (const float*)k.data(), (const float*)v.data(), (const float*)glse.data(),
           (const float*)gdelta.data(), gdk.data(), gdv.data(), n.sq, n.sk, n.h, n.hkv, n.d, c, scale);
    launch(bdq, dim3{blocks(n.sq, rows), unsigned(n.h), unsigned(n.b)}, 128u,
           (const float*)dO.data(), (const float*)q.data(), (const float*)k.data(), (const float*)v.data(), (const float*)glse.data(),
           (const float*)gdelta.data(), gdq.data(), n.sq, n.sk, n.h, n.hkv, n.d, c, scale);
    char name[160];
    auto label = [&](const char* t) {
        std::snprintf(name, sizeof name, "%s B%d Sq%d Sk%d H%d Hkv%d D%d(d%d) causal=%d", t, n.b, n.sq, n.sk, n.h, n.hkv, n.d, bucket, c);
        return name;
    };
    expectClose(label("o"), o, go, 1e-4);
    expectClose(label("lse"), lse, glse, 1e-4);
    expectClose(label("dq"), dq, gdq, 1e-4);
    expectClose(label("dk"), dk, gdk, 1e-4);
    expectClose(label("dv"), dv, gdv, 1e-4);
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

int main() {
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
