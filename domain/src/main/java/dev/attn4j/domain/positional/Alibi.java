package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.Arrays;

/**
 * ALiBi (Press et al., "Train Short, Test Long"): head {@code h} adds {@code -slope_h · |i + off - j|}.
 * Slopes for {@code n} heads follow the paper's reference: for a power of two, the geometric sequence
 * starting at and multiplied by {@code 2^(-8/n)}; otherwise the slopes of the largest power of two
 * {@code p < n}, followed by every other slope of {@code 2p} heads. Heads past {@code alibiHeads} get slope 0
 * (no bias), as x-transformers' {@code alibi_num_heads} does.
 *
 * <pre>{@code
 * Alibi alibi = Alibi.of(12);                                  // or Alibi.of(12, 4): only 4 heads biased
 * try (DeviceTensor slopes = alibi.upload(backend.tensors())) {
 *     var options = AttentionOptions.builder().alibiSlopes(slopes).build();
 * }
 * }</pre>
 *
 * @param slopes one slope per head ({@code >= 0})
 */
public record Alibi(float[] slopes) implements RelativeBias {

    /** Validates and copies the slopes. */
    public Alibi {
        InvalidRequestException.check(slopes != null && slopes.length >= 1, "slopes", "one slope per head",
                slopes == null ? "null" : "none");
        slopes = slopes.clone();
        for (int h = 0; h < slopes.length; h++) {
            InvalidRequestException.check(Float.isFinite(slopes[h]) && slopes[h] >= 0, "slopes[" + h + "]",
                    "a finite slope >= 0", slopes[h]);
        }
    }

    /**
     * {@return ALiBi on every one of {@code heads} heads}
     *
     * @param heads the number of heads
     */
    public static Alibi of(int heads) {
        return of(heads, heads);
    }

    /**
     * {@return ALiBi on the first {@code alibiHeads} of {@code heads} heads (slopes for {@code alibiHeads}), 0 on the rest}
     *
     * @param heads the number of heads
     * @param alibiHeads heads that get a slope
     */
    public static Alibi of(int heads, int alibiHeads) {
        InvalidRequestException.check(heads >= 1, "heads", ">= 1", heads);
        InvalidRequestException.check(alibiHeads >= 0 && alibiHeads <= heads, "alibiHeads",
                "in [0, heads = " + heads + "]", alibiHeads);
        float[] out = new float[heads];
        double[] slopes = alibiHeads == 0 ? new double[0] : slopes(alibiHeads);
        for (int h = 0; h < alibiHeads; h++) {
            out[h] = (float) slopes[h];
        }
        return new Alibi(out);
    }

    /**
     * {@return the reference slopes for {@code n >= 1} heads, in double precision}
     *
     * @param n the count
     */
    public static double[] slopes(int n) {
        InvalidRequestException.check(n >= 1, "n", ">= 1 heads", n);
        int p = Integer.highestOneBit(n);
        double[] out = new double[n];
        double[] base = geometric(p);
        System.arraycopy(base, 0, out, 0, p);
        if (p < n) {
            double[] doubled = geometric(2 * p);
            for (int k = 0; k < n - p; k++) {
                out[p + k] = doubled[2 * k];
            }
        }
        return out;
    }

    private static double[] geometric(int powerOfTwo) {
        double ratio = Math.pow(2, -8.0 / powerOfTwo);
        double[] out = new double[powerOfTwo];
        for (int k = 0; k < powerOfTwo; k++) {
            out[k] = Math.pow(ratio, k + 1);
        }
        return out;
    }

    @Override
    public int heads() {
        return slopes.length;
    }

    @Override
    public double bias(int head, int relative) {
        return 0.0 - (double) slopes[head] * Math.abs(relative);   // 0.0 - x: no -0.0 in the table
    }

    /** {@return a copy of the slopes} */
    @Override
    public float[] slopes() {
        return slopes.clone();
    }

    /**
     * Uploads the slopes as an F32 tensor {@code [H]} for {@code AttentionOptions.alibiSlopes}.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor upload(TensorPort tensors) {
        return tensors.upload(slopes, Shape.of(slopes.length), DType.F32);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Alibi a && Arrays.equals(slopes, a.slopes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(slopes);
    }

    @Override
    public String toString() {
        return "Alibi" + Arrays.toString(slopes);
    }
}
