package dev.attn4j.ports.embedding;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Embedding look-up and its deterministic scatter-add backward (docs/design.md §9).
 *
 * <pre>{@code
 * var fwd = new EmbeddingRequest(table, ids);
 * try (DeviceTensor x = backend.embedding().forward(fwd)) {
 *     ...
 *     backend.embedding().backward(new EmbeddingBackwardRequest(fwd, dx, dTable));
 * }
 * }</pre>
 */
public interface EmbeddingPort {

    /**
     * {@return a new tensor of the looked-up rows, {@code ids.shape() + [D]}}
     *
     * @param request the table and the ids looked up
     */
    DeviceTensor forward(EmbeddingRequest request);

    /**
     * Adds the gradient into {@code tableGrad}.
     *
     * @param request the forward request, the output's gradient and the table's gradient accumulator
     */
    void backward(EmbeddingBackwardRequest request);
}
