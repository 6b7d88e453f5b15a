package dev.attn4j.domain.layers;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * The feed-forward branch: {@code act(u·W₁ᵀ + b₁)·W₂ᵀ + b₂}, or with a gated linear unit
 * {@code (value ⊙ act(gate))·W₂ᵀ + b₂} where {@code [value | gate] = u·Wₚᵀ + bₚ} (x-transformers' GLU: the first
 * half is the value). Only the pre-activation is kept for backward; the activation is recomputed there, which
 * costs one memory-bound pass and saves the largest activation of the model.
 *
 * <pre>{@code
 * FeedForward.Output out = ff.forward(step, u, true);
 * DeviceTensor du = ff.backward(step, out.saved(), u, dOut);
 * }</pre>
 */
public final class FeedForward {
    private final Linear in;
    private final Linear out;
    private final Activation activation;
    private final boolean glu;

    /**
     * Binds the two projections of one feed-forward branch (their parameters live in the model's store).
     *
     * @param in         {@code W₁} (or the fused value/gate projection {@code Wₚ} for a GLU)
     * @param out        {@code W₂}
     * @param activation the activation (the gate's, for a GLU)
     * @param glu        whether {@code in} is a fused GLU projection
     */
    public FeedForward(Linear in, Linear out, Activation activation, boolean glu) {
        this.in = Objects.requireNonNull(in);
        this.out = Objects.requireNonNull(out);
        this.activation = Objects.requireNonNull(activation);
        this.glu = glu;
    }

    /** {@return the two projections, in order} (in, then out): where adapters attach. */
    public java.util.List<Linear> linears() {
        return java.util.List.of(in, out);
    }

    /**
     * The output and the saved pre-activation ({@code null} in inference).
     *
     * @param y the branch output F32 {@code [B, S, D]}, owned by the caller
     * @param preActivation the input projection's output {@code [B, S, hidden]} (twice as wide for a GLU), or {@code
     *                      null}
     */
    public record Output(DeviceTensor y, DeviceTensor preActivation) {
    }

    private DeviceTensor activate(Backend b, Step step, DeviceTensor h) {
        return step.own(glu ? b.activation().glu(new GluRequest(activation, h))
                : b.activation().forward(new ActivationRequest(activation, h)));
    }

    /**
     * {@code u [B, S, D]} to the branch output; with {@code save} false nothing is kept for backward.
     *
     * @param step the pass (it owns the output)
     * @param u F32 {@code [B, S, D]} the branch input
     * @param save whether to keep the pre-activation for backward
     * @return the output and, if saved, the pre-activation
     */
    public Output forward(Step step, DeviceTensor u, boolean save) {
        Backend b = step.backend();
        DeviceTensor h = in.forward(step, u);
        DeviceTensor a = activate(b, step, h);
        DeviceTensor y = out.forward(step, a);
        a.close();
        if (!save) {
            h.close();
            return new Output(y, null);
        }
        return new Output(y, h);
    }

    /**
     * Accumulates both projections' gradients and returns {@code du}; closes the saved pre-activation.
     *
     * @param step the training pass of the forward
     * @param preActivation the forward's saved pre-activation; closed here
     * @param u F32 {@code [B, S, D]} the forward's branch input
     * @param dOut F32 {@code [B, S, D]} the gradient of the branch output
     * @return {@code du} F32 {@code [B, S, D]}
     */
    public DeviceTensor backward(Step step, DeviceTensor preActivation, DeviceTensor u, DeviceTensor dOut) {
        Backend b = step.backend();
        try (preActivation) {
            DeviceTensor a = activate(b, step, preActivation);
            DeviceTensor da = out.backward(step, a, dOut, true);
            a.close();
            DeviceTensor dh = step.own(glu
                    ? b.activation().gluBackward(new GluBackwardRequest(new GluRequest(activation, preActivation), da))
                    : b.activation().backward(new ActivationBackwardRequest(new ActivationRequest(activation, preActivation), da)));
            da.close();
            DeviceTensor du = in.backward(step, u, dh, true);
            dh.close();
            return du;
        }
    }
}
