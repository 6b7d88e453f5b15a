package dev.attn4j.ports.attention;

/**
 * Exact attention, forward and backward, with the semantics of {@link AttentionOptions} (docs/design.md §4–5).
 * Implementations never materialise the {@code Sq × Sk} matrix.
 *
 * <pre>{@code
 * AttentionPort attention = backend.attention();
 * try (AttentionResult fwd = attention.forward(new AttentionRequest(q, k, v, options));
 *      AttentionGradients g = attention.backward(
 *              new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options))) {
 *     float[] dq = backend.tensors().download(g.dq());
 * }
 * }</pre>
 */
public interface AttentionPort {

    /**
     * Computes {@code o} and {@code lse}.
     *
     * @param request the request
     * @return {@code o} and {@code lse}
     */
    AttentionResult forward(AttentionRequest request);

    /**
     * Computes {@code dq, dk, dv} (and the bias table's gradient when asked).
     *
     * @param request the request
     * @return {@code dq, dk, dv}, and the table's gradient when asked
     */
    AttentionGradients backward(AttentionBackwardRequest request);
}
