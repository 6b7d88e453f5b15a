package dev.attn4j.ports.attention;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Optional;

/**
 * The forward's outputs, and the way back: a result from a {@link dev.attn4j.ports.Backend}'s attention port
 * remembers its request and offers {@link #backward(DeviceTensor)}, which runs the backward with exactly the
 * forward's {@code q, k, v}, masks, biases, scale and dropout, so the two cannot disagree. The explicit
 * {@link AttentionBackwardRequest} stays for callers that keep only {@code o} and {@code lse}.
 *
 * <p>Ownership: the result owns {@code o} and {@code lse}, and closing it closes those two only. The request's
 * tensors stay the caller's; they must still be open when {@code backward} runs (a closed one is rejected
 * with an {@link InvalidRequestException} naming it).
 *
 * <pre>{@code
 * try (AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, options));
 *      AttentionGradients g = fwd.backward(dO)) {     // same mask, scale, dropout as the forward
 *     float[] dq = backend.tensors().download(g.dq());
 * }
 * }</pre>
 */
public final class AttentionResult implements AutoCloseable {
    private final DeviceTensor o;
    private final DeviceTensor lse;
    private final AttentionRequest request;
    private final AttentionPort port;

    /**
     * A result as an engine makes it: outputs only, not yet tied to the request and port that made them.
     *
     * @param o   output {@code [B, Sq, H, D]} (or {@code [B, H, Sq, D]} in the BHSD layout), in q's dtype
     * @param lse log-sum-exp of the scores per row {@code [B, H, Sq]}, F32; −∞ for fully masked rows
     */
    public AttentionResult(DeviceTensor o, DeviceTensor lse) {
        this(o, lse, null, null);
    }

    private AttentionResult(DeviceTensor o, DeviceTensor lse, AttentionRequest request, AttentionPort port) {
        this.o = o;
        this.lse = lse;
        this.request = request;
        this.port = port;
    }

    /**
     * The same outputs, tied to the request that made them and the port that will run their backward
     * ({@link dev.attn4j.ports.Backend} does this for every forward it runs).
     *
     * @param request the forward's request
     * @param port    the port whose {@code backward} {@link #backward(DeviceTensor)} calls
     * @return a result offering {@link #backward(DeviceTensor)}
     */
    public AttentionResult boundTo(AttentionRequest request, AttentionPort port) {
        InvalidRequestException.check(request != null, "request", "the forward's request", "null");
        InvalidRequestException.check(port != null, "port", "an attention port", "null");
        return new AttentionResult(o, lse, request, port);
    }

    /**
     * Output {@code [B, Sq, H, D]} ({@code [B, H, Sq, D]} in the BHSD layout), in q's dtype.
     *
     * @return o
     */
    public DeviceTensor o() {
        return o;
    }

    /**
     * Log-sum-exp of the scores per row {@code [B, H, Sq]}, F32; −∞ for fully masked rows.
     *
     * @return lse
     */
    public DeviceTensor lse() {
        return lse;
    }

    /**
     * The forward's request, when this result came from a backend's port.
     *
     * @return the request, or empty for a result made by an engine directly
     */
    public Optional<AttentionRequest> request() {
        return Optional.ofNullable(request);
    }

    /**
     * The backward request matching this forward: its tensors and options, this result's {@code o} and
     * {@code lse}, and {@code dO}.
     *
     * @param dO gradient of the loss w.r.t. {@code o}, shaped as {@code o}
     * @return the request {@link #backward(DeviceTensor)} runs
     * @throws Attn4jException when this result was not made through a backend's port
     */
    public AttentionBackwardRequest backwardRequest(DeviceTensor dO) {
        AttentionRequest forward = requireRequest();
        return new AttentionBackwardRequest(dO, forward.q(), forward.k(), forward.v(), o, lse, forward.options());
    }

    /**
     * As {@link #backwardRequest(DeviceTensor)}, with the backward-only options set.
     *
     * @param dO            gradient of the loss w.r.t. {@code o}
     * @param deterministic bit-identical results run to run
     * @param biasTableGrad also return the relative-position table's gradient (needs a {@code biasTable})
     * @return the backward request
     */
    public AttentionBackwardRequest backwardRequest(DeviceTensor dO, boolean deterministic, boolean biasTableGrad) {
        AttentionRequest forward = requireRequest();
        AttentionOptions options = forward.options().toBuilder()
                .deterministic(deterministic).biasTableGrad(biasTableGrad).build();
        return new AttentionBackwardRequest(dO, forward.q(), forward.k(), forward.v(), o, lse, options);
    }

    /**
     * Runs the backward of this forward: gradients of {@code q, k, v} with the forward's own options.
     *
     * @param dO gradient of the loss w.r.t. {@code o}, shaped as {@code o}
     * @return {@code dq, dk, dv} (new tensors; the caller closes them)
     * @throws Attn4jException when this result was not made through a backend's port
     */
    public AttentionGradients backward(DeviceTensor dO) {
        return requirePort().backward(backwardRequest(dO));
    }

    /**
     * Runs the backward of this forward with the backward-only options set.
     *
     * @param dO            gradient of the loss w.r.t. {@code o}
     * @param deterministic bit-identical results run to run
     * @param biasTableGrad also return the relative-position table's gradient (needs a {@code biasTable})
     * @return {@code dq, dk, dv} and, when asked, the table's gradient
     */
    public AttentionGradients backward(DeviceTensor dO, boolean deterministic, boolean biasTableGrad) {
        return requirePort().backward(backwardRequest(dO, deterministic, biasTableGrad));
    }

    /** Closes {@code o} and {@code lse}; never the request's tensors. */
    @Override
    public void close() {
        o.close();
        lse.close();
    }

    @Override
    public String toString() {
        return "AttentionResult[o=" + o + ", lse=" + lse + "]";
    }

    private AttentionRequest requireRequest() {
        if (request == null) {
            throw new Attn4jException("this attention result was made by an engine directly and does not know its "
                    + "request: run the forward through a Backend, or build an AttentionBackwardRequest");
        }
        return request;
    }

    private AttentionPort requirePort() {
        requireRequest();
        return port;
    }
}
