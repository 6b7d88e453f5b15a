package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Attention forward, one work item per query row {@code (b, h, i)} (numbered as {@code lse [B, H, Sq]}):
 * a first pass over the keys finds the row's maximum score and softmax denominator, a second accumulates
 * {@code o = Σ p·v} straight into the output row, so no per-item array of head-dim size is needed (TornadoVM
 * private arrays need a compile-time size). Scores are recomputed rather than stored: memory stays O(1) per row.
 *
 * <p>ALiBi distances are taken as {@code Math.abs} of a float: TornadoVM 5.2.1's OpenCL graph-builder plugin
 * for the int overload fails to build the kernel ("plugin manipulated the stack incorrectly").
 */
final class AttentionKernels {
    private AttentionKernels() {
    }

    static void forward(FloatArray q, FloatArray k, FloatArray v, FloatArray slopes, FloatArray o, FloatArray lse,
                        int rows, int sq,
                        int sk, int heads, int kvHeads, int d, float scale, float softcap, int reachLeft, int reachRight) {
        for (@Parallel int t = 0; t < rows; t++) {
            int i = t % sq;
            int h = (t / sq) % heads;
            int b = t / (sq * heads);
            int hk = h / (heads / kvHeads);
            int qBase = ((b * sq + i) * heads + h) * d;
            float slope = slopes.get(b * heads + h);
            // Keys i + reachLeft <= j <= i + reachRight are visible (see TornadoAttention.Key). One formula, not
            // a branch on a causal flag: with `causal ? min(..) : sk` TornadoVM 5.2.1 on POCL produced a wrong
            // output (o) for every non-causal plan while lse stayed right.
            int start = Math.max(0, i + reachLeft);
            int end = Math.min(sk, i + reachRight + 1);
            float m = Float.NEGATIVE_INFINITY;
            float l = 0.0f;
            for (int j = start; j < end; j++) {
                int kBase = ((b * sk + j) * kvHeads + hk) * d;
                float s = 0.0f;
                for (int x = 0; x < d; x++) {
                    s += q.get(qBase + x) * k.get(kBase + x);
                }
                s = score(s * scale, softcap) - slope * Math.abs((float) (i + sk - sq - j));
                float mNew = TornadoMath.max(m, s);
                l = l * TornadoMath.exp(m - mNew) + TornadoMath.exp(s - mNew);
                m = mNew;
            }
            if (end <= start) {
                for (int x = 0; x < d; x++) {
                    o.set(qBase + x, 0.0f);
                }
                lse.set(t, Float.NEGATIVE_INFINITY);
            } else {
                float inv = 1.0f / l;
                for (int j = start; j < end; j++) {
                    int kBase = ((b * sk + j) * kvHeads + hk) * d;
                    float s = 0.0f;
                    for (int x = 0; x < d; x++) {
                        s += q.get(qBase + x) * k.get(kBase + x);
                    }
                    float p = TornadoMath.exp(score(s * scale, softcap) - slope * Math.abs((float) (i + sk - sq - j)) - m) * inv;
                    for (int x = 0; x < d; x++) {
                        // The first key writes rather than adds, so the row needs no zeroing pass.
                        float prev = j == start ? 0.0f : o.get(qBase + x);
                        o.set(qBase + x, prev + p * v.get(kBase + x));
                    }
                }
                lse.set(t, m + TornadoMath.log(l));
            }
        }
    }

    /** {@code delta = rowsum(dO ∘ o)} per query row, numbered as {@code lse}. */
    static void rowDot(FloatArray dO, FloatArray o, FloatArray delta, int rows, int sq, int heads, int d) {
        for (@Parallel int t = 0; t < rows; t++) {
            int i = t % sq;
            int h = (t / sq) % heads;
            int b = t / (sq * heads);
            int base = ((b * sq + i) * heads + h) * d;
            float acc = 0.0f;
            for (int x = 0; x < d; x++) {
                acc += dO.get(base + x) * o.get(base + x);
            }
            delta.set(t, acc);
        }
    }

    /**
     * {@code dq_i = scale · Σ_j p_ij (dO_i·v_j − delta_i) k_j}, one work item per query row, with
     * {@code p_ij = exp(scale·q_i·k_j − lse_i)} recomputed from the saved log-sum-exp.
     */
    static void backwardQ(FloatArray q, FloatArray k, FloatArray v, FloatArray slopes, FloatArray dO, FloatArray lse,
                          FloatArray delta, FloatArray dq, int rows, int sq, int sk, int heads, int kvHeads, int d, float scale,
                          float softcap, int reachLeft, int reachRight) {
        for (@Parallel int t = 0; t < rows; t++) {
            int i = t % sq;
            int h = (t / sq) % heads;
            int b = t / (sq * heads);
            int hk = h / (heads / kvHeads);
            int qBase = ((b * sq + i) * heads + h) * d;
            float slope = slopes.get(b * heads + h);
            int start = Math.max(0, i + reachLeft);
            int end = Math.min(sk, i + reachRight + 1);
            float l = lse.get(t);
            float dlt = delta.get(t);
            for (int j = start; j < end; j++) {
                int kBase = ((b * sk + j) * kvHeads + hk) * d;
                float s = 0.0f;
                float dp = 0.0f;
                for (int x = 0; x < d; x++) {
                    s += q.get(qBase + x) * k.get(kBase + x);
                    dp += dO.get(qBase + x) * v.get(kBase + x);
                }
                float capped = score(s * scale, softcap);
                float ds = TornadoMath.exp(capped - slope * Math.abs((float) (i + sk - sq - j)) - l) * (dp - dlt) * scale * capSlope(capped, softcap);
                for (int x = 0; x < d; x++) {
                    float prev = j == start ? 0.0f : dq.get(qBase + x);
                    dq.set(qBase + x, prev + ds * k.get(kBase + x));
                }
            }
            if (end <= start) {
                for (int x = 0; x < d; x++) {
                    dq.set(qBase + x, 0.0f);
                }
            }
        }
    }

    /**
     * {@code dv_j = Σ p_ij dO_i} and {@code dk_j = scale · Σ p_ij (dO_i·v_j − delta_i) q_i} over every query
     * head sharing KV head {@code hk} and every query row that sees key {@code j}; one work item per key row,
     * summing in a fixed order, so results are deterministic without atomics.
     */
    static void backwardKV(FloatArray q, FloatArray k, FloatArray v, FloatArray slopes, FloatArray dO,
                           FloatArray lse, FloatArray delta, FloatArray dk, FloatArray dv, int kvRows, int sq, int sk, int heads, int kvHeads, int d,
                           float scale, float softcap, int reachLeft, int reachRight) {
        for (@Parallel int t = 0; t < kvRows; t++) {
            int j = t % sk;
            int hk = (t / sk) % kvHeads;
            int b = t / (sk * kvHeads);
            int kBase = ((b * sk + j) * kvHeads + hk) * d;
            int group = heads / kvHeads;
            int firstRow = Math.max(0, j - reachRight);
            int endRow = Math.min(sq, j - reachLeft + 1);
            int wrote = 0;
            for (int g = 0; g < group; g++) {
                int h = hk * group + g;
                for (int i = firstRow; i < endRow; i++) {
                    int qBase = ((b * sq + i) * heads + h) * d;
                    int row = (b * heads + h) * sq + i;
                    float s = 0.0f;
                    float dp = 0.0f;
                    for (int x = 0; x < d; x++) {
                        s += q.get(qBase + x) * k.get(kBase + x);
                        dp += dO.get(qBase + x) * v.get(kBase + x);
                    }
                    float capped = score(s * scale, softcap);
                    float p = TornadoMath.exp(capped - slopes.get(b * heads + h) * Math.abs((float) (i + sk - sq - j)) - lse.get(row));
                    float ds = p * (dp - delta.get(row)) * scale * capSlope(capped, softcap);
                    for (int x = 0; x < d; x++) {
                        float pk = wrote == 0 ? 0.0f : dk.get(kBase + x);
                        float pv = wrote == 0 ? 0.0f : dv.get(kBase + x);
                        dk.set(kBase + x, pk + ds * q.get(qBase + x));
                        dv.set(kBase + x, pv + p * dO.get(qBase + x));
                    }
                    wrote = 1;
                }
            }
            if (wrote == 0) {
                for (int x = 0; x < d; x++) {
                    dk.set(kBase + x, 0.0f);
                    dv.set(kBase + x, 0.0f);
                }
            }
        }
    }

    /** The score after the optional softcap {@code c·tanh(s/c)} ({@code softcap} 0 = none). */
    private static float score(float s, float softcap) {
        float capped = s;
        if (softcap > 0.0f) {
            capped = softcap * TornadoMath.tanh(s / softcap);
        }
        return capped;
    }

    /** d(capped)/d(s) written from the capped score: {@code 1 − (capped/c)²}, or 1 without a softcap. */
    private static float capSlope(float capped, float softcap) {
        float slope = 1.0f;
        if (softcap > 0.0f) {
            float u = capped / softcap;
            slope = 1.0f - u * u;
        }
        return slope;
    }
}
