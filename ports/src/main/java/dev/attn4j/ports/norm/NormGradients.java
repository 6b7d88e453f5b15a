package dev.attn4j.ports.norm;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * A normalisation backward's outputs; closing closes every tensor.
 *
 * @param dInput    gradient w.r.t. {@code input} ({@code = dh})
 * @param dResidual gradient w.r.t. {@code residual} ({@code = α·dh}), or {@code null} without a residual
 * @param dGamma    gradient w.r.t. {@code gamma}, {@code [C]}, in gamma's dtype
 * @param dBeta     gradient w.r.t. {@code beta}, or {@code null} without a bias
 */
public record NormGradients(DeviceTensor dInput, DeviceTensor dResidual, DeviceTensor dGamma, DeviceTensor dBeta)
        implements AutoCloseable {
    @Override
    public void close() {
        dInput.close();
        if (dResidual != null) dResidual.close();
        dGamma.close();
        if (dBeta != null) dBeta.close();
    }
}
