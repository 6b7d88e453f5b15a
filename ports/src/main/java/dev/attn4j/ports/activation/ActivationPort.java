package dev.attn4j.ports.activation;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Element-wise activations and gated linear units, forward and backward (docs/design.md §9). Each call returns a
 * new tensor; the backward recomputes what it needs from the forward's input.
 *
 * <pre>{@code
 * ActivationPort act = backend.activation();
 * var fwd = new ActivationRequest(Activation.GELU, h);
 * try (DeviceTensor y = act.forward(fwd); DeviceTensor dh = act.backward(new ActivationBackwardRequest(fwd, dy))) { ... }
 * }</pre>
 */
public interface ActivationPort {

    /**
     * {@code y = f(x)}.
     *
     * @param request the activation {@code f} and the input {@code x}
     * @return a new tensor {@code y}, shaped and typed as {@code x}
     */
    DeviceTensor forward(ActivationRequest request);

    /**
     * {@code dx = dy ⊙ f'(x)}.
     *
     * @param request the forward request and {@code dy}
     * @return a new tensor {@code dx}, shaped and typed as {@code x}
     */
    DeviceTensor backward(ActivationBackwardRequest request);

    /**
     * {@code y = a ⊙ f(g)}, from the two halves of {@code x} or from two tensors ({@link GluRequest#isSplit()}).
     *
     * @param request the gate's activation {@code f}, and {@code x [..., 2F]} or the value and the gate's input
     * @return a new tensor {@code y [..., F]}
     */
    DeviceTensor glu(GluRequest request);

    /**
     * {@code dx = [dy ⊙ f(g), dy ⊙ a ⊙ f'(g)]}.
     *
     * @param request the forward request and {@code dy [..., F]}
     * @return a new tensor shaped {@link GluRequest#gradientShape()}: {@code [..., 2F]} with the value's gradient
     *         then the gate's in each row (concatenated), or {@code [2, ..., F]} (split)
     */
    DeviceTensor gluBackward(GluBackwardRequest request);
}
