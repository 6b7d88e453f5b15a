package dev.attn4j.ports.attention;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * The forward's outputs; closing the result closes both tensors.
 *
 * @param o   output {@code [B, Sq, H, D]}, in q's dtype
 * @param lse log-sum-exp of the scores per row {@code [B, H, Sq]}, F32; −∞ for fully masked rows
 */
public record AttentionResult(DeviceTensor o, DeviceTensor lse) implements AutoCloseable {
    @Override
    public void close() {
        o.close();
        lse.close();
    }
}
