package dev.attn4j.ports.attention;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * The backward's outputs; closing closes every tensor.
 *
 * @param dq        {@code [B, Sq, H, D]}
 * @param dk        {@code [B, Sk, Hkv, D]}
 * @param dv        {@code [B, Sk, Hkv, D]}
 * @param dBiasTable gradient of the relative-position table {@code [H, Sq + Sk - 1]} when asked, else {@code null}
 */
public record AttentionGradients(DeviceTensor dq, DeviceTensor dk, DeviceTensor dv, DeviceTensor dBiasTable)
        implements AutoCloseable {
    @Override
    public void close() {
        dq.close();
        dk.close();
        dv.close();
        if (dBiasTable != null) {
            dBiasTable.close();
        }
    }
}
