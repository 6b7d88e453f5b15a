package dev.attn4j.oracle;

/**
 * Embedding look-up and its scatter-add backward, from {@link dev.attn4j.ports.embedding.EmbeddingRequest} and
 * {@link dev.attn4j.ports.embedding.EmbeddingBackwardRequest}: rows copied by id; gradients summed per id in token
 * order (binary32 sums in a reduced precision), then added to the accumulator and stored.
 *
 * <pre>{@code
 * double[] y = EmbeddingOracle.forward(table, width, ids);
 * double[] dTable = EmbeddingOracle.backward(ids, dy, width, dTable0, Precision.FP64);
 * }</pre>
 */
public final class EmbeddingOracle {

    private EmbeddingOracle() {
    }

    /**
     * {@return {@code y [ids.length, width]}: row {@code t} is {@code table[ids[t], :]}}
     *
     * @param table {@code [V, width]}
     * @param width the row width {@code D}
     * @param ids   the ids, flat
     */
    public static double[] forward(double[] table, int width, int[] ids) {
        double[] y = new double[ids.length * width];
        for (int t = 0; t < ids.length; t++) {
            System.arraycopy(table, ids[t] * width, y, t * width, width);
        }
        return y;
    }

    /**
     * {@return {@code tableGrad} plus, for every id, the sum of the gradients of the tokens with that id}
     *
     * @param ids       the ids, flat
     * @param dy        the output's gradient {@code [ids.length, width]}
     * @param width     the row width {@code D}
     * @param tableGrad the accumulator's old values {@code [V, width]}
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] backward(int[] ids, double[] dy, int width, double[] tableGrad, Precision precision) {
        Precision acc = precision.accumulator();
        double[] sums = new double[tableGrad.length];
        boolean[] touched = new boolean[tableGrad.length / width];
        for (int t = 0; t < ids.length; t++) {
            touched[ids[t]] = true;
            for (int c = 0; c < width; c++) {
                int at = ids[t] * width + c;
                sums[at] = acc.round(sums[at] + dy[t * width + c]);
            }
        }
        double[] out = tableGrad.clone();
        for (int row = 0; row < touched.length; row++) {
            if (!touched[row]) {
                continue;   // rows no token reads are left exactly as they were
            }
            for (int c = 0; c < width; c++) {
                int at = row * width + c;
                out[at] = precision.round(acc.round(tableGrad[at] + sums[at]));
            }
        }
        return out;
    }
}
