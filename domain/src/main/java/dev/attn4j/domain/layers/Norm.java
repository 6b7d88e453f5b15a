package dev.attn4j.domain.layers;

import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * LayerNorm or RMSNorm over the normalisation port, optionally with the fused residual form
 * {@code y = norm(input + α·residual)} that post-norm and DeepNorm blocks use.
 *
 * <pre>{@code
 * Norm ln = Norm.layerNorm(gamma, beta, 1e-5);
 * Norm.Saved s = ln.forward(step, x, null, 1);
 * DeviceTensor y = s.y();
 * NormGradients g = ln.backward(step, s, dy);        // gamma/beta gradients already accumulated
 * }</pre>
 *
 * @param kind  LayerNorm or RMSNorm
 * @param gamma the gain
 * @param beta  the bias (LayerNorm only), or {@code null}
 * @param eps   the variance epsilon
 */
public record Norm(NormKind kind, Parameter gamma, Parameter beta, double eps) {

    /** Checks the arguments. */
    public Norm {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(gamma, "gamma");
    }

    /**
     * LayerNorm with eps 1e-5 (PyTorch's default).
     *
     * @param gamma the gain {@code [D]}
     * @param beta the bias {@code [D]}
     * @return the norm
     */
    public static Norm layerNorm(Parameter gamma, Parameter beta) {
        return new Norm(NormKind.LAYER_NORM, gamma, beta, 1e-5);
    }

    /**
     * x-transformers' RMSNorm, {@code x / max(‖x‖, 1e-12) · √D · g}: the RMS norm without an epsilon inside the
     * root. The port's {@code x / √(mean(x²) + eps)} equals it for any row not within 1e-12 of zero with this eps
     * (the smallest the port's float precision can represent safely).
     *
     * @param gamma the gain {@code g [D]}
     * @return the norm
     */
    public static Norm rmsNorm(Parameter gamma) {
        return new Norm(NormKind.RMS_NORM, gamma, null, 1e-30);
    }

    /**
     * What a forward keeps for its backward: the request and the result. The caller owns the output {@link #y()}
     * separately; {@link #close()} frees the statistics only.
     *
     * @param request the forward request
     * @param result  the port's result
     */
    public record Saved(NormRequest request, NormResult result) implements AutoCloseable {
        /** {@return the normalised output} F32, shaped as the input. */
        public DeviceTensor y() {
            return result.y();
        }

        /** Closes {@code mean}, {@code rstd} and {@code sum}, leaving {@code y} to its owner. */
        @Override
        public void close() {
            if (result.mean() != null) result.mean().close();
            result.rstd().close();
            if (result.sum() != null) result.sum().close();
        }
    }

    /**
     * Normalises {@code input} (plus {@code alpha·residual} when a residual is given). Every output tensor is
     * registered with the step.
     *
     * @param step the pass (it owns the outputs)
     * @param input F32 {@code [..., D]}
     * @param residual F32 shaped as {@code input}, or {@code null}
     * @param alpha the residual's multiplier (1 for a plain residual)
     * @return the output and what backward needs
     */
    public Saved forward(Step step, DeviceTensor input, DeviceTensor residual, double alpha) {
        NormRequest request = new NormRequest(kind, input, residual, residual == null ? 1.0 : alpha, gamma.value(),
                beta == null ? null : beta.value(), eps);
        NormResult r = step.backend().normalization().forward(request);
        step.own(r);
        return new Saved(request, r);
    }

    /**
     * Accumulates the gain's (and bias's) gradients and returns the input gradients ({@code dInput}, and
     * {@code dResidual = α·dh} with a residual); the caller closes the returned object's tensors (the gain and bias
     * gradients in it are closed here already).
     *
     * @param step the training pass of the forward
     * @param saved what the forward kept
     * @param dy the gradient of the output, shaped as the input
     * @return the input (and residual) gradients
     */
    public NormGradients backward(Step step, Saved saved, DeviceTensor dy) {
        NormGradients g = step.own(step.backend().normalization().backward(
                new NormBackwardRequest(saved.request(), saved.result(), dy, null)));
        if (gamma.grad() != null) {
            step.backend().elementwise().axpy(new AxpyRequest(1f, g.dGamma(), gamma.grad()));
        }
        if (beta != null && beta.grad() != null) {
            step.backend().elementwise().axpy(new AxpyRequest(1f, g.dBeta(), beta.grad()));
        }
        g.dGamma().close();
        if (g.dBeta() != null) {
            g.dBeta().close();
        }
        return g;
    }
}
