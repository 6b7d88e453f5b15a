package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code y += alpha·x}, in place: how gradients from several branches accumulate into one tensor.
 *
 * <pre>{@code
 * backend.elementwise().axpy(new AxpyRequest(1f, dxFromAttention, dResidual));
 * }</pre>
 *
 * @param alpha scale of {@code x}, finite as a float
 * @param x     any shape, floating
 * @param y     shaped and typed as {@code x}; written
 */
public record AxpyRequest(float alpha, DeviceTensor x, DeviceTensor y) {

    /** Checks shapes, dtypes and the scalar. */
    public AxpyRequest {
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        if (y == null) throw new InvalidRequestException("y", "a tensor", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        InvalidRequestException.check(y.shape().equals(x.shape()) && y.dtype() == x.dtype(), "y",
                x.dtype() + " " + x.shape() + " (as x)", y.dtype() + " " + y.shape());
        Scalars.requireFinite("alpha", alpha);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        all.put("y", y);
        return all;
    }
}
