package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

/**
 * The label convention and the shift the fused cross-entropy needs. Labels are aligned with the input ids
 * (Hugging Face's convention): {@code labels[t]} is the token at {@code t} when position {@code t} is
 * trained, {@link #IGNORE_INDEX} elsewhere; the model's {@code logits[t]} predict the token at {@code t+1},
 * so the loss compares {@code logits[t]} with {@code targets[t] = labels[t+1]} and the last position of a
 * row has no target.
 *
 * <pre>{@code
 * int[] labels  = {-100, -100, 99, 256};
 * int[] targets = Labels.nextTokenTargets(labels);   // {-100, 99, 256, -100}
 * }</pre>
 */
public final class Labels {

    /** No loss at this position (PyTorch's and Paddle's {@code ignore_index}). */
    public static final int IGNORE_INDEX = -100;

    private Labels() {
    }

    /**
     * {@code targets[t] = labels[t+1]}, the last one {@link #IGNORE_INDEX}: the targets of one row.
     *
     * @param labels one row's labels ({@link #IGNORE_INDEX} where no loss is taken)
     * @return a new array of the same length
     */
    public static int[] nextTokenTargets(int[] labels) {
        InvalidRequestException.check(labels != null, "labels", "an int array", "null");
        return nextTokenTargets(labels, 1, labels.length);
    }

    /**
     * The targets of a batch {@code [rows, length]} (row-major), shifted within each row: the last
     * position of every row gets {@link #IGNORE_INDEX}, never the first label of the next row.
     *
     * @param labels {@code [rows, length]}, row-major
     * @param rows the rows
     * @param length the positions of each row
     * @return a new array {@code [rows, length]}, row-major
     */
    public static int[] nextTokenTargets(int[] labels, int rows, int length) {
        InvalidRequestException.check(labels != null, "labels", "an int array", "null");
        InvalidRequestException.check(rows >= 1, "rows", ">= 1", rows);
        InvalidRequestException.check(length >= 1, "length", ">= 1", length);
        InvalidRequestException.check(labels.length == (long) rows * length, "labels",
                (long) rows * length + " values (rows·length)", labels.length);
        int[] out = new int[labels.length];
        for (int r = 0; r < rows; r++) {
            int base = r * length;
            System.arraycopy(labels, base + 1, out, base, length - 1);
            out[base + length - 1] = IGNORE_INDEX;
        }
        return out;
    }

    /**
     * The number of positions that carry a loss (labels other than {@link #IGNORE_INDEX}).
     *
     * @param labels any labels
     * @return the positions trained on: the loss's denominator for a mean over tokens
     */
    public static long countTrained(int[] labels) {
        InvalidRequestException.check(labels != null, "labels", "an int array", "null");
        long n = 0;
        for (int l : labels) {
            if (l != IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }
}
