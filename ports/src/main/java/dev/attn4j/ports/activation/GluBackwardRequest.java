package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The backward of a {@link GluRequest}: {@code da = dy ⊙ f(g)}, {@code dg = dy ⊙ a ⊙ f'(g)}, returned as one
 * tensor shaped {@link GluRequest#gradientShape()}: for the concatenated form {@code dx [..., 2F]} laid out as the
 * forward's input, for the split form {@code [2, ..., F]} with {@code da} at index 0 and {@code dg} at index 1 (each
 * half one contiguous block, so a view of it feeds the matching half of the projection's backward).
 *
 * <pre>{@code
 * try (DeviceTensor dUpGate = backend.activation().gluBackward(new GluBackwardRequest(fwd, dy))) { ... }
 * }</pre>
 *
 * @param forward the forward request
 * @param dy      gradient of {@code y}, {@code [..., F]}
 */
public record GluBackwardRequest(GluRequest forward, DeviceTensor dy) {

    /** Checks {@code dy} against the forward's output shape, and that the gradient can exist. */
    public GluBackwardRequest {
        if (forward == null) throw new InvalidRequestException("forward", "the forward request", "null");
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        InvalidRequestException.check(dy.shape().equals(forward.outputShape()) && dy.dtype() == forward.x().dtype(),
                "dy", forward.x().dtype() + " " + forward.outputShape() + " (as y)", dy.dtype() + " " + dy.shape());
        forward.gradientShape().requireFitsTensor("forward (its gradient " + forward.gradientShape() + ")");
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>(forward.tensors());
        all.put("dy", dy);
        return all;
    }
}
