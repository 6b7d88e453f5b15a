package dev.attn4j.ports.embedding;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The backward of an embedding look-up: {@code tableGrad[id, :] += Σ dy[t, :]} over the tokens {@code t} with
 * that id, added in token order so the result is deterministic (no unordered atomics).
 *
 * <pre>{@code
 * backend.embedding().backward(new EmbeddingBackwardRequest(fwd, dx, dTokenEmb));
 * }</pre>
 *
 * @param forward   the forward request
 * @param dy        gradient of the output, shaped {@code forward.outputShape()}
 * @param tableGrad accumulator shaped and typed as the table
 */
public record EmbeddingBackwardRequest(EmbeddingRequest forward, DeviceTensor dy, DeviceTensor tableGrad) {

    /** Checks shapes and dtypes against the forward request. */
    public EmbeddingBackwardRequest {
        if (forward == null) throw new InvalidRequestException("forward", "the forward request", "null");
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        if (tableGrad == null) throw new InvalidRequestException("tableGrad", "a tensor", "null");
        DeviceTensor table = forward.table();
        InvalidRequestException.check(dy.shape().equals(forward.outputShape()) && dy.dtype() == table.dtype(), "dy",
                table.dtype() + " " + forward.outputShape() + " (as the output)", dy.dtype() + " " + dy.shape());
        InvalidRequestException.check(tableGrad.shape().equals(table.shape()) && tableGrad.dtype() == table.dtype(),
                "tableGrad", table.dtype() + " " + table.shape() + " (as table)",
                tableGrad.dtype() + " " + tableGrad.shape());
        InvalidRequestException.check(tableGrad != table && tableGrad != dy, "tableGrad",
                "a tensor apart from table and dy", "one of them");
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>(forward.tensors());
        all.put("dy", dy);
        all.put("tableGrad", tableGrad);
        return all;
    }
}
