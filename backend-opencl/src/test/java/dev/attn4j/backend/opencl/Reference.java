package dev.attn4j.backend.opencl;

/**
 * Naive attention and normalisation written straight from docs/design.md §4–5, for the tests. Every arithmetic
 * result passes through {@link #r}: in {@link #EXACT} mode it is double precision (the golden values), in
 * {@link #FP32} mode it is rounded to float after each step (a naive fp32 computation, whose distance from
 * golden sets the tolerance, as PyTorch's rule does).
 */
final class Reference {
    static final Reference EXACT = new Reference(false);
    static final Reference FP32 = new Reference(true);

    private final boolean fp32;

    private Reference(boolean fp32) {
        this.fp32 = fp32;
    }

    double r(double x) {
        return fp32 ? (float) x : x;
    }

    /**
     * The O(S²) escape hatches, FlashMask and dropout of a case: dense mask {@code [maskB, maskH, Sq, Sk]},
     * dense bias {@code [biasB, biasH, Sq, Sk]}, FlashMask {@code [B, flashHeads, Sk, flashN]}.
     */
    record Extras(boolean[] mask, int maskB, int maskH, double[] bias, int biasB, int biasH, int[] flash,
                  int flashHeads, int flashN, double dropP, long seed, long offset) {
        static final Extras NONE = new Extras(null, 0, 0, null, 0, 0, null, 0, 0, 0, 0, 0);

        Extras withMask(boolean[] m, int mb, int mh) {
            return new Extras(m, mb, mh, bias, biasB, biasH, flash, flashHeads, flashN, dropP, seed, offset);
        }

        Extras withBias(double[] t, int bb, int bh) {
            return new Extras(mask, maskB, maskH, t, bb, bh, flash, flashHeads, flashN, dropP, seed, offset);
        }

        Extras withFlash(int[] f, int heads, int n) {
            return new Extras(mask, maskB, maskH, bias, biasB, biasH, f, heads, n, dropP, seed, offset);
        }

        Extras withDropout(double p, long sd, long off) {
            return new Extras(mask, maskB, maskH, bias, biasB, biasH, flash, flashHeads, flashN, p, sd, off);
        }

        @Override
        public String toString() {
            return (mask != null ? " denseMask[" + maskB + "," + maskH + "]" : "")
                    + (bias != null ? " denseBias[" + biasB + "," + biasH + "]" : "")
                    + (flash != null ? " flashMask[Hm=" + flashHeads + ",n=" + flashN + "]" : "")
                    + (dropP > 0 ? " dropout=" + dropP : "");
        }
    }

    /** Problem sizes and options of one attention case. */
    record Problem(int b, int sq, int sk, int h, int hkv, int d, boolean causal, int winLeft, int winRight,
                   double softcap, double[] alibi, boolean alibiPerBatch, double[] table, Extras x) {

        Problem(int b, int sq, int sk, int h, int hkv, int d, boolean causal, int winLeft, int winRight,
                double softcap, double[] alibi, boolean alibiPerBatch, double[] table) {
            this(b, sq, sk, h, hkv, d, causal, winLeft, winRight, softcap, alibi, alibiPerBatch, table, Extras.NONE);
        }

        Problem with(Extras extras) {
            return new Problem(b, sq, sk, h, hkv, d, causal, winLeft, winRight, softcap, alibi, alibiPerBatch, table,
                    extras);
        }
        double scale() {
            return 1.0 / Math.sqrt(d);
        }

        int off() {
            return sk - sq;
        }

        /** A seed fixed by the case's contents, so every run draws the same data. */
        long seed() {
            return java.util.Objects.hash(b, sq, sk, h, hkv, d, causal, winLeft, winRight, softcap,
                    java.util.Arrays.hashCode(alibi), alibiPerBatch, java.util.Arrays.hashCode(table), x.toString(),
                    java.util.Arrays.hashCode(x.flash), java.util.Arrays.hashCode(x.mask), x.seed);
        }

        @Override
        public String toString() {
            return "B=" + b + " Sq=" + sq + " Sk=" + sk + " H=" + h + " Hkv=" + hkv + " D=" + d
                    + (causal ? " causal" : "") + (winLeft >= 0 || winRight >= 0 ? " window(" + winLeft + "," + winRight + ")" : "")
                    + (softcap > 0 ? " softcap=" + softcap : "") + (alibi != null ? " alibi" + (alibiPerBatch ? "[B,H]" : "[H]") : "")
                    + (table != null ? " table" : "") + x;
        }

        boolean masked(int bb, int hh, int i, int j) {
            int diag = i + off();
            if ((causal && j > diag) || (winLeft >= 0 && j < diag - winLeft) || (winRight >= 0 && j > diag + winRight)) {
                return true;
            }
            if (x.mask != null && !x.mask[dense(x.maskB, x.maskH, bb, hh, i, j)]) {
                return true;
            }
            if (x.flash != null) {
                int hm = hh / (h / x.flashHeads);
                int base = ((bb * x.flashHeads + hm) * sk + j) * x.flashN;
                int[] f = x.flash;
                int n = x.flashN;
                // docs/design.md §4 step 4, FlashMask: values above Sq act as Sq.
                int a = Math.min(f[base], sq);
                int b1 = n > 1 ? Math.min(f[base + 1], sq) : 0;
                if (causal) {
                    return n == 1 ? i >= a : (i >= a && i < b1);
                }
                return n == 2 ? (i >= a || i < b1)
                        : ((i >= a && i < b1) || (i >= Math.min(f[base + 2], sq) && i < Math.min(f[base + 3], sq)));
            }
            return false;
        }

        int dense(int db, int dh, int bb, int hh, int i, int j) {
            return (((db == 1 ? 0 : bb) * dh + (dh == 1 ? 0 : hh)) * sq + i) * sk + j;
        }

        /** The dropout factor of element (b, h, i, j), straight from the Dropout Javadoc. */
        double keep(int bb, int hh, int i, int j) {
            if (x.dropP <= 0) return 1;
            long n = (((long) bb * h + hh) * sq + i) * sk + j;
            long c = n >>> 2;
            int[] w = philox4x32x10((int) c, (int) (c >>> 32), (int) x.offset, (int) (x.offset >>> 32),
                    (int) x.seed, (int) (x.seed >>> 32));
            double u = (w[(int) (n & 3)] >>> 8) * 0x1p-24;
            return u >= x.dropP ? 1.0 / (1.0 - x.dropP) : 0.0;
        }
    }

    /** Philox4x32-10 of Salmon et al. (SC'11): four output words. */
    static int[] philox4x32x10(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            long p0 = 0xD2511F53L * (c0 & 0xFFFFFFFFL);
            long p1 = 0xCD9E8D57L * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c0 = n0;
            c1 = (int) p1;
            c2 = n2;
            c3 = (int) p0;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** Raw scaled score, before softcap. */
    private double raw(Problem p, double[] q, double[] k, int bb, int hh, int i, int j) {
        int hk = hh / (p.h / p.hkv);
        int qo = ((bb * p.sq + i) * p.h + hh) * p.d;
        int ko = ((bb * p.sk + j) * p.hkv + hk) * p.d;
        double dot = 0;
        for (int x = 0; x < p.d; x++) {
            dot = r(dot + r(r(q[qo + x] * p.scale()) * k[ko + x]));
        }
        return dot;
    }

    private double logit(Problem p, double raw, int bb, int hh, int i, int j) {
        double s = raw;
        if (p.softcap > 0) {
            s = r(p.softcap * r(Math.tanh(r(s / p.softcap))));
        }
        int rel = j - (i + p.off());
        if (p.alibi != null) {
            double slope = p.alibi[p.alibiPerBatch ? bb * p.h + hh : hh];
            s = r(s - r(slope * Math.abs(rel)));
        }
        if (p.table != null) {
            s = r(s + p.table[hh * (p.sq + p.sk - 1) + rel + p.sk - 1]);
        }
        if (p.x.bias != null) {
            s = r(s + p.x.bias[p.dense(p.x.biasB, p.x.biasH, bb, hh, i, j)]);
        }
        return s;
    }

    /** {@code [o, lse]}. */
    double[][] forward(Problem p, double[] q, double[] k, double[] v) {
        double[] o = new double[p.b * p.sq * p.h * p.d];
        double[] lse = new double[p.b * p.h * p.sq];
        int hk;
        for (int bb = 0; bb < p.b; bb++) {
            for (int hh = 0; hh < p.h; hh++) {
                hk = hh / (p.h / p.hkv);
                for (int i = 0; i < p.sq; i++) {
                    double[] s = new double[p.sk];
                    double m = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < p.sk; j++) {
                        s[j] = p.masked(bb, hh, i, j) ? Double.NEGATIVE_INFINITY : logit(p, raw(p, q, k, bb, hh, i, j), bb, hh, i, j);
                        m = Math.max(m, s[j]);
                    }
                    int oo = ((bb * p.sq + i) * p.h + hh) * p.d;
                    int li = (bb * p.h + hh) * p.sq + i;
                    if (m == Double.NEGATIVE_INFINITY) {
                        lse[li] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double l = 0;
                    double[] acc = new double[p.d];
                    for (int j = 0; j < p.sk; j++) {
                        if (s[j] == Double.NEGATIVE_INFINITY) continue;
                        double e = r(Math.exp(r(s[j] - m)));
                        l = r(l + e);
                        int vo = ((bb * p.sk + j) * p.hkv + hk) * p.d;
                        double ek = r(e * p.keep(bb, hh, i, j));
                        for (int x = 0; x < p.d; x++) {
                            acc[x] = r(acc[x] + r(ek * v[vo + x]));
                        }
                    }
                    for (int x = 0; x < p.d; x++) {
                        o[oo + x] = r(acc[x] / l);
                    }
                    lse[li] = r(m + r(Math.log(l)));
                }
            }
        }
        return new double[][] {o, lse};
    }

    /** {@code [dq, dk, dv, dTable]} for upstream gradient {@code dout}, recomputing everything from q, k, v. */
    double[][] backward(Problem p, double[] q, double[] k, double[] v, double[] dout) {
        double[] lse = forward(p, q, k, v)[1];
        double[] dq = new double[q.length];
        double[] dk = new double[k.length];
        double[] dv = new double[v.length];
        double[] dTable = new double[p.h * (p.sq + p.sk - 1)];
        for (int bb = 0; bb < p.b; bb++) {
            for (int hh = 0; hh < p.h; hh++) {
                int hk = hh / (p.h / p.hkv);
                for (int i = 0; i < p.sq; i++) {
                    double rowLse = lse[(bb * p.h + hh) * p.sq + i];
                    if (rowLse == Double.NEGATIVE_INFINITY) continue;
                    int qo = ((bb * p.sq + i) * p.h + hh) * p.d;
                    double[] prob = new double[p.sk];
                    double[] dp = new double[p.sk];
                    double[] grad = new double[p.sk];
                    double[] z = new double[p.sk];
                    double delta = 0;
                    for (int j = 0; j < p.sk; j++) {
                        if (p.masked(bb, hh, i, j)) continue;
                        z[j] = p.keep(bb, hh, i, j);
                        int ko = ((bb * p.sk + j) * p.hkv + hk) * p.d;
                        double raw = raw(p, q, k, bb, hh, i, j);
                        prob[j] = r(Math.exp(r(logit(p, raw, bb, hh, i, j) - rowLse)));
                        if (p.softcap > 0) {
                            double t = Math.tanh(raw / p.softcap);
                            grad[j] = r(1 - r(t * t));
                        } else {
                            grad[j] = 1;
                        }
                        double acc = 0;
                        for (int x = 0; x < p.d; x++) acc = r(acc + r(dout[qo + x] * v[ko + x]));
                        dp[j] = r(z[j] * acc);
                        delta = r(delta + r(prob[j] * dp[j]));
                    }
                    for (int j = 0; j < p.sk; j++) {
                        if (p.masked(bb, hh, i, j)) continue;
                        int ko = ((bb * p.sk + j) * p.hkv + hk) * p.d;
                        double dlogit = r(prob[j] * r(dp[j] - delta));
                        int t = hh * (p.sq + p.sk - 1) + j - (i + p.off()) + p.sk - 1;
                        dTable[t] = r(dTable[t] + dlogit);
                        double ds = r(r(dlogit * grad[j]) * p.scale());
                        double pz = r(prob[j] * z[j]);
                        for (int x = 0; x < p.d; x++) {
                            dq[qo + x] = r(dq[qo + x] + r(ds * k[ko + x]));
                            dk[ko + x] = r(dk[ko + x] + r(ds * q[qo + x]));
                            dv[ko + x] = r(dv[ko + x] + r(pz * dout[qo + x]));
                        }
                    }
                }
            }
        }
        return new double[][] {dq, dk, dv, dTable};
    }

    /** A normalisation case: rows × cols, LayerNorm or RMSNorm, optional beta and residual. */
    record Norm(boolean layerNorm, int rows, int cols, double eps, double alpha, boolean residual, boolean beta) {
    }

    /** {@code [y, mean, rstd, h]}. */
    double[][] normForward(Norm n, double[] x, double[] res, double[] gamma, double[] beta) {
        double[] h = new double[x.length];
        double[] y = new double[x.length];
        double[] mean = new double[n.rows];
        double[] rstd = new double[n.rows];
        for (int row = 0; row < n.rows; row++) {
            int base = row * n.cols;
            double sum = 0;
            for (int c = 0; c < n.cols; c++) {
                h[base + c] = n.residual ? r(r(n.alpha * res[base + c]) + x[base + c]) : x[base + c];
                sum = r(sum + h[base + c]);
            }
            double mu = n.layerNorm ? r(sum / n.cols) : 0;
            double var = 0;
            for (int c = 0; c < n.cols; c++) {
                double t = r(h[base + c] - mu);
                var = r(var + r(t * t));
            }
            double rs = r(1 / r(Math.sqrt(r(r(var / n.cols) + n.eps))));
            for (int c = 0; c < n.cols; c++) {
                double t = r(r(r(h[base + c] - mu) * rs) * gamma[c]);
                y[base + c] = n.beta ? r(t + beta[c]) : t;
            }
            mean[row] = mu;
            rstd[row] = rs;
        }
        return new double[][] {y, mean, rstd, h};
    }

    /** {@code [dInput, dResidual, dGamma, dBeta]}; {@code dsum} may be null. */
    double[][] normBackward(Norm n, double[] x, double[] res, double[] gamma, double[] beta, double[] dy, double[] dsum) {
        double[][] f = normForward(n, x, res, gamma, beta);
        double[] h = f[3];
        double[] dIn = new double[x.length];
        double[] dRes = new double[x.length];
        double[] dGamma = new double[n.cols];
        double[] dBeta = new double[n.cols];
        for (int row = 0; row < n.rows; row++) {
            int base = row * n.cols;
            double mu = f[1][row], rs = f[2][row];
            double sg = 0, sgx = 0;
            for (int c = 0; c < n.cols; c++) {
                double g = r(dy[base + c] * gamma[c]);
                double xhat = r(r(h[base + c] - mu) * rs);
                sg = r(sg + g);
                sgx = r(sgx + r(g * xhat));
                dGamma[c] = r(dGamma[c] + r(dy[base + c] * xhat));
                dBeta[c] = r(dBeta[c] + dy[base + c]);
            }
            double mg = n.layerNorm ? r(sg / n.cols) : 0;
            double mgx = r(sgx / n.cols);
            for (int c = 0; c < n.cols; c++) {
                double g = r(dy[base + c] * gamma[c]);
                double xhat = r(r(h[base + c] - mu) * rs);
                double dh = r(rs * r(r(g - mg) - r(xhat * mgx)));
                if (dsum != null) dh = r(dh + dsum[base + c]);
                dIn[base + c] = dh;
                dRes[base + c] = r(n.alpha * dh);
            }
        }
        return new double[][] {dIn, dRes, dGamma, dBeta};
    }
}
