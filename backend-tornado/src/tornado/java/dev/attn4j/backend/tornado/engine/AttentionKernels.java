package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Attention forward, one work item per query row {@code (b, h, i)} (numbered as {@code lse [B, H, Sq]}):
 * a first pass over the keys finds the row's maximum score and softmax denominator, a second accumulates
 * {@code o = Σ p·v} straight into the output row, so no per-item array of head-dim size is needed (TornadoVM
 * private arrays need a compile-time size). Scores are recomputed rather than stored: memory stays O(1) per row.
 */
final class AttentionKernels {
    private AttentionKernels() {
    }

    static void forward(FloatArray q, FloatArray k, FloatArray v, FloatArray o, FloatArray lse, int rows, int sq,
                        int sk, int heads, int kvHeads, int d, float scale, int reach) {
        for (@Parallel int t = 0; t < rows; t++) {
            int i = t % sq;
            int h = (t / sq) % heads;
            int b = t / (sq * heads);
            int hk = h / (heads / kvHeads);
            int qBase = ((b * sq + i) * heads + h) * d;
            // Keys j <= i + reach are visible: reach = Sk - Sq (bottom-right causal) or Sk (every key). One
            // formula, not a branch on a causal flag: with `causal ? min(..) : sk` TornadoVM 5.2.1 on POCL
            // produced a wrong output (o) for every non-causal plan while lse stayed right.
            int end = Math.min(sk, i + reach + 1);
            float m = Float.NEGATIVE_INFINITY;
            float l = 0.0f;
            for (int j = 0; j < end; j++) {
                int kBase = ((b * sk + j) * kvHeads + hk) * d;
                float s = 0.0f;
                for (int x = 0; x < d; x++) {
                    s += q.get(qBase + x) * k.get(kBase + x);
                }
                s *= scale;
                float mNew = TornadoMath.max(m, s);
                l = l * TornadoMath.exp(m - mNew) + TornadoMath.exp(s - mNew);
                m = mNew;
            }
            if (end <= 0) {
                for (int x = 0; x < d; x++) {
                    o.set(qBase + x, 0.0f);
                }
                lse.set(t, Float.NEGATIVE_INFINITY);
            } else {
                float inv = 1.0f / l;
                for (int j = 0; j < end; j++) {
                    int kBase = ((b * sk + j) * kvHeads + hk) * d;
                    float s = 0.0f;
                    for (int x = 0; x < d; x++) {
                        s += q.get(qBase + x) * k.get(kBase + x);
                    }
                    float p = TornadoMath.exp(s * scale - m) * inv;
                    for (int x = 0; x < d; x++) {
                        // The first key writes rather than adds, so the row needs no zeroing pass.
                        float prev = j == 0 ? 0.0f : o.get(qBase + x);
                        o.set(qBase + x, prev + p * v.get(kBase + x));
                    }
                }
                lse.set(t, m + TornadoMath.log(l));
            }
        }
    }
}
