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

    /** Loss, count and the requested gradients of a linear layer followed by cross-entropy. */
    CrossEntropyResult linearCrossEntropy(CrossEntropyRequest request);
}
