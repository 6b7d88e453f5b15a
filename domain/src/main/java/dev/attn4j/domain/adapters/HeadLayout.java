package dev.attn4j.domain.adapters;

import dev.attn4j.domain.model.HeadOrder;
import dev.attn4j.domain.model.LayersConfig;

/**
 * Adapter tensors between x-transformers' query-head order (the order of saved files) and attn4j's, for models
 * where they differ (grouped-query attention, see {@link HeadOrder}): the base model permutes the rows of
 * {@code to_q.weight} and the column blocks of {@code to_out.weight}, so an adapter on {@code to_q} permutes what
 * indexes its output features ({@code lora_B}'s rows, {@code λ_b}, the {@code vera_B} slice's rows) and one on
 * {@code to_out} what indexes its input features ({@code lora_A}'s columns, the {@code vera_A} slice's columns).
 */
final class HeadLayout {
    private final HeadOrder order;
    private final int dimHead;

    HeadLayout(LayersConfig layers) {
        this.order = new HeadOrder(layers.heads(), layers.kvHeads());
        this.dimHead = layers.dimHead();
    }

    /** Whether the layer's outputs are query heads. */
    static boolean headOutputs(String path) {
        return path.endsWith(".to_q") || path.equals("to_q");
    }

    /** Whether the layer's inputs are attention heads. */
    static boolean headInputs(String path) {
        return path.endsWith(".to_out") || path.equals("to_out");
    }

    /** {@return whether any tensor of the layer at {@code path} needs permuting} */
    boolean permutes(String path) {
        return !order.identity() && (headOutputs(path) || headInputs(path));
    }

    /**
     * A tensor {@code [rows, cols]} whose rows are the layer's output features ({@code lora_B}, {@code λ_b} with
     * {@code cols = 1}, a {@code vera_B} slice), between orders.
     */
    float[] outputRows(String path, float[] v, int cols, boolean toReference) {
        return headOutputs(path) ? order.permuteRows(v, dimHead, cols, toReference) : v;
    }

    /** A tensor {@code [rows, in]} whose columns are the layer's input features ({@code lora_A}, a {@code vera_A} slice). */
    float[] inputColumns(String path, float[] v, int rows, boolean toReference) {
        return headInputs(path) ? order.permuteColumnBlocks(v, rows, dimHead, toReference) : v;
    }
}
