package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;

/**
 * Sandwich (Chi et al., "Dissecting Transformer Length Extrapolation via the Lens of Receptive Field
 * Analysis"): the bias is the inner product of the sinusoidal embeddings of dimension {@code d'} of the
 * two positions, which depends only on their distance {@code r}, shifted so that distance 0 gives 0, and
 * compressed per head as ALiBi does:
 * <pre>
 *   bias_h(r) = λ_h · ( Σ_{k=1}^{d'/2} cos(r / 10000^{2k/d'}) − d'/2 ),   λ_h = H / (8·(h + 1))
 * </pre>
 * for heads {@code h = 0..H-1} (the sum runs over {@code k = 1..d'/2} as in the paper, and as NeMo's
 * {@code sandwich} position embedding computes it). The result is ≤ 0 and decays (non-monotonically)
 * with distance. Other per-head multipliers can be given to the constructor.
 *
 * <pre>{@code
 * Sandwich sandwich = Sandwich.of(heads, 128);              // d' = 128, λ_h = H / (8(h+1))
 * RelativeBiasTable table = RelativeBiasTable.of(sandwich, seqQ, seqK);
 * }</pre>
 *
 * @param dimension  {@code d'}, even, {@code >= 2}
 * @param headScales {@code λ_h}, one finite value per head
 */
public record Sandwich(int dimension, float[] headScales) implements RelativeBias {

    private static final double BASE = 10000.0;

    /** Validates and copies. */
    public Sandwich {
        InvalidRequestException.check(dimension >= 2 && dimension % 2 == 0, "dimension", "an even number >= 2", dimension);
        InvalidRequestException.check(headScales != null && headScales.length >= 1, "headScales", "one value per head",
                headScales == null ? "null" : "none");
        headScales = headScales.clone();
        for (int h = 0; h < headScales.length; h++) {
            InvalidRequestException.check(Float.isFinite(headScales[h]), "headScales[" + h + "]", "a finite value",
                    headScales[h]);
        }
    }

    /**
     * {@return Sandwich of dimension {@code dimension} on {@code heads} heads with the paper's {@code λ_h = H / (8(h+1))}}
     *
     * @param heads the number of heads
     * @param dimension {@code d'}, even, {@code >= 2}
     */
    public static Sandwich of(int heads, int dimension) {
        InvalidRequestException.check(heads >= 1, "heads", ">= 1", heads);
        float[] scales = new float[heads];
        for (int h = 0; h < heads; h++) {
            scales[h] = (float) (heads / (8.0 * (h + 1)));
        }
        return new Sandwich(dimension, scales);
    }

    @Override
    public int heads() {
        return headScales.length;
    }

    @Override
    public double bias(int head, int relative) {
        double sum = 0;
        for (int k = 1; k <= dimension / 2; k++) {
            sum += Math.cos(relative * Math.pow(BASE, -2.0 * k / dimension));
        }
        return headScales[head] * (sum - dimension / 2.0);
    }

    /** {@return a copy of the per-head multipliers} */
    @Override
    public float[] headScales() {
        return headScales.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sandwich s && dimension == s.dimension && Arrays.equals(headScales, s.headScales);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(headScales) * 31 + dimension;
    }

    @Override
    public String toString() {
        return "Sandwich[dimension=" + dimension + ", headScales=" + Arrays.toString(headScales) + "]";
    }
}
