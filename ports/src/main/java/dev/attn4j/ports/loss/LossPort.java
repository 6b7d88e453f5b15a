package dev.attn4j.ports.loss;

/**
 * Training losses (docs/design.md §9); today the fused linear cross-entropy.
 *
 * <pre>{@code
 * try (CrossEntropyResult r = backend.loss().linearCrossEntropy(
 *         CrossEntropyRequest.evaluation(hidden, lmHead, null, targets))) { ... }
 * }</pre>
 */
public interface LossPort {

    /**
     * {@return loss, count and the requested gradients of a linear layer followed by cross-entropy}
     *
     * @param request the hidden states, the output projection, the targets and which gradients to compute
     */
    CrossEntropyResult linearCrossEntropy(CrossEntropyRequest request);
}
