package dev.attn4j.oracle;

/**
 * The two layouts of a gated unit's inputs and gradient on the host ({@code dev.attn4j.ports.activation.GluRequest}):
 * concatenated, {@code [rows, 2F]} with the value half then the gate half in each row, as the oracle reads and
 * writes them; and split, two {@code [rows, F]} arrays, or one stacked {@code [2, rows, F]} gradient. Tests that run
 * the split form convert with these, so the oracle keeps one formula for both.
 *
 * <pre>{@code
 * float[] value = GluLayouts.half(x, rows, f, 0);                   // x [rows, 2F] to what the split form uploads
 * float[] dx = GluLayouts.unstack(download(dSplit), rows, f);       // [2, rows, F] to the oracle's [rows, 2F]
 * }</pre>
 */
public final class GluLayouts {

    private GluLayouts() {
    }

    /**
     * {@return half {@code which} (0 the value, 1 the gate) of every row of {@code x [rows, 2F]}, as {@code [rows, F]}}
     *
     * @param x     concatenated rows
     * @param rows  rows
     * @param f     {@code F}
     * @param which 0 or 1
     */
    public static float[] half(float[] x, int rows, int f, int which) {
        float[] out = new float[rows * f];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(x, (2 * r + which) * f, out, r * f, f);
        }
        return out;
    }

    /**
     * {@return half {@code which} of every row of {@code x [rows, 2F]}, in double}
     *
     * @param x     concatenated rows
     * @param rows  rows
     * @param f     {@code F}
     * @param which 0 (the value) or 1 (the gate)
     */
    public static double[] half(double[] x, int rows, int f, int which) {
        double[] out = new double[rows * f];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(x, (2 * r + which) * f, out, r * f, f);
        }
        return out;
    }

    /**
     * {@return the value and gate {@code [rows, F]} side by side as {@code [rows, 2F]}}
     *
     * @param value the value half
     * @param gate  the gate half
     * @param rows  rows
     * @param f     {@code F}
     */
    public static double[] concatenate(double[] value, double[] gate, int rows, int f) {
        double[] out = new double[2 * rows * f];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(value, r * f, out, 2 * r * f, f);
            System.arraycopy(gate, r * f, out, (2 * r + 1) * f, f);
        }
        return out;
    }

    /**
     * {@return a stacked {@code [2, rows, F]} gradient laid out as {@code [rows, 2F]}}
     *
     * @param stacked the value's gradient block, then the gate's
     * @param rows    rows
     * @param f       {@code F}
     */
    public static float[] unstack(float[] stacked, int rows, int f) {
        float[] out = new float[stacked.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(stacked, r * f, out, 2 * r * f, f);
            System.arraycopy(stacked, (rows + r) * f, out, (2 * r + 1) * f, f);
        }
        return out;
    }

    /**
     * {@return a concatenated {@code [rows, 2F]} gradient stacked as {@code [2, rows, F]}}
     *
     * @param x    concatenated rows
     * @param rows rows
     * @param f    {@code F}
     */
    public static double[] stack(double[] x, int rows, int f) {
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(x, 2 * r * f, out, r * f, f);
            System.arraycopy(x, (2 * r + 1) * f, out, (rows + r) * f, f);
        }
        return out;
    }
}
