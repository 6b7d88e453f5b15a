package dev.attn4j.oracle;

/**
 * Conversions between the {@code float[]} a backend uploads and downloads and the {@code double[]} the oracle
 * computes in. Widening is exact; narrowing rounds to nearest.
 *
 * <pre>{@code
 * double[] q = HostArrays.doubles(qHost);                        // what the oracle reads
 * DeviceTensor t = tensors.upload(HostArrays.floats(q), shape, DType.F32);
 * }</pre>
 */
public final class HostArrays {

    private HostArrays() {
    }

    /**
     * {@return {@code values} widened to double ({@code null} stays {@code null})}
     *
     * @param values floats, or {@code null}
     */
    public static double[] doubles(float[] values) {
        if (values == null) {
            return null;
        }
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = values[i];
        }
        return d;
    }

    /**
     * {@return {@code values} rounded to float ({@code null} stays {@code null})}
     *
     * @param values doubles, or {@code null}
     */
    public static float[] floats(double[] values) {
        if (values == null) {
            return null;
        }
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }
}
