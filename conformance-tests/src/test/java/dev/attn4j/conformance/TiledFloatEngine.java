package dev.attn4j.conformance;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
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
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;

/**
 * A test-only engine computing every feature the way a real kernel does, in {@code float}: attention with
 * FlashAttention-2's tiled online softmax (forward, fully masked tiles skipped) and tile-wise recomputation
 * (backward), dropout bits from the ports mapping (via {@code DropoutBits}), LayerNorm/RMSNorm
 * with Welford statistics; BF16/F16 as storage only (float arithmetic, outputs rounded when stored). It shares nothing with the oracle but the tensor store, so it checks that the
 * pass rule's tolerances admit an honest fp32 implementation whose rounding differs from the ref's.
 */
final class TiledFloatEngine implements BackendEngine {
    private static final int TILE = 16;
    private final OracleEngine store = new OracleEngine("tiled", OracleEngine.coreOnly(), OracleEngine::honest);

    @Override public String name() { return "tiled"; }
    @Override public Capabilities capabilities() {
        // Reduced dtypes as storage only: inputs arrive rounded, arithmetic is float, outputs round on store.
        java.util.Set<DType> dtypes = EnumSet.of(DType.F32, DType.BF16, DType.F16);
        return Capabilities.of(TensorCapabilities.transfers(dtypes),
                new AttentionCapabilities(dtypes, EnumSet.complementOf(EnumSet.of(AttentionFeature.BHSD_LAYOUT)), 1, 512),
                NormCapabilities.all(dtypes));
    }
    @Override public List<String> devices() { return List.of("host"); }
    @Override public TensorPort tensors() { return store.tensors(); }
    @Override public AttentionPort attention() { return attention; }
    @Override public NormalizationPort normalization() { return normalization; }
    @Override public boolean owns(DeviceTensor t) { return store.owns(t); }
    @Override public void close() { store.close(); }

    private float[] get(DeviceTensor t) {
        return store.tensors().download(t);
    }

    private DeviceTensor put(float[] v, DeviceTensor like) {
        return store.tensors().upload(v, like.shape(), like.dtype());
    }

    /** The scores of one call in float, every feature of docs/design.md §4 applied element by element. */
    private final class Scores {
        final AttentionShape s;
        final AttentionOptions o;
        final float[] q, k;
        final float scale, cap;
        final float[] slopes, table, bias;
        final int[] flash;
        final boolean[] mask;

        Scores(AttentionShape s, AttentionOptions o, float[] q, float[] k) {
            this.s = s;
            this.o = o;
            this.q = q;
            this.k = k;
            this.scale = (float) o.scaleFor(s.headDim());
            this.cap = (float) o.softcap();
            this.slopes = o.alibiSlopes() != null ? get(o.alibiSlopes()) : null;
            this.table = o.biasTable() != null ? get(o.biasTable()) : null;
            this.bias = o.denseBias() != null ? get(o.denseBias()) : null;
            this.flash = o.flashMask() != null ? store.tensors().downloadInts(o.flashMask()) : null;
            this.mask = o.denseMask() != null ? store.tensors().downloadBools(o.denseMask()) : null;
        }

        boolean visible(int b, int h, int i, int j) {
            int diag = i + s.offset();
            if (o.causal() && j > diag) return false;
            if (o.windowLeft() >= 0 && j < diag - o.windowLeft()) return false;
            if (o.windowRight() >= 0 && j > diag + o.windowRight()) return false;
            if (flash != null) {
                int n = o.flashMask().shape().dim(3), hm = o.flashMask().shape().dim(1);
                int at = ((b * hm + h / (s.heads() / hm)) * s.seqK() + j) * n, sq = s.seqQ();
                int v0 = Math.min(flash[at], sq), v1 = n > 1 ? Math.min(flash[at + 1], sq) : 0;
                boolean hidden = switch (n) {
                    case 1 -> i >= v0;
                    case 2 -> o.causal() ? i >= v0 && i < v1 : i >= v0 || i < v1;
                    default -> (i >= v0 && i < v1) || (i >= Math.min(flash[at + 2], sq) && i < Math.min(flash[at + 3], sq));
                };
                if (hidden) return false;
            }
            if (mask != null) {
                var ms = o.denseMask().shape();
                return mask[(((ms.dim(0) == 1 ? 0 : b) * ms.dim(1) + (ms.dim(1) == 1 ? 0 : h)) * s.seqQ() + i) * s.seqK() + j];
            }
            return true;
        }

        /** tanh(raw / c) when softcapping, else the raw score: what backward needs for the cap's derivative. */
        float raw(int b, int h, int i, int j) {
            int d = s.headDim();
            int qi = ((b * s.seqQ() + i) * s.heads() + h) * d, ki = ((b * s.seqK() + j) * s.kvHeads() + h / s.groupSize()) * d;
            float dot = 0;
            for (int x = 0; x < d; x++) dot = Math.fma(q[qi + x], k[ki + x], dot);
            return cap > 0 ? (float) Math.tanh(dot * scale / cap) : dot * scale;
        }

        float score(int b, int h, int i, int j, float raw) {
            float sc = cap > 0 ? cap * raw : raw;
            if (slopes != null) {
                float slope = slopes.length == s.heads() ? slopes[h] : slopes[b * s.heads() + h];
                sc -= slope * Math.abs(i + s.offset() - j);
            }
            if (table != null) sc += table[h * (s.seqQ() + s.seqK() - 1) + j - (i + s.offset()) + s.seqK() - 1];
            if (bias != null) {
                var bs = o.denseBias().shape();
                sc += bias[(((bs.dim(0) == 1 ? 0 : b) * bs.dim(1) + (bs.dim(1) == 1 ? 0 : h)) * s.seqQ() + i) * s.seqK() + j];
            }
            return sc;
        }

        float dropFactor(int b, int h, int i, int j) {
            if (!o.dropout().enabled()) return 1;
            var dims = new dev.attn4j.oracle.AttentionDims(s.batch(), s.seqQ(), s.seqK(), s.heads(), s.kvHeads(), s.headDim());
            return dev.attn4j.oracle.DropoutBits.kept(o.dropout(), dims, b, h, i, j)
                    ? (float) (1 / (1 - o.dropout().p())) : 0;
        }
    }

    private final AttentionPort attention = new AttentionPort() {
        @Override
        public AttentionResult forward(AttentionRequest r) {
            AttentionShape s = r.shape();
            float[] q = get(r.q()), v = get(r.v());
            Scores sc = new Scores(s, r.options(), q, get(r.k()));
            int d = s.headDim(), hkv = s.kvHeads(), h = s.heads();
            float[] o = new float[q.length];
            float[] lse = new float[s.batch() * h * s.seqQ()];
            float[] acc = new float[d];
            float[] p = new float[TILE];
            for (int b = 0; b < s.batch(); b++) {
                for (int hh = 0; hh < h; hh++) {
                    int g = hh / s.groupSize();
                    for (int i = 0; i < s.seqQ(); i++) {
                        float m = Float.NEGATIVE_INFINITY, l = 0;
                        java.util.Arrays.fill(acc, 0);
                        for (int j0 = 0; j0 < s.seqK(); j0 += TILE) {
                            int n = Math.min(TILE, s.seqK() - j0);
                            float tileMax = Float.NEGATIVE_INFINITY;
                            for (int t = 0; t < n; t++) {
                                int j = j0 + t;
                                p[t] = sc.visible(b, hh, i, j) ? sc.score(b, hh, i, j, sc.raw(b, hh, i, j)) : Float.NEGATIVE_INFINITY;
                                tileMax = Math.max(tileMax, p[t]);
                            }
                            if (tileMax == Float.NEGATIVE_INFINITY) continue; // a fully masked tile is skipped
                            float mNew = Math.max(m, tileMax);
                            float corr = (float) Math.exp(m - mNew);
                            l *= corr;
                            for (int x = 0; x < d; x++) acc[x] *= corr;
                            for (int t = 0; t < n; t++) {
                                if (p[t] == Float.NEGATIVE_INFINITY) continue;
                                float e = (float) Math.exp(p[t] - mNew);
                                l += e;
                                float ez = e * sc.dropFactor(b, hh, i, j0 + t);
                                int vi = ((b * s.seqK() + j0 + t) * hkv + g) * d;
                                for (int x = 0; x < d; x++) acc[x] = Math.fma(ez, v[vi + x], acc[x]);
                            }
                            m = mNew;
                        }
                        int oi = ((b * s.seqQ() + i) * h + hh) * d;
                        if (m == Float.NEGATIVE_INFINITY) {
                            lse[(b * h + hh) * s.seqQ() + i] = Float.NEGATIVE_INFINITY;
                            continue;
                        }
                        float inv = 1 / l;
                        for (int x = 0; x < d; x++) o[oi + x] = acc[x] * inv;
                        lse[(b * h + hh) * s.seqQ() + i] = m + (float) Math.log(l);
                    }
                }
            }
            return new AttentionResult(put(o, r.q()), store.tensors().upload(lse, s.lseShape(), DType.F32));
        }

        @Override
        public AttentionGradients backward(AttentionBackwardRequest r) {
            AttentionShape s = r.shape();
            float[] q = get(r.q()), k = get(r.k()), v = get(r.v()), o = get(r.o()), dO = get(r.dO()), lse = get(r.lse());
            Scores sc = new Scores(s, r.options(), q, k);
            int d = s.headDim(), hkv = s.kvHeads(), h = s.heads();
            float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
            float[] dTable = r.options().biasTableGrad() ? new float[h * (s.seqQ() + s.seqK() - 1)] : null;
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
                                if (!sc.visible(b, hh, i, j)) continue;
                                int ki = ((b * s.seqK() + j) * hkv + g) * d;
                                float raw = sc.raw(b, hh, i, j);
                                float p = (float) Math.exp(sc.score(b, hh, i, j, raw) - rowLse);
                                float z = sc.dropFactor(b, hh, i, j);
                                float dp = 0;
                                for (int x = 0; x < d; x++) dp = Math.fma(dO[qi + x], v[ki + x], dp);
                                float ds = p * (z * dp - delta);
                                if (dTable != null) dTable[hh * (s.seqQ() + s.seqK() - 1) + j - (i + s.offset()) + s.seqK() - 1] += ds;
                                float dRaw = (sc.cap > 0 ? ds * (1 - raw * raw) : ds) * sc.scale;
                                float pz = p * z;
                                for (int x = 0; x < d; x++) {
                                    dv[ki + x] = Math.fma(pz, dO[qi + x], dv[ki + x]);
                                    dk[ki + x] = Math.fma(dRaw, q[qi + x], dk[ki + x]);
                                    dq[qi + x] = Math.fma(dRaw, k[ki + x], dq[qi + x]);
                                }
                            }
                        }
                    }
                }
            }
            return new AttentionGradients(put(dq, r.q()), put(dk, r.k()), put(dv, r.v()),
                    dTable != null ? store.tensors().upload(dTable, s.biasTableShape(), DType.F32) : null);
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
