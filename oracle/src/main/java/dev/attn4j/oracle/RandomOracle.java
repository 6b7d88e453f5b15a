package dev.attn4j.oracle;

import dev.attn4j.ports.tensor.DType;

/**
 * The random port's uniform fill, bit for bit, from {@link dev.attn4j.ports.random.UniformRequest}'s Javadoc:
 * element {@code n} takes {@code u = PhiloxStream.uniform(seed, offset, n)} and becomes
 * {@code fma(u, high − low, low)} in binary32 ({@code high − low} itself a binary32 difference), then is stored in
 * the tensor's dtype (round to nearest even).
 *
 * <pre>{@code
 * double[] noise = RandomOracle.uniform(1024, -0.01f, 0.01f, 42L, 0L, DType.F32);
 * }</pre>
 */
public final class RandomOracle {

    private RandomOracle() {
    }

    /**
     * {@return the {@code count} values a tensor of {@code dtype} holds after the fill}
     *
     * @param count  elements
     * @param low    the lower bound
     * @param high   the upper bound
     * @param seed   the Philox key
     * @param offset the Philox counter offset
     * @param dtype  the tensor's storage type
     */
    public static double[] uniform(long count, float low, float high, long seed, long offset, DType dtype) {
        Precision store = Precision.of(dtype);
        float width = high - low;
        double[] out = new double[Math.toIntExact(count)];
        for (int n = 0; n < out.length; n++) {
            float u = (float) PhiloxStream.uniform(seed, offset, n);   // exact: 24 significant bits
            out[n] = store.round(Math.fma(u, width, low));
        }
        return out;
    }
}
