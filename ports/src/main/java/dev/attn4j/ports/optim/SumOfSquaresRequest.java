package dev.attn4j.ports.optim;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code accumulator += Σ x²} over every element of {@code x}, summed in a fixed order (deterministic), for
 * global-norm clipping across parameter groups.
 *
 * <pre>{@code
 * backend.optimizer().sumOfSquares(new SumOfSquaresRequest(grads, norm2));
 * }</pre>
 *
 * @param x           floating, any shape
 * @param accumulator F32 {@code [1]}, added to
 */
public record SumOfSquaresRequest(DeviceTensor x, DeviceTensor accumulator) {

    /** Checks the arguments. */
    public SumOfSquaresRequest {
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        if (accumulator == null) throw new InvalidRequestException("accumulator", "a tensor", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        InvalidRequestException.check(accumulator.dtype() == DType.F32 && accumulator.shape().equals(Shape.of(1))
                && accumulator != x, "accumulator", "an F32 [1] tensor apart from x",
                accumulator.dtype() + " " + accumulator.shape());
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        all.put("accumulator", accumulator);
        return all;
    }
}
