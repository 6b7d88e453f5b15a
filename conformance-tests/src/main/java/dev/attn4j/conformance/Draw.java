package dev.attn4j.conformance;

import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.Locale;
import java.util.Random;

/**
 * Seeded data for the model ops' configurations: values drawn with {@link Random} (whose algorithm the JDK
 * specifies, so a configuration's data is reproducible from its record) and rounded to their storage type before
 * anyone sees them, so that the oracle and the backend start from identical inputs.
 */
final class Draw {

    private Draw() {
    }

    /** {@code n} values {@code sigma·N(0, 1)}, rounded to {@code store}. */
    static double[] gaussian(Random r, int n, double sigma, Precision store) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = store.round(sigma * r.nextGaussian());
        }
        return x;
    }

    /** {@code n} values in {@code [lo, hi)}, rounded to {@code store}. */
    static double[] uniform(Random r, int n, double lo, double hi, Precision store) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = store.round(lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }

    /** The element count of {@code shape} as an int (the suite's tensors are small). */
    static int count(Shape shape) {
        return Math.toIntExact(shape.elementCount());
    }

    /** {@code shape} with {@code last} appended. */
    static Shape append(Shape shape, int last) {
        int[] d = shape.dims();
        int[] out = java.util.Arrays.copyOf(d, d.length + 1);
        out[d.length] = last;
        return Shape.of(out);
    }

    /** {@code 2x9}, for ids. */
    static String dims(Shape shape) {
        StringBuilder s = new StringBuilder();
        for (int d : shape.dims()) {
            s.append(s.isEmpty() ? "" : "x").append(d);
        }
        return s.toString();
    }

    /** {@code f32}, {@code bf16}, {@code f16}. */
    static String dtype(DType dtype) {
        return dtype.name().toLowerCase(Locale.ROOT);
    }
}
