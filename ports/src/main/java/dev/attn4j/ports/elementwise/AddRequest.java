package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A new tensor {@code y = a + alpha·b} (a residual add with {@code alpha = 1}).
 *
 * <pre>{@code
 * try (DeviceTensor h = backend.elementwise().add(AddRequest.of(x, attnOut))) { ... }
 * }</pre>
 *
 * @param a     any shape, floating
 * @param b     shaped and typed as {@code a}
 * @param alpha scale of {@code b}, finite as a float
 */
public record AddRequest(DeviceTensor a, DeviceTensor b, float alpha) {

    /** Checks shapes, dtypes and the scalar. */
    public AddRequest {
        if (a == null) throw new InvalidRequestException("a", "a tensor", "null");
        if (b == null) throw new InvalidRequestException("b", "a tensor", "null");
        InvalidRequestException.check(a.dtype().isFloating(), "a", "a floating dtype", a.dtype());
        InvalidRequestException.check(b.shape().equals(a.shape()) && b.dtype() == a.dtype(), "b",
                a.dtype() + " " + a.shape() + " (as a)", b.dtype() + " " + b.shape());
        Scalars.requireFinite("alpha", alpha);
    }

    /**
     * {@return the request for {@code a + b}, a residual add ({@code alpha = 1})}
     *
     * @param a any shape, floating
     * @param b shaped and typed as {@code a}
     */
    public static AddRequest of(DeviceTensor a, DeviceTensor b) {
        return new AddRequest(a, b, 1f);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("a", a);
        all.put("b", b);
        return all;
    }
}
