package dev.attn4j.ports.loss;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * What a fused cross-entropy call returns, all on the device: reading the loss is the caller's choice (a
 * trainer reads it when it logs, not every step).
 *
 * <pre>{@code
 * try (CrossEntropyResult r = backend.loss().linearCrossEntropy(ce)) {
 *     float mean = backend.tensors().download(r.lossSum())[0] / backend.tensors().download(r.count())[0];
 * }
 * }</pre>
 *
 * @param lossSum  F32 {@code [1]}: the sum of the counted rows' losses
 * @param count    F32 {@code [1]}: how many rows were counted (target != ignore index)
 * @param dHidden  gradient of {@code hidden} (scaled by gradScale), or {@code null} when not asked
 * @param perToken F32, the targets' shape: each row's loss (0 when ignored), or {@code null} when not asked
 */
public record CrossEntropyResult(DeviceTensor lossSum, DeviceTensor count, DeviceTensor dHidden, DeviceTensor perToken)
        implements AutoCloseable {

    /** Closes every tensor of the result. */
    @Override
    public void close() {
        lossSum.close();
        count.close();
        if (dHidden != null) dHidden.close();
        if (perToken != null) perToken.close();
    }
}
