package dev.attn4j.ports.linear;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One linear layer backward: {@code dx = dy·W} (when asked), and the parameter gradients <em>added into</em>
 * the given tensors, {@code dW += dyᵀ·x} and {@code db += Σ_rows dy}, so that micro-batches accumulate without
 * a separate add. A frozen weight passes {@code weightGrad = null}: its GEMM is not run at all.
 *
 * <pre>{@code
 * var back = new LinearBackwardRequest(fwd, dy, true, dW, db);
 * try (DeviceTensor dx = backend.linear().backward(back)) { ... }   // dW, db grew by this batch's share
 * }</pre>
 *
 * @param forward    the forward request
 * @param dy         gradient of {@code y}, shaped as {@code forward.outputShape()}
 * @param inputGrad  whether to compute and return {@code dx}
 * @param weightGrad accumulator shaped as the weight (same layout), or {@code null} for none
 * @param biasGrad   accumulator {@code [out]}, or {@code null}; only with a bias
 */
public record LinearBackwardRequest(LinearRequest forward, DeviceTensor dy, boolean inputGrad, DeviceTensor weightGrad,
                                    DeviceTensor biasGrad) {

    /** Checks shapes and dtypes against the forward request. */
    public LinearBackwardRequest {
        if (forward == null) throw new InvalidRequestException("forward", "the forward request", "null");
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        InvalidRequestException.check(dy.shape().equals(forward.outputShape()), "dy",
                "shape " + forward.outputShape() + " (as y)", dy.shape());
        InvalidRequestException.check(dy.dtype() == forward.x().dtype(), "dy", "dtype " + forward.x().dtype() + " (as x)",
                dy.dtype());
        InvalidRequestException.check(inputGrad || weightGrad != null || biasGrad != null, "request",
                "at least one of dx, weightGrad, biasGrad", "none");
        if (weightGrad != null) {
            InvalidRequestException.check(weightGrad.shape().equals(forward.weight().shape())
                    && weightGrad.dtype() == forward.weight().dtype(), "weightGrad",
                    forward.weight().dtype() + " " + forward.weight().shape() + " (as weight)",
                    weightGrad.dtype() + " " + weightGrad.shape());
            InvalidRequestException.check(weightGrad != forward.weight() && weightGrad != forward.x() && weightGrad != dy,
                    "weightGrad", "a tensor apart from the inputs", "one of them");
        }
        if (biasGrad != null) {
            InvalidRequestException.check(forward.bias() != null, "biasGrad", "null for a layer without a bias",
                    "a tensor");
            InvalidRequestException.check(biasGrad.shape().equals(forward.bias().shape())
                    && biasGrad.dtype() == forward.bias().dtype(), "biasGrad",
                    forward.bias().dtype() + " " + forward.bias().shape() + " (as bias)",
                    biasGrad.dtype() + " " + biasGrad.shape());
            InvalidRequestException.check(biasGrad != forward.bias() && biasGrad != weightGrad, "biasGrad",
                    "a tensor apart from bias and weightGrad", "one of them");
        }
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>(forward.tensors());
        all.put("dy", dy);
        if (weightGrad != null) all.put("weightGrad", weightGrad);
        if (biasGrad != null) all.put("biasGrad", biasGrad);
        return all;
    }
}
