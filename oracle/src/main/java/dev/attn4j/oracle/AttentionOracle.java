package dev.attn4j.oracle;

import java.util.Arrays;

/**
 * Naive attention, forward and backward, written straight from docs/design.md §4–5: one query row at a time, every
 * score materialised, no tiling, no online softmax. In {@link Precision#FP64} it is the golden reference;
 * in a reduced precision it rounds every stored value to that storage type and every accumulator to
 * binary32 (the "ref" of the pass rule: how a plain implementation in that dtype would do).
 *
 * <p>Backward, per row {@code i} with probabilities {@code P = exp(s − lse)} and dropout factors
 * {@code Z} ({@code 1/(1−p)} kept, 0 dropped): {@code dV += P·Z·dO},
 * {@code dS = P·(Z·(dO·v) − dO·o)}, through softcap {@code dRaw = dS·(1 − tanh²(raw/c))},
 * {@code dq += scale·dRaw·k}, {@code dk += scale·dRaw·q}, and the bias table collects {@code dS} at its
 * relative position.
 *
 * <pre>{@code
 * AttentionOutputs golden = AttentionOracle.forward(problem, Precision.FP64);
 * AttentionGrads grads = AttentionOracle.backward(problem, dO, Precision.FP64);
 * }</pre>
 */
public final class AttentionOracle {

    private AttentionOracle() {
    }

    /**
     * {@return {@code o} and {@code lse} of the problem}
     *
     * @param p the probability
     * @param precision the precision to compute in
     */
    public static AttentionOutputs forward(AttentionProblem p, Precision precision) {
        return new Run(p, precision).forward();
    }

    /**
     * {@return {@code dq, dk, dv} (and the table gradient when the problem has a table), recomputing the forward}
     *
     * @param p the probability
     * @param dO gradient of the loss w.r.t. o
     * @param precision the precision to compute in
     */
    public static AttentionGrads backward(AttentionProblem p, double[] dO, Precision precision) {
        AttentionDims d = p.dims();
        if (dO.length != d.querySize()) {
            throw new IllegalArgumentException("dO: expected " + d.querySize() + " values, got " + dO.length);
        }
        Run run = new Run(p, precision);
        return run.backward(run.forward(), run.stored(dO));
    }

    /** One evaluation at one precision; holds the inputs rounded to the storage type. */
    private static final class Run {
        private final AttentionProblem p;
        private final AttentionDims d;
        private final Precision store;
        private final Precision acc;
        private final double[] q;
        private final double[] k;
        private final double[] v;

        Run(AttentionProblem p, Precision precision) {
            this.p = p;
            this.d = p.dims();
            this.store = precision;
            this.acc = precision == Precision.FP64 ? Precision.FP64 : Precision.FP32;
            this.q = stored(p.q());
            this.k = stored(p.k());
            this.v = stored(p.v());
        }

        double[] stored(double[] x) {
            double[] r = new double[x.length];
            for (int n = 0; n < x.length; n++) {
                r[n] = store.round(x[n]);
            }
            return r;
        }

        private double a(double x) {
            return acc.round(x);
        }

        /**
         * Scores of row {@code i} (−∞ where masked) into {@code s}; {@code capped[j]} receives
         * {@code tanh(raw/c)} when softcap is on (for its derivative).
         */
        private void scores(int b, int h, int i, double[] s, double[] capped) {
            int g = d.kvHeadOf(h);
            int diag = i + d.offset();
            double slope = p.slope(b, h);
            for (int j = 0; j < d.seqK(); j++) {
                if (p.masked(b, h, i, j)) {
                    s[j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int x = 0; x < d.headDim(); x++) {
                    dot = a(dot + a(q[d.q(b, i, h, x)] * k[d.k(b, j, g, x)]));
                }
                double score = a(p.scale() * dot);
                if (p.softcap() > 0) {
                    double t = a(Math.tanh(a(score / p.softcap())));
                    capped[j] = t;
                    score = a(p.softcap() * t);
                }
                if (slope != 0) {
                    score = a(score - a(slope * Math.abs(diag - j)));
                }
                if (p.biasTable() != null) {
                    score = a(score + p.biasTable()[h * d.tableWidth() + d.tableColumn(i, j)]);
                }
                if (p.denseBias() != null) {
                    score = a(score + p.denseBias().at(d, b, h, i, j));
                }
                s[j] = score;
            }
        }

        /** The dropout factor of element (b, h, i, j): 1/(1−p) kept, 0 dropped, 1 without dropout. */
        private double dropFactor(int b, int h, int i, int j) {
            if (!p.dropout().enabled()) {
                return 1;
            }
            return DropoutBits.kept(p.dropout(), d, b, h, i, j) ? a(1.0 / (1.0 - p.dropout().p())) : 0;
        }

        AttentionOutputs forward() {
            double[] o = new double[d.querySize()];
            double[] lse = new double[d.lseSize()];
            double[] s = new double[d.seqK()];
            double[] capped = new double[d.seqK()];
            double[] row = new double[d.headDim()];
            for (int b = 0; b < d.batch(); b++) {
                for (int h = 0; h < d.heads(); h++) {
                    int g = d.kvHeadOf(h);
                    for (int i = 0; i < d.seqQ(); i++) {
                        scores(b, h, i, s, capped);
                        double max = Double.NEGATIVE_INFINITY;
                        for (double x : s) {
                            max = Math.max(max, x);
                        }
                        if (max == Double.NEGATIVE_INFINITY) {
                            // No unmasked key: o stays 0, lse is -inf (docs/design.md §4 step 6).
                            lse[d.lse(b, h, i)] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double sum = 0;
                        for (double x : s) {
                            if (x != Double.NEGATIVE_INFINITY) {
                                sum = a(sum + a(Math.exp(a(x - max))));
                            }
                        }
                        double rowLse = a(max + a(Math.log(sum)));
                        lse[d.lse(b, h, i)] = rowLse;
                        Arrays.fill(row, 0);
                        for (int j = 0; j < d.seqK(); j++) {
                            if (s[j] == Double.NEGATIVE_INFINITY) {
                                continue;
                            }
                            double pd = store.round(a(a(Math.exp(a(s[j] - rowLse))) * dropFactor(b, h, i, j)));
                            if (pd == 0) {
                                continue;
                            }
                            for (int x = 0; x < d.headDim(); x++) {
                                row[x] = a(row[x] + a(pd * v[d.k(b, j, g, x)]));
                            }
                        }
                        for (int x = 0; x < d.headDim(); x++) {
                            o[d.q(b, i, h, x)] = store.round(row[x]);
                        }
                    }
                }
            }
            return new AttentionOutputs(o, lse);
        }

        AttentionGrads backward(AttentionOutputs fwd, double[] dO) {
            double[] dq = new double[d.querySize()];
            double[] dk = new double[d.keySize()];
            double[] dv = new double[d.keySize()];
            double[] dTable = p.biasTable() != null ? new double[d.heads() * d.tableWidth()] : null;
            double[] s = new double[d.seqK()];
            double[] capped = new double[d.seqK()];
            for (int b = 0; b < d.batch(); b++) {
                for (int h = 0; h < d.heads(); h++) {
                    int g = d.kvHeadOf(h);
                    for (int i = 0; i < d.seqQ(); i++) {
                        double rowLse = fwd.lse()[d.lse(b, h, i)];
                        if (rowLse == Double.NEGATIVE_INFINITY) {
                            continue; // fully masked row: no gradient flows
                        }
                        scores(b, h, i, s, capped);
                        double rowD = 0;
                        for (int x = 0; x < d.headDim(); x++) {
                            rowD = a(rowD + a(dO[d.q(b, i, h, x)] * fwd.o()[d.q(b, i, h, x)]));
                        }
                        for (int j = 0; j < d.seqK(); j++) {
                            if (s[j] == Double.NEGATIVE_INFINITY) {
                                continue;
                            }
                            double prob = a(Math.exp(a(s[j] - rowLse)));
                            double z = dropFactor(b, h, i, j);
                            double dpDropped = 0;
                            for (int x = 0; x < d.headDim(); x++) {
                                dpDropped = a(dpDropped + a(dO[d.q(b, i, h, x)] * v[d.k(b, j, g, x)]));
                            }
                            double dS = store.round(a(prob * a(a(z * dpDropped) - rowD)));
                            double pz = store.round(a(prob * z));
                            double dRaw = p.softcap() > 0 ? a(dS * a(1 - a(capped[j] * capped[j]))) : dS;
                            double sdRaw = a(p.scale() * dRaw);
                            for (int x = 0; x < d.headDim(); x++) {
                                int qi = d.q(b, i, h, x);
                                int ki = d.k(b, j, g, x);
                                dv[ki] = a(dv[ki] + a(pz * dO[qi]));
                                dq[qi] = a(dq[qi] + a(sdRaw * k[ki]));
                                dk[ki] = a(dk[ki] + a(sdRaw * q[qi]));
                            }
                            if (dTable != null) {
                                int t = h * d.tableWidth() + d.tableColumn(i, j);
                                dTable[t] = a(dTable[t] + dS);
                            }
                        }
                    }
                }
            }
            return new AttentionGrads(stored(dq), stored(dk), stored(dv), dTable);
        }
    }
}
