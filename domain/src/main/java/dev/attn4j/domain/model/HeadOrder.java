package dev.attn4j.domain.model;

/**
 * The mapping between x-transformers' and attn4j's order of query heads under grouped-query attention.
 * x-transformers pairs query head {@code h} with KV head {@code h mod G} (it repeats the KV heads as an outer
 * axis); attn4j, like FlashAttention, with KV head {@code a / (H / G)}. attn4j's head {@code a} therefore holds
 * x-transformers' head {@code (a mod (H/G))·G + a / (H/G)}. With one KV head, or as many as query heads, the
 * orders coincide.
 *
 * <pre>{@code
 * HeadOrder order = new HeadOrder(8, 2);
 * int xt = order.reference(3);      // x-transformers' head held by attn4j's head 3
 * }</pre>
 *
 * @param heads   H
 * @param kvHeads G
 */
public record HeadOrder(int heads, int kvHeads) {

    /**
     * x-transformers' head held by attn4j's head {@code a}.
     *
     * @param a a query head in attn4j's order, {@code 0 <= a < H}
     * @return the same head in x-transformers' order
     */
    public int reference(int a) {
        int group = heads / kvHeads;
        return (a % group) * kvHeads + a / group;
    }

    /** {@return whether the orders coincide} */
    public boolean identity() {
        return kvHeads == 1 || kvHeads == heads;
    }

    /**
     * {@code to_q.weight [H·dh, in]} from x-transformers' row order to attn4j's ({@code toReference} the other way).
     *
     * @param w the weight, row-major {@code [H·dh, cols]}
     * @param dimHead dh, the rows per head
     * @param cols the weight's columns (its input features)
     * @param toReference {@code true} to map attn4j's order back to x-transformers'
     * @return a new array, the rows' head blocks permuted
     */
    public float[] permuteRows(float[] w, int dimHead, int cols, boolean toReference) {
        if (identity()) {
            return w;
        }
        float[] out = new float[w.length];
        int block = dimHead * cols;
        for (int a = 0; a < heads; a++) {
            int h = reference(a);
            if (toReference) {
                System.arraycopy(w, a * block, out, h * block, block);
            } else {
                System.arraycopy(w, h * block, out, a * block, block);
            }
        }
        return out;
    }

    /**
     * {@code to_out.weight [out, H·dh]} from x-transformers' column-block order to attn4j's (or back).
     *
     * @param w the weight, row-major {@code [rows, H·dh]}
     * @param rows the weight's rows (its output features)
     * @param dimHead dh, the columns per head
     * @param toReference {@code true} to map attn4j's order back to x-transformers'
     * @return a new array, each row's head blocks permuted
     */
    public float[] permuteColumnBlocks(float[] w, int rows, int dimHead, boolean toReference) {
        if (identity()) {
            return w;
        }
        float[] out = new float[w.length];
        int width = heads * dimHead;
        for (int r = 0; r < rows; r++) {
            for (int a = 0; a < heads; a++) {
                int h = reference(a);
                int from = r * width + (toReference ? a : h) * dimHead;
                int to = r * width + (toReference ? h : a) * dimHead;
                System.arraycopy(w, from, out, to, dimHead);
            }
        }
        return out;
    }

    /**
     * Per-head values (ALiBi slopes, a T5 table's {@code [buckets, H]} columns with {@code rows} rows) in attn4j's order.
     *
     * @param w row-major {@code [rows, H]}, one column per head
     * @param rows the rows (1 for ALiBi slopes, the bucket count for a T5 table)
     * @param toReference {@code true} to map attn4j's order back to x-transformers'
     * @return a new array, the columns permuted
     */
    public float[] permuteColumns(float[] w, int rows, boolean toReference) {
        return permuteColumnBlocks(w, rows, 1, toReference);
    }
}
