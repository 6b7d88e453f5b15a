package dev.attn4j.oracle;

import dev.attn4j.ports.rotary.RotaryLayout;

/**
 * Rotary / xPos application as {@link dev.attn4j.ports.rotary.RotaryRequest} defines it, on
 * {@code x [B, S, H, D]}: pair {@code p} of position {@code n}, with {@code c = cos[n][p]},
 * {@code s = sin[n][p]}, {@code ζ = scale[n][p]} (1 without a scale table), maps
 * {@code (x₁, x₂) ↦ ζ·(x₁c − x₂s, x₁s + x₂c)}, or in the inverse {@code ζ·(x₁c + x₂s, −x₁s + x₂c)}; features
 * past {@code R = 2·pairs} pass through. Pairs are {@code (2p, 2p+1)} interleaved or {@code (p, p + R/2)}
 * split-half.
 *
 * <pre>{@code
 * double[] y = RotaryOracle.apply(x, b, s, h, d, cos, sin, null, RotaryLayout.SPLIT_HALF, false);
 * }</pre>
 */
public final class RotaryOracle {

    private RotaryOracle() {
    }

    /**
     * {@return the rotated copy of {@code x}}
     *
     * @param cos   {@code [S, R/2]}
     * @param sin   {@code [S, R/2]}
     * @param scale {@code [S, R/2]} or {@code null}
     * @param x the input
     * @param batch B, the batch size
     * @param seq S, the sequence length
     * @param heads the number of heads
     * @param dim the dimension
     * @param layout the tensors' layout
     * @param inverse whether to apply the inverse rotation (backward)
     */
    public static double[] apply(double[] x, int batch, int seq, int heads, int dim, double[] cos, double[] sin,
                                 double[] scale, RotaryLayout layout, boolean inverse) {
        return apply(x, batch, seq, heads, dim, cos, sin, scale, layout, inverse, Precision.FP64);
    }

    /**
     * The rotated copy of {@code x} at {@code precision}: {@link Precision#FP64} is the golden value; a reduced
     * precision computes every product and sum in binary32 and rounds each stored output to that precision (the
     * "ref" of the pass rule). Inputs are taken as given (already in their storage types).
     *
     * @param x the input
     * @param batch B, the batch size
     * @param seq S, the sequence length
     * @param heads the number of heads
     * @param dim the dimension
     * @param cos {@code [S, R/2]}
     * @param sin {@code [S, R/2]}
     * @param scale {@code [S, R/2]} or {@code null}
     * @param layout the tensors' layout
     * @param inverse whether to apply the inverse rotation (backward)
     * @param precision the precision to compute in
     * @return the result
     */
    public static double[] apply(double[] x, int batch, int seq, int heads, int dim, double[] cos, double[] sin,
                                 double[] scale, RotaryLayout layout, boolean inverse, Precision precision) {
        if (x.length != batch * seq * heads * dim || cos.length % seq != 0 || sin.length != cos.length
                || (scale != null && scale.length != cos.length)) {
            throw new IllegalArgumentException("x must be [B, S, H, D] and cos, sin, scale [S, R/2] alike");
        }
        int pairs = cos.length / seq;
        if (2 * pairs > dim) {
            throw new IllegalArgumentException("R = " + 2 * pairs + " exceeds D = " + dim);
        }
        Precision acc = precision == Precision.FP64 ? Precision.FP64 : Precision.FP32;
        double[] y = new double[x.length];
        for (int n = 0; n < x.length; n++) {
            y[n] = precision.round(x[n]);
        }
        double sign = inverse ? -1 : 1;
        for (int b = 0; b < batch; b++) {
            for (int n = 0; n < seq; n++) {
                for (int h = 0; h < heads; h++) {
                    int base = ((b * seq + n) * heads + h) * dim;
                    for (int p = 0; p < pairs; p++) {
                        int first = layout == RotaryLayout.INTERLEAVED ? base + 2 * p : base + p;
                        int second = layout == RotaryLayout.INTERLEAVED ? base + 2 * p + 1 : base + p + pairs;
                        double c = cos[n * pairs + p];
                        double s = sign * sin[n * pairs + p];
                        double z = scale == null ? 1 : scale[n * pairs + p];
                        double x1 = x[first];
                        double x2 = x[second];
                        double r1 = acc.round(acc.round(x1 * c) - acc.round(x2 * s));
                        double r2 = acc.round(acc.round(x1 * s) + acc.round(x2 * c));
                        y[first] = precision.round(acc.round(z * r1));
                        y[second] = precision.round(acc.round(z * r2));
                    }
                }
            }
        }
        return y;
    }
}
