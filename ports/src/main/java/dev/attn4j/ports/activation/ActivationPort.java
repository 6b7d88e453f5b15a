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

    /** {@code y = f(x)}. */
    DeviceTensor forward(ActivationRequest request);

    /** {@code dx = dy ⊙ f'(x)}. */
    DeviceTensor backward(ActivationBackwardRequest request);

    /** {@code y = a ⊙ f(g)} over the two halves of {@code x}. */
    DeviceTensor glu(GluRequest request);

    /** {@code dx = [dy ⊙ f(g), dy ⊙ a ⊙ f'(g)]}. */
    DeviceTensor gluBackward(GluBackwardRequest request);
}
