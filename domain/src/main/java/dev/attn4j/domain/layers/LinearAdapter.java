package dev.attn4j.domain.layers;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * What an adapter (LoRA, VeRA, ...) adds to a {@link Linear} layer: a delta on the output, and in backward that
 * delta's share of {@code dx} plus its own parameters' gradients. The base layer is unchanged and, when frozen,
 * computes no weight gradient.
 *
 * <pre>{@code
 * linear.attach(new LoraAdapter(...));   // y = base(x) + adapter.forward(x)
 * }</pre>
 */
public interface LinearAdapter {

    /**
     * The delta to add to the base output for input {@code x} (a new tensor shaped as the output).
     *
     * @param step the pass (it owns the temporaries)
     * @param x the base layer's input {@code [..., in]}
     * @return the delta F32 {@code [..., out]}, a new tensor the caller closes
     */
    DeviceTensor forward(Step step, DeviceTensor x);

    /**
     * Accumulates the adapter's parameter gradients for input {@code x} and output gradient {@code dy}, and returns
     * its share of {@code dx} (a new tensor shaped as {@code x}), or {@code null} when {@code inputGrad} is false.
     *
     * @param step the training pass of the forward
     * @param x the base layer's input {@code [..., in]}
     * @param dy F32 {@code [..., out]} the gradient of the base layer's output
     * @param inputGrad whether the caller needs {@code dx}
     * @return the adapter's share of {@code dx} F32 {@code [..., in]}, or {@code null}
     */
    DeviceTensor backward(Step step, DeviceTensor x, DeviceTensor dy, boolean inputGrad);
}
