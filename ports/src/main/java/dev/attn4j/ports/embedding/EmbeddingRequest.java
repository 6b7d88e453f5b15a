package dev.attn4j.ports.embedding;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An embedding look-up: {@code y[..., :] = table[ids[...], :]}. Every id must be in {@code [0, V)}; the facade
 * checks that from the range recorded when {@code ids} was uploaded, so no device read is needed.
 *
 * <pre>{@code
 * try (DeviceTensor x = backend.embedding().forward(new EmbeddingRequest(tokenEmb, ids))) { ... }   // ids [B, S]
 * }</pre>
 *
 * @param table {@code [V, D]}, floating
 * @param ids   I32, any shape
 */
public record EmbeddingRequest(DeviceTensor table, DeviceTensor ids) {

    /** Checks ranks and dtypes. */
    public EmbeddingRequest {
        if (table == null) throw new InvalidRequestException("table", "a tensor", "null");
        if (ids == null) throw new InvalidRequestException("ids", "a tensor", "null");
        InvalidRequestException.check(table.dtype().isFloating(), "table", "a floating dtype", table.dtype());
        InvalidRequestException.check(table.shape().rank() == 2, "table", "rank 2 [V, D]", table.shape());
        InvalidRequestException.check(ids.dtype() == DType.I32, "ids", "dtype I32", ids.dtype());
    }

    /** {@return the vocabulary size {@code V}} */
    public int vocabulary() {
        return table.shape().dim(0);
    }

    /** {@return the embedding width {@code D}} */
    public int width() {
        return table.shape().dim(1);
    }

    /** {@return the shape of the output: {@code ids}' with {@code D} appended} */
    public Shape outputShape() {
        int[] ids = this.ids.shape().dims();
        int[] dims = java.util.Arrays.copyOf(ids, ids.length + 1);
        dims[ids.length] = width();
        return Shape.of(dims);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("table", table);
        all.put("ids", ids);
        return all;
    }
}
