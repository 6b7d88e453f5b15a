package dev.attn4j.backend.cuda;

/**
 * Float64 reference for attention with masks, biases, softcap and dropout, written straight from docs/design.md §4
 * and ports' {@code Dropout} Javadoc (with its own Philox in 64-bit arithmetic), sharing nothing with the
 * kernels: full score rows, no tiling.
 */
final class FeatureReference {
    private FeatureReference() {
    }

    /**
     * What a case asks for; arrays are host copies of the option tensors (null = absent). Dense tensors are
     * {@code [dB, dH, Sq, Sk]} with 1 where broadcast.
     */
    record Spec(boolean causal, int windowLeft, int windowRight, double softcap, float[] alibi, boolean alibiPerBatch,
                float[] table, boolean[] denseMask, int maskB, int maskH, float[] denseBias, int biasB, int biasH,
                int[] flashMask, int maskHeads, int n, double dropP, long seed, long offset) {
    }

    /** Everything forward and backward return. */
    record Result(double[] o, double[] lse, double[] dq, double[] dk, double[] dv, double[] dTable) {
    }

    static Result run(float[] q, float[] k, float[] v, float[] dO, Reference.Dims n, double scale, Spec f) {
        int width = n.sq() + n.sk() - 1;
        int off = n.sk() - n.sq();
        double[] o = new double[q.length];
        double[] lse = new double[n.b() * n.h() * n.sq()];
        double[] dq = new double[q.length];
        double[] dk = new double[k.length];
        double[] dv = new double[v.length];
        double[] dTable = new double[n.h() * width];
        for (int b = 0; b < n.b(); b++) {
            for (int h = 0; h < n.h(); h++) {
                int g = h / (n.h() / n.hkv());
                for (int i = 0; i < n.sq(); i++) {
                    double[] s = new double[n.sk()];
                    double[] raw = new double[n.sk()];
                    double[] z = new double[n.sk()];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n.sk(); j++) {
                        s[j] = Double.NEGATIVE_INFINITY;
                        if (masked(f, n, b, h, i, j)) {
                            continue;
                        }
                        double dot = 0;
                        for (int d = 0; d < n.d(); d++) {
                            dot += (double) q[n.q(b, i, h, d)] * k[n.k(b, j, g, d)];
                        }
                        double x = raw[j] = scale * dot;
                        if (f.softcap() > 0) {
                            x = f.softcap() * Math.tanh(x / f.softcap());
                        }
                        int rel = j - (i + off);
                        if (f.alibi() != null) {
                            x -= f.alibi()[f.alibiPerBatch() ? b * n.h() + h : h] * (double) Math.abs(rel);
                        }
                        if (f.table() != null) {
                            x += f.table()[h * width + rel + n.sk() - 1];
                        }
                        if (f.denseBias() != null) {
                            x += f.denseBias()[dense(f.biasB(), f.biasH(), n, b, h, i, j)];
                        }
                        s[j] = x;
                        z[j] = f.dropP() > 0 ? (kept(f, n, b, h, i, j) ? 1 / (1 - f.dropP()) : 0) : 1;
                        max = Math.max(max, x);
                    }
                    if (max == Double.NEGATIVE_INFINITY) {
                        lse[n.lse(b, h, i)] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double sum = 0;
                    double[] p = new double[n.sk()];
                    for (int j = 0; j < n.sk(); j++) {
                        p[j] = Math.exp(s[j] - max);
                        sum += p[j];
                    }
                    lse[n.lse(b, h, i)] = max + Math.log(sum);
                    double[] dp = new double[n.sk()];
                    double delta = 0;
                    for (int j = 0; j < n.sk(); j++) {
                        p[j] /= sum;
                        for (int d = 0; d < n.d(); d++) {
                            o[n.q(b, i, h, d)] += p[j] * z[j] * v[n.k(b, j, g, d)];
                            dp[j] += (double) dO[n.q(b, i, h, d)] * v[n.k(b, j, g, d)];
                        }
                        delta += p[j] * z[j] * dp[j];
                    }
                    for (int j = 0; j < n.sk(); j++) {
                        if (p[j] == 0) {
                            continue;
                        }
                        double dLogit = p[j] * (z[j] * dp[j] - delta);
                        double t = f.softcap() > 0 ? Math.tanh(raw[j] / f.softcap()) : 0;
                        double ds = dLogit * (1 - t * t);
                        dTable[h * width + j - (i + off) + n.sk() - 1] += dLogit;
                        for (int d = 0; d < n.d(); d++) {
                            dq[n.q(b, i, h, d)] += scale * ds * k[n.k(b, j, g, d)];
                            dk[n.k(b, j, g, d)] += scale * ds * q[n.q(b, i, h, d)];
                            dv[n.k(b, j, g, d)] += p[j] * z[j] * dO[n.q(b, i, h, d)];
                        }
                    }
                }
            }
        }
        return new Result(o, lse, dq, dk, dv, dTable);
    }

    private static int dense(int db, int dh, Reference.Dims n, int b, int h, int i, int j) {
        return (((db == 1 ? 0 : b) * dh + (dh == 1 ? 0 : h)) * n.sq() + i) * n.sk() + j;
    }

    private static boolean masked(Spec f, Reference.Dims n, int b, int h, int i, int j) {
        int diag = i + n.sk() - n.sq();
        if ((f.causal() && j > diag) || (f.windowLeft() >= 0 && j < diag - f.windowLeft())
                || (f.windowRight() >= 0 && j > diag + f.windowRight())) {
            return true;
        }
        if (f.denseMask() != null && !f.denseMask()[dense(f.maskB(), f.maskH(), n, b, h, i, j)]) {
            return true;
        }
        if (f.flashMask() != null) {
            int mh = h / (n.h() / f.maskHeads());
            int at = ((b * f.maskHeads() + mh) * n.sk() + j) * f.n();
            int[] r = new int[f.n()];
            for (int x = 0; x < f.n(); x++) {
                r[x] = Math.min(f.flashMask()[at + x], n.sq());  // values above Sq act as Sq
            }
            if (f.causal()) {
                return f.n() == 1 ? i >= r[0] : i >= r[0] && i < r[1];
            }
            return f.n() == 2 ? i >= r[0] || i < r[1] : (i >= r[0] && i < r[1]) || (i >= r[2] && i < r[3]);
        }
        return false;
    }

    /** ports' Dropout rule: n = ((b H + h) Sq + i) Sk + j, word n & 3 of Philox(n >>> 2, offset), u >= p. */
    static boolean kept(Spec f, Reference.Dims n, int b, int h, int i, int j) {
        long e = (((long) b * n.h() + h) * n.sq() + i) * n.sk() + j;
        long block = e >>> 2;
        int[] w = philox(new int[] {(int) block, (int) (block >>> 32), (int) f.offset(), (int) (f.offset() >>> 32)},
                (int) f.seed(), (int) (f.seed() >>> 32));
        double u = (w[(int) (e & 3)] >>> 8) * 0x1p-24;
        return u >= f.dropP();
    }

    /** Philox4x32-10 with 64-bit products. */
    static int[] philox(int[] ctr, int k0, int k1) {
        long[] c = {ctr[0] & 0xffffffffL, ctr[1] & 0xffffffffL, ctr[2] & 0xffffffffL, ctr[3] & 0xffffffffL};
        long key0 = k0 & 0xffffffffL;
        long key1 = k1 & 0xffffffffL;
        for (int round = 0; round < 10; round++) {
            long p0 = 0xD2511F53L * c[0];
            long p1 = 0xCD9E8D57L * c[2];
            long n0 = ((p1 >>> 32) ^ c[1] ^ key0) & 0xffffffffL;
            long n1 = p1 & 0xffffffffL;
            long n2 = ((p0 >>> 32) ^ c[3] ^ key1) & 0xffffffffL;
            long n3 = p0 & 0xffffffffL;
            c = new long[] {n0, n1, n2, n3};
            key0 = (key0 + 0x9E3779B9L) & 0xffffffffL;
            key1 = (key1 + 0xBB67AE85L) & 0xffffffffL;
        }
        return new int[] {(int) c[0], (int) c[1], (int) c[2], (int) c[3]};
    }
}
