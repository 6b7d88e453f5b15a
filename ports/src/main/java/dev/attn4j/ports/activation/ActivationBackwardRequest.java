package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The backward of an activation: {@code dx = dy ⊙ f'(x)}, recomputing {@code f'} from the forward's input.
 *
 * <pre>{@code
 * try (DeviceTensor dx = backend.activation().backward(new ActivationBackwardRequest(fwd, dy))) { ... }
 * }</pre>
 *
 * @param forward the forward request (its {@code x} is read)
 * @param dy      gradient of {@code y}, shaped and typed as {@code x}
 */
public record ActivationBackwardRequest(ActivationRequest forward, DeviceTensor dy) {

    /** Checks {@code dy} against the forward's input. */
    public ActivationBackwardRequest {
        if (forward == null) throw new InvalidRequestException("forward", "the forward request", "null");
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        InvalidRequestException.check(dy.shape().equals(forward.x().shape()) && dy.dtype() == forward.x().dtype(), "dy",
                forward.x().dtype() + " " + forward.x().shape() + " (as x)", dy.dtype() + " " + dy.shape());
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>(forward.tensors());
        all.put("dy", dy);
        return all;
    }
}
