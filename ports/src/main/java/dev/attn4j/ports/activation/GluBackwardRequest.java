package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The backward of a {@link GluRequest}: {@code da = dy ⊙ f(g)}, {@code dg = dy ⊙ a ⊙ f'(g)}, returned as one
 * {@code dx [..., 2F]} laid out as the forward's input.
 *
 * <pre>{@code
 * try (DeviceTensor dUpGate = backend.activation().gluBackward(new GluBackwardRequest(fwd, dy))) { ... }
 * }</pre>
 *
 * @param forward the forward request
 * @param dy      gradient of {@code y}, {@code [..., F]}
 */
public record GluBackwardRequest(GluRequest forward, DeviceTensor dy) {

    /** Checks {@code dy} against the forward's output shape. */
    public GluBackwardRequest {
        if (forward == null) throw new InvalidRequestException("forward", "the forward request", "null");
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        InvalidRequestException.check(dy.shape().equals(forward.outputShape()) && dy.dtype() == forward.x().dtype(),
                "dy", forward.x().dtype() + " " + forward.outputShape() + " (as y)", dy.dtype() + " " + dy.shape());
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>(forward.tensors());
        all.put("dy", dy);
        return all;
    }
}
