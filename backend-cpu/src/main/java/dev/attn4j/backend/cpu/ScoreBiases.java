package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * What changes the scores {@code S = scale·Q·Kᵀ} before masking, in the order of docs/design.md §4 (steps 2–3):
 * the softcap {@code c·tanh(s/c)}, then the additive position biases — ALiBi slopes, the relative-position bias
 * table and a dense bias. None of them changes which keys a row sees ({@link KeyRanges}, {@link TileClasses}).
 */
final class ScoreBiases {
    private final int seqQ;
    private final int seqK;
    private final int heads;
    private final int offset;
    private final float softcap;
    // The bias inputs may be views: each array comes with the offset of its tensor's element 0.
    private final float[] alibi;
    private final int alibiOff;
    private final boolean alibiPerBatch;
    private final float[] biasTable;
    private final int tableOff;
    private final int tableWidth;
    private final float[] denseBias;
    private final int denseBiasOff;
    private final int[] denseBiasDims;

    ScoreBiases(AttentionShape shape, AttentionOptions o) {
        this.seqQ = shape.seqQ();
        this.seqK = shape.seqK();
        this.heads = shape.heads();
        this.offset = shape.offset();
        this.softcap = (float) o.softcap();
        Span<float[]> alibiSpan = f32(o.alibiSlopes());
        this.alibi = alibiSpan == null ? null : alibiSpan.array();
        this.alibiOff = alibiSpan == null ? 0 : alibiSpan.offset();
        this.alibiPerBatch = o.alibiSlopes() != null && o.alibiSlopes().shape().rank() == 2;
        Span<float[]> tableSpan = f32(o.biasTable());
        this.biasTable = tableSpan == null ? null : tableSpan.array();
        this.tableOff = tableSpan == null ? 0 : tableSpan.offset();
        this.tableWidth = seqQ + seqK - 1;
        Span<float[]> denseBiasSpan = f32(o.denseBias());
        this.denseBias = denseBiasSpan == null ? null : denseBiasSpan.array();
        this.denseBiasOff = denseBiasSpan == null ? 0 : denseBiasSpan.offset();
        this.denseBiasDims = o.denseBias() == null ? null : o.denseBias().shape().dims();
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return t == null ? null : ((CpuTensor) t).f32();
    }

    boolean hasSoftcap() {
        return softcap > 0f;
    }

    /**
     * Turns raw scores {@code s} (rows {@code i0..}, columns {@code j0..j0+cols}, row stride {@code ld}) into capped,
     * biased scores. With a softcap, {@code tanhOut} receives {@code tanh(s/c)} for the backward's chain rule (may
     * be {@code null} in the forward).
     */
    void apply(float[] s, int ld, int b, int h, int i0, int rows, int j0, int cols, float[] tanhOut) {
        if (softcap > 0f) {
            float inv = 1f / softcap;
            for (int r = 0; r < rows; r++) {
                int base = r * ld;
                for (int c = 0; c < cols; c++) {
                    float t = tanh(s[base + c] * inv);
                    if (tanhOut != null) {
                        tanhOut[base + c] = t;
                    }
                    s[base + c] = softcap * t;
                }
            }
        }
        if (alibi != null) {
            float slope = alibi[alibiOff + (alibiPerBatch ? b * heads + h : h)];
            if (slope != 0f) {
                for (int r = 0; r < rows; r++) {
                    int base = r * ld;
                    int diag = i0 + r + offset;
                    for (int c = 0; c < cols; c++) {
                        s[base + c] -= slope * Math.abs(diag - (j0 + c));
                    }
                }
            }
        }
        if (biasTable != null) {
            for (int r = 0; r < rows; r++) {
                int base = r * ld;
                int t = tableOff + h * tableWidth + j0 - (i0 + r + offset) + seqK - 1;
                for (int c = 0; c < cols; c++) {
                    s[base + c] += biasTable[t + c];
                }
            }
        }
        if (denseBias != null) {
            int at = denseBiasOff + denseIndex(denseBiasDims, b, h);
            for (int r = 0; r < rows; r++) {
                int src = at + (i0 + r) * seqK + j0;
                int base = r * ld;
                for (int c = 0; c < cols; c++) {
                    s[base + c] += denseBias[src + c];
                }
            }
        }
    }

    private int denseIndex(int[] dims, int b, int h) {
        int bb = dims[0] == 1 ? 0 : b;
        int hh = dims[1] == 1 ? 0 : h;
        return (bb * dims[1] + hh) * seqQ * seqK;
    }

    /** Where row {@code i}, column {@code j0} of head {@code h} falls in the bias table. */
    int tableIndex(int h, int i, int j0) {
        return h * tableWidth + j0 - (i + offset) + seqK - 1;
    }

    int tableWidth() {
        return tableWidth;
    }

    /** {@code tanh} from {@link Exp}, so that it is as reproducible as the softmax: {@code 1 − 2/(e^{2x} + 1)}. */
    static float tanh(float x) {
        if (x > 9f) {
            return 1f;
        }
        if (x < -9f) {
            return -1f;
        }
        if (Math.abs(x) < 0.0625f) {
            // Near 0 the quotient form loses relative precision; the odd series is exact to fp32 here.
            float x2 = x * x;
            return x * (1f - x2 * (1f / 3 - x2 * (2f / 15 - x2 * (17f / 315))));
        }
        return 1f - 2f / (Exp.exp(2f * x) + 1f);
    }
}
