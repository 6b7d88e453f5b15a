package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The backward of a {@link BroadcastMultiplyRequest}: {@code dx = dy ⊙ v} (returned when asked) and the
 * vector's gradient added into {@code vectorGrad}: {@code Σ_r dy[r, c]·x[r, c]} per column, or
 * {@code Σ_c dy[r, c]·x[r, c]} per row — summed in a fixed order, so results are deterministic.
 *
 * <pre>{@code
 * try (DeviceTensor dx = backend.elementwise().multiplyBackward(
 *         new BroadcastMultiplyBackwardRequest(fwd, dy, true, dScale))) { ... }
 * }</pre>
 *
 * @param forward    the forward request
 * @param dy         gradient of {@code y}, shaped and typed as {@code x}
 * @param inputGrad  whether to return {@code dx}
 * @param vectorGrad accumulator shaped and typed as {@code v}, or {@code null} for a frozen vector
 */
public record BroadcastMultiplyBackwardRequest(BroadcastMultiplyRequest forward, DeviceTensor dy, boolean inputGrad,
                                               DeviceTensor vectorGrad) {

    /** Checks shapes and dtypes against the forward request. */
    public BroadcastMultiplyBackwardRequest {
        if (forward == null) throw new InvalidRequestException("forward", "the forward request", "null");
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        DeviceTensor x = forward.x();
        InvalidRequestException.check(dy.shape().equals(x.shape()) && dy.dtype() == x.dtype(), "dy",
                x.dtype() + " " + x.shape() + " (as x)", dy.dtype() + " " + dy.shape());
        InvalidRequestException.check(inputGrad || vectorGrad != null, "request", "dx or vectorGrad (or both)", "neither");
        if (vectorGrad != null) {
            DeviceTensor v = forward.v();
            InvalidRequestException.check(vectorGrad.shape().equals(v.shape()) && vectorGrad.dtype() == v.dtype(),
                    "vectorGrad", v.dtype() + " " + v.shape() + " (as v)", vectorGrad.dtype() + " " + vectorGrad.shape());
            InvalidRequestException.check(vectorGrad != v && vectorGrad != x && vectorGrad != dy, "vectorGrad",
                    "a tensor apart from the inputs", "one of them");
        }
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>(forward.tensors());
        all.put("dy", dy);
        if (vectorGrad != null) all.put("vectorGrad", vectorGrad);
        return all;
    }
}
