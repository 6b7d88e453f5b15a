package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code x *= alpha}, in place.
 *
 * <pre>{@code
 * backend.elementwise().scale(new ScaleRequest(grads, 1f / accumulationSteps));
 * }</pre>
 *
 * @param x     any shape, floating; written
 * @param alpha the factor, finite as a float
 */
public record ScaleRequest(DeviceTensor x, float alpha) {

    /** Checks the arguments. */
    public ScaleRequest {
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        Scalars.requireFinite("alpha", alpha);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        return all;
    }
}
