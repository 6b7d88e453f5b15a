package dev.attn4j.domain.adapters;

import dev.attn4j.domain.layers.Step;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * {@code nn.Dropout(p)} on an adapter's input ({@code lora_dropout}, {@code vera_dropout}), in training passes only,
 * from the step's Philox stream with attention dropout's rule: element {@code n} is kept iff its uniform
 * {@code u >= p} (the random port's counter mapping) and kept elements are scaled by {@code 1/(1 − p)}.
 *
 * <h2>The mask from the ports</h2>
 * The ports have no threshold op, so the 0/1 mask is built exactly from two uniform draws of the same
 * {@code (seed, offset)}: {@code u = k·2⁻²⁴} with an integer {@code k < 2²⁴}, and {@code u >= p} iff
 * {@code k >= K = ⌈p·2²⁴⌉}. A draw over {@code [1 − K, 1 − K + 2²⁴)} is {@code fma(u, 2²⁴, 1 − K) = k + 1 − K}
 * exactly (integers below 2²⁴ in magnitude are exact in fp32; {@code 1 − K + 2²⁴ <= 2²⁴} since {@code K >= 1}), the
 * second draw, shifted by −1, is {@code k − K}, and {@code relu(k + 1 − K) − relu(k − K)} is 1 when {@code k >= K}
 * and 0 otherwise. Every backend computes this bit for bit, and the mask never visits the host.
 *
 * <h2>One mask per pass</h2>
 * A layer's forward, a checkpointed block's recomputation and its backward must all see the same mask, though the
 * adapter keeps no state between them: the first use in a {@link Step} takes a fresh counter offset from
 * {@link Step#nextRandomOffset()} and every later use in that step reuses it (a layer runs once per training pass).
 */
final class InputDropout {
    private final double p;
    private Step lastStep;
    private long lastOffset;

    InputDropout(double p) {
        this.p = p;
    }

    /** {@return whether {@code step} drops anything} */
    boolean active(Step step) {
        return p > 0 && step.training();
    }

    private long offset(Step step) {
        if (step != lastStep) {
            lastStep = step;
            lastOffset = step.nextRandomOffset();
        }
        return lastOffset;
    }

    /**
     * The dropped input, or {@code x} itself when nothing drops; {@link Dropped#close()} frees only what this made.
     */
    Dropped apply(Step step, DeviceTensor x) {
        if (!active(step)) {
            return new Dropped(x, null);
        }
        Backend b = step.backend();
        long n = x.shape().elementCount();
        InvalidRequestException.check(n <= Integer.MAX_VALUE, "adapter input", "at most 2^31 - 1 elements (dropout)", n);
        DeviceTensor mask = mask(b, step.seed(), offset(step), (int) n);
        try (mask; DeviceTensor column = b.tensors().view(x, 0, Shape.of((int) n, 1))) {
            // x ⊙ mask elementwise: x viewed as one column of n rows, the mask broadcast along the rows
            DeviceTensor product = b.elementwise().multiply(new BroadcastMultiplyRequest(column, mask, BroadcastAxis.ROWS));
            return new Dropped(b.tensors().view(product, 0, x.shape()), product);
        }
    }

    /**
     * The dropped {@code x} as a new tensor of {@code x}'s shape that owns its storage (for gradients handed to the
     * caller, who closes them); requires an active dropout.
     */
    DeviceTensor applyOwned(Step step, DeviceTensor x) {
        Backend b = step.backend();
        try (Dropped d = apply(step, x)) {
            DeviceTensor out = b.tensors().allocate(x.shape(), x.dtype());
            try {
                b.tensors().copy(CopyRequest.into(d.tensor(), out, 0));
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        }
    }

    /** The scaled keep mask {@code [n]}: {@code 1/(1 − p)} where {@code u >= p}, else 0. */
    DeviceTensor mask(Backend b, long seed, long offset, int n) {
        double k = Math.ceil(p * 0x1.0p24);                  // K in [1, 2^24) for p in (0, 1)
        float low = (float) (1 - k);
        float high = (float) (1 - k + 0x1.0p24);
        try (DeviceTensor upper = b.tensors().allocate(Shape.of(n), DType.F32);
             DeviceTensor lower = b.tensors().allocate(Shape.of(n), DType.F32)) {
            b.random().uniform(new UniformRequest(upper, low, high, seed, offset));            // k + 1 − K
            b.random().uniform(new UniformRequest(lower, low - 1f, high - 1f, seed, offset));  // k − K
            try (DeviceTensor ru = b.activation().forward(new ActivationRequest(Activation.RELU, upper));
                 DeviceTensor rl = b.activation().forward(new ActivationRequest(Activation.RELU, lower))) {
                DeviceTensor mask = b.elementwise().add(new AddRequest(ru, rl, -1f));
                b.elementwise().scale(new ScaleRequest(mask, (float) (1.0 / (1.0 - p))));
                return mask;
            }
        }
    }

    /**
     * A dropped input: {@code tensor} to read, {@code storage} (or null) to free.
     *
     * @param tensor  the input to use
     * @param storage what backs it when it is new, else {@code null}
     */
    record Dropped(DeviceTensor tensor, DeviceTensor storage) implements AutoCloseable {
        @Override
        public void close() {
            if (storage != null) {
                storage.close();
            }
        }
    }
}
