package dev.attn4j.conformance;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.Capability;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;

/**
 * A test-only engine computing the core features the way a real kernel does, in {@code float}: attention with
 * FlashAttention-2's tiled online softmax (forward) and tile-wise recomputation (backward), LayerNorm/RMSNorm
 * with Welford statistics. It shares nothing with the oracle but the tensor store, so it checks that the
 * pass rule's tolerances admit an honest fp32 implementation whose rounding differs from the ref's.
 */
final class TiledFloatEngine implements BackendEngine {
    private static final int TILE = 16;
    private final OracleEngine store = new OracleEngine("tiled", OracleEngine.coreOnly(), OracleEngine::honest);

    @Override public String name() { return "tiled"; }
    @Override public Capabilities capabilities() {
        return new Capabilities(EnumSet.of(DType.F32), EnumSet.of(Capability.ATTENTION_FORWARD,
                Capability.ATTENTION_BACKWARD, Capability.CAUSAL, Capability.GQA, Capability.LAYER_NORM,
                Capability.RMS_NORM, Capability.FUSED_RESIDUAL_NORM), 1, 512);
    }
    @Override public List<String> devices() { return List.of("host"); }
    @Override public TensorPort tensors() { return store.tensors(); }
    @Override public AttentionPort attention() { return attention; }
    @Override public NormalizationPort normalization() { return normalization; }
    @Override public RotaryPort rotary() { throw new UnsupportedOperationException("not declared"); }
    @Override public boolean owns(DeviceTensor t) { return store.owns(t); }
    @Override public void close() { store.close(); }

    private float[] get(DeviceTensor t) {
        return store.tensors().download(t);
    }

    private DeviceTensor put(float[] v, DeviceTensor like) {
        return store.tensors().upload(v, like.shape(), like.dtype());
    }

    private final AttentionPort attention = new AttentionPort() {
        @Override
        public AttentionResult forward(AttentionRequest r) {
            AttentionShape s = r.shape();
            float[] q = get(r.q()), k = get(r.k()), v = get(r.v());
            int d = s.headDim(), hkv = s.kvHeads(), h = s.heads();
            float scale = (float) r.options().scaleFor(d);
            float[] o = new float[q.length];
            float[] lse = new float[s.batch() * h * s.seqQ()];
            float[] acc = new float[d];
            float[] p = new float[TILE];
            for (int b = 0; b < s.batch(); b++) {
                for (int hh = 0; hh < h; hh++) {
                    int g = hh / s.groupSize();
                    for (int i = 0; i < s.seqQ(); i++) {
                        int limit = r.options().causal() ? Math.min(s.seqK(), i + s.offset() + 1) : s.seqK();
                        float m = Float.NEGATIVE_INFINITY, l = 0;
                        java.util.Arrays.fill(acc, 0);
                        for (int j0 = 0; j0 < limit; j0 += TILE) {
                            int n = Math.min(TILE, limit - j0);
                            float tileMax = Float.NEGATIVE_INFINITY;
                            for (int t = 0; t < n; t++) {
                                float dot = 0;
                                int qi = ((b * s.seqQ() + i) * h + hh) * d, ki = ((b * s.seqK() + j0 + t) * hkv + g) * d;
                                for (int x = 0; x < d; x++) dot = Math.fma(q[qi + x], k[ki + x], dot);
                                p[t] = dot * scale;
                                tileMax = Math.max(tileMax, p[t]);
                            }
                            float mNew = Math.max(m, tileMax);
                            float corr = (float) Math.exp(m - mNew);
                            l *= corr;
                            for (int x = 0; x < d; x++) acc[x] *= corr;
                            for (int t = 0; t < n; t++) {
                                float e = (float) Math.exp(p[t] - mNew);
                                l += e;
                                int vi = ((b * s.seqK() + j0 + t) * hkv + g) * d;
                                for (int x = 0; x < d; x++) acc[x] = Math.fma(e, v[vi + x], acc[x]);
                            }
                            m = mNew;
                        }
                        int oi = ((b * s.seqQ() + i) * h + hh) * d;
                        if (limit <= 0) {
                            lse[(b * h + hh) * s.seqQ() + i] = Float.NEGATIVE_INFINITY;
                            continue;
                        }
                        float inv = 1 / l;
                        for (int x = 0; x < d; x++) o[oi + x] = acc[x] * inv;
                        lse[(b * h + hh) * s.seqQ() + i] = m + (float) Math.log(l);
                    }
                }
            }
            return new AttentionResult(put(o, r.q()), store.tensors().upload(lse,
                    s.lseShape(), DType.F32));
        }

        @Override
        public AttentionGradients backward(AttentionBackwardRequest r) {
            AttentionShape s = r.shape();
            float[] q = get(r.q()), k = get(r.k()), v = get(r.v()), o = get(r.o()), dO = get(r.dO()), lse = get(r.lse());
            int d = s.headDim(), hkv = s.kvHeads(), h = s.heads();
            float scale = (float) r.options().scaleFor(d);
            float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
            // Key-tile outer loop, as FA2's backward: dk, dv of a tile accumulate over every query row.
            for (int b = 0; b < s.batch(); b++) {
                for (int j0 = 0; j0 < s.seqK(); j0 += TILE) {
                    int n = Math.min(TILE, s.seqK() - j0);
                    for (int hh = 0; hh < h; hh++) {
                        int g = hh / s.groupSize();
                        for (int i = 0; i < s.seqQ(); i++) {
                            float rowLse = lse[(b * h + hh) * s.seqQ() + i];
                            if (rowLse == Float.NEGATIVE_INFINITY) continue;
                            int qi = ((b * s.seqQ() + i) * h + hh) * d;
                            float delta = 0;
                            for (int x = 0; x < d; x++) delta = Math.fma(dO[qi + x], o[qi + x], delta);
                            for (int t = 0; t < n; t++) {
                                int j = j0 + t;
                                if (r.options().causal() && j > i + s.offset()) continue;
                                int ki = ((b * s.seqK() + j) * hkv + g) * d;
                                float dot = 0, dp = 0;
                                for (int x = 0; x < d; x++) {
                                    dot = Math.fma(q[qi + x], k[ki + x], dot);
                                    dp = Math.fma(dO[qi + x], v[ki + x], dp);
                                }
                                float p = (float) Math.exp(dot * scale - rowLse);
                                float ds = p * (dp - delta) * scale;
                                for (int x = 0; x < d; x++) {
                                    dv[ki + x] = Math.fma(p, dO[qi + x], dv[ki + x]);
                                    dk[ki + x] = Math.fma(ds, q[qi + x], dk[ki + x]);
                                    dq[qi + x] = Math.fma(ds, k[ki + x], dq[qi + x]);
                                }
                            }
                        }
                    }
                }
            }
            return new AttentionGradients(put(dq, r.q()), put(dk, r.k()), put(dv, r.v()), null);
        }
    };

    private final NormalizationPort normalization = new NormalizationPort() {
        @Override
        public NormResult forward(NormRequest r) {
            float[] in = get(r.input()), gamma = get(r.gamma());
            float[] beta = r.beta() != null ? get(r.beta()) : null;
            float[] h = in.clone();
            if (r.residual() != null) {
                float[] res = get(r.residual());
                float a = (float) r.residualScale();
                for (int i = 0; i < h.length; i++) h[i] = Math.fma(a, res[i], in[i]);
            }
            int c = gamma.length, rows = h.length / c;
            float[] y = new float[h.length], mean = new float[rows], rstd = new float[rows];
            boolean ln = r.kind() == NormKind.LAYER_NORM;
            for (int row = 0; row < rows; row++) {
                float mu = 0, m2 = 0; // Welford
                for (int x = 0; x < c; x++) {
                    float val = h[row * c + x];
                    if (ln) {
                        float delta = val - mu;
                        mu += delta / (x + 1);
                        m2 = Math.fma(delta, val - mu, m2);
                    } else {
                        m2 = Math.fma(val, val, m2);
                    }
                }
                mean[row] = ln ? mu : 0;
                rstd[row] = (float) (1 / Math.sqrt(m2 / c + (float) r.eps()));
                for (int x = 0; x < c; x++) {
                    float xhat = (h[row * c + x] - mean[row]) * rstd[row];
                    y[row * c + x] = beta != null ? Math.fma(xhat, gamma[x], beta[x]) : xhat * gamma[x];
                }
            }
            DeviceTensor stats = store.tensors().upload(rstd, r.statsShape(), DType.F32);
            return new NormResult(put(y, r.input()), ln ? store.tensors().upload(mean, r.statsShape(), DType.F32) : null,
                    stats, r.residual() != null ? put(h, r.input()) : null);
        }

        @Override
        public NormGradients backward(NormBackwardRequest r) {
            NormRequest f = r.forward();
            float[] h = get(r.normalizedInput()), dy = get(r.dy()), gamma = get(f.gamma()), rstd = get(r.saved().rstd());
            float[] mean = r.saved().mean() != null ? get(r.saved().mean()) : null;
            float[] dSum = r.dSum() != null ? get(r.dSum()) : null;
            int c = gamma.length, rows = h.length / c;
            float[] dIn = new float[h.length], dGamma = new float[c], dBeta = new float[c];
            for (int row = 0; row < rows; row++) {
                float mu = mean != null ? mean[row] : 0, sg = 0, sgx = 0;
                for (int x = 0; x < c; x++) {
                    int i = row * c + x;
                    float xhat = (h[i] - mu) * rstd[row], g = dy[i] * gamma[x];
                    sg += g;
                    sgx = Math.fma(g, xhat, sgx);
                    dGamma[x] = Math.fma(dy[i], xhat, dGamma[x]);
                    dBeta[x] += dy[i];
                }
                float mg = mean != null ? sg / c : 0, mgx = sgx / c;
                for (int x = 0; x < c; x++) {
                    int i = row * c + x;
                    float xhat = (h[i] - mu) * rstd[row];
                    dIn[i] = rstd[row] * (dy[i] * gamma[x] - mg - xhat * mgx) + (dSum != null ? dSum[i] : 0);
                }
            }
            float[] dRes = null;
            if (f.residual() != null) {
                dRes = new float[dIn.length];
                for (int i = 0; i < dIn.length; i++) dRes[i] = (float) f.residualScale() * dIn[i];
            }
            return new NormGradients(put(dIn, f.input()), dRes != null ? put(dRes, f.input()) : null,
                    put(dGamma, f.gamma()), f.beta() != null ? put(dBeta, f.beta()) : null);
        }
    };
}
