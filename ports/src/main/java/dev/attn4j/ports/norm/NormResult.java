package dev.attn4j.ports.norm;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * A normalisation forward's outputs, and what backward needs saved. Closing closes every tensor.
 *
 * @param y    normalised output, shaped and typed as the input
 * @param mean per-row mean {@code [rows]}, F32 (LayerNorm); {@code null} for RMSNorm
 * @param rstd per-row reciprocal standard deviation (or root mean square) {@code [rows]}, F32
 * @param sum  {@code h = α·residual + input} when a residual was given (the new residual stream), else {@code null}
 */
public record NormResult(DeviceTensor y, DeviceTensor mean, DeviceTensor rstd, DeviceTensor sum)
        implements AutoCloseable {
    @Override
    public void close() {
        y.close();
        if (mean != null) mean.close();
        rstd.close();
        if (sum != null) sum.close();
    }
}
