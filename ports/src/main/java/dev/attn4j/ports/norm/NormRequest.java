package dev.attn4j.ports.norm;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One normalisation forward call over the last dimension {@code C} of {@code input}:
 * {@code h = α·residual + input} when a residual is given (the fused residual form, and DeepNorm's
 * {@code LN(α·x + f)} with {@code α > 1}), else {@code h = input}; then {@code y = norm(h)}.
 *
 * <pre>{@code
 * // DeepNorm post-LN: x is the residual stream, f = sublayer(x), alpha = (2N)^(1/4)
 * var req = NormRequest.layerNorm(f, gamma, beta, 1e-5).withResidual(x, alpha);
 * try (NormResult r = backend.normalization().forward(req)) { ... r.y() ... }
 * }</pre>
 *
 * @param kind          LayerNorm or RMSNorm
 * @param input         {@code [..., C]}
 * @param residual      {@code null}, or a tensor shaped as {@code input}
 * @param residualScale α, the residual's scale (1 for the plain fused form), finite as a float
 * @param gamma         {@code [C]}
 * @param beta          {@code [C]} or {@code null} (LayerNorm only)
 * @param eps           added to the variance (or mean square): {@code > 0} and a normal float
 */
public record NormRequest(NormKind kind, DeviceTensor input, DeviceTensor residual, double residualScale,
                          DeviceTensor gamma, DeviceTensor beta, double eps) {

    /** Checks shapes, dtypes and scalars. */
    public NormRequest {
        if (kind == null) {
            throw new InvalidRequestException("kind", "LAYER_NORM or RMS_NORM", "null");
        }
        if (input == null) throw new InvalidRequestException("input", "a tensor", "null");
        if (gamma == null) throw new InvalidRequestException("gamma", "a tensor", "null");
        InvalidRequestException.check(input.dtype().isFloating(), "input", "a floating dtype", input.dtype());
        int c = input.shape().dim(-1);
        InvalidRequestException.check(gamma.shape().equals(Shape.of(c)), "gamma", "shape [" + c + "] (last dim of input)",
                gamma.shape());
        InvalidRequestException.check(gamma.dtype() == input.dtype() || gamma.dtype() == DType.F32, "gamma",
                "dtype F32 or " + input.dtype(), gamma.dtype());
        if (beta != null) {
            InvalidRequestException.check(kind == NormKind.LAYER_NORM, "beta", "null for RMS_NORM", "a tensor");
            InvalidRequestException.check(beta.shape().equals(Shape.of(c)), "beta", "shape [" + c + "]", beta.shape());
            InvalidRequestException.check(beta.dtype() == gamma.dtype(), "beta", "dtype " + gamma.dtype() + " (as gamma)",
                    beta.dtype());
        }
        if (residual != null) {
            InvalidRequestException.check(residual.shape().equals(input.shape()), "residual",
                    "shape " + input.shape() + " (as input)", residual.shape());
            InvalidRequestException.check(residual.dtype() == input.dtype(), "residual",
                    "dtype " + input.dtype() + " (as input)", residual.dtype());
        }
        // Kernels compute in fp32: the scalars are checked as the floats they become (1e39 is infinite there,
        // 1e-300 is 0, and a subnormal eps is flushed to 0 on many devices, giving rstd = inf on a flat row).
        InvalidRequestException.check(Float.isFinite((float) residualScale), "residualScale",
                "a number that is finite as a float (|α| <= " + Float.MAX_VALUE + ")", residualScale);
        InvalidRequestException.check(eps > 0 && Float.isFinite((float) eps) && (float) eps >= Float.MIN_NORMAL, "eps",
                "a number in [" + Float.MIN_NORMAL + ", " + Float.MAX_VALUE + "] (a normal float > 0)", eps);
    }

    /**
     * {@return LayerNorm of {@code input}; {@code beta} may be {@code null}}
     *
     * @param input {@code [..., C]}
     * @param gamma {@code [C]}
     * @param beta {@code [C]} or {@code null} (LayerNorm only)
     * @param eps added to the variance (or mean square), finite and {@code > 0}
     */
    public static NormRequest layerNorm(DeviceTensor input, DeviceTensor gamma, DeviceTensor beta, double eps) {
        return new NormRequest(NormKind.LAYER_NORM, input, null, 1.0, gamma, beta, eps);
    }

    /**
     * {@return RMSNorm of {@code input}}
     *
     * @param input {@code [..., C]}
     * @param gamma {@code [C]}
     * @param eps added to the variance (or mean square), finite and {@code > 0}
     */
    public static NormRequest rmsNorm(DeviceTensor input, DeviceTensor gamma, double eps) {
        return new NormRequest(NormKind.RMS_NORM, input, null, 1.0, gamma, null, eps);
    }

    /**
     * {@return this request normalising {@code alpha·residual + input} instead}
     *
     * @param residual {@code null}, or a tensor shaped as {@code input}
     * @param alpha residual scale alpha
     */
    public NormRequest withResidual(DeviceTensor residual, double alpha) {
        return new NormRequest(kind, input, residual, alpha, gamma, beta, eps);
    }

    /** {@return number of rows ({@code input}'s element count / C)} */
    public long rows() {
        return input.shape().elementCount() / input.shape().dim(-1);
    }

    /** {@return the shape of {@code mean} and {@code rstd}: {@code [rows]}} */
    public Shape statsShape() {
        return Shape.of(Math.toIntExact(rows()));
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("input", input);
        if (residual != null) all.put("residual", residual);
        all.put("gamma", gamma);
        if (beta != null) all.put("beta", beta);
        return all;
    }
}
