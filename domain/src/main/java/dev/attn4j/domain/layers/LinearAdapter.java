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

    /** The delta to add to the base output for input {@code x} (a new tensor shaped as the output). */
    DeviceTensor forward(Step step, DeviceTensor x);

    /**
     * Accumulates the adapter's parameter gradients for input {@code x} and output gradient {@code dy}, and returns
     * its share of {@code dx} (a new tensor shaped as {@code x}), or {@code null} when {@code inputGrad} is false.
     */
    DeviceTensor backward(Step step, DeviceTensor x, DeviceTensor dy, boolean inputGrad);
}
