package dev.attn4j.ports.optim;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_} does it, computed on the device:
 * with {@code n = √(sumOfSquares)}, every gradient is multiplied by {@code min(1, maxNorm / (n + 1e-6))} as the
 * optimizer reads it. {@code sumOfSquares} holds the sum over <em>all</em> parameter groups, accumulated
 * beforehand with {@link OptimizerPort#sumOfSquares}, so no host round trip is needed.
 *
 * <pre>{@code
 * backend.tensors().fill(norm2, 0f);
 * for (DeviceTensor g : groupGrads) backend.optimizer().sumOfSquares(new SumOfSquaresRequest(g, norm2));
 * var clip = new GradientClip(1.0f, norm2);
 * }</pre>
 *
 * @param maxNorm      the largest gradient norm let through, finite as a float and {@code > 0}
 * @param sumOfSquares F32 {@code [1]}: the squared global norm
 */
public record GradientClip(float maxNorm, DeviceTensor sumOfSquares) {

    /** Checks the arguments. */
    public GradientClip {
        Scalars.requirePositive("maxNorm", maxNorm);
        if (sumOfSquares == null) throw new InvalidRequestException("sumOfSquares", "a tensor", "null");
        InvalidRequestException.check(sumOfSquares.dtype() == DType.F32 && sumOfSquares.shape().equals(Shape.of(1)),
                "sumOfSquares", "F32 [1]", sumOfSquares.dtype() + " " + sumOfSquares.shape());
    }
}
