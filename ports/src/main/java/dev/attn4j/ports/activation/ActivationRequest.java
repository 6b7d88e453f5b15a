package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An element-wise activation {@code y = f(x)}.
 *
 * <pre>{@code
 * try (DeviceTensor h = backend.activation().forward(new ActivationRequest(Activation.GELU, x))) { ... }
 * }</pre>
 *
 * @param function the activation
 * @param x        any shape, floating
 */
public record ActivationRequest(Activation function, DeviceTensor x) {

    /** Checks the arguments. */
    public ActivationRequest {
        if (function == null) throw new InvalidRequestException("function", "an Activation", "null");
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        return all;
    }
}
