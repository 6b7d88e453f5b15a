package dev.attn4j.ports.norm;

/**
 * LayerNorm and RMSNorm over the last dimension, plain or fused with a scaled residual (DeepNorm),
 * forward and backward (docs/design.md §5). Statistics are computed in fp32 whatever the storage type.
 *
 * <pre>{@code
 * NormRequest req = NormRequest.rmsNorm(x, gamma, 1e-6);
 * try (NormResult fwd = backend.normalization().forward(req);
 *      NormGradients g = backend.normalization().backward(new NormBackwardRequest(req, fwd, dy, null))) { ... }
 * }</pre>
 */
public interface NormalizationPort {

    /**
     * Normalises; saves {@code mean}/{@code rstd} (and {@code h}) for backward.
     *
     * @param request the request
     * @return the output and the statistics backward needs
     */
    NormResult forward(NormRequest request);

    /**
     * Gradients w.r.t. input, residual, gamma and beta.
     *
     * @param request the request
     * @return the gradients
     */
    NormGradients backward(NormBackwardRequest request);
}
