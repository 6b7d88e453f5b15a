package dev.attn4j.ports.attention;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.tensor.DType;

import java.util.Objects;

/**
 * The attention port as callers see it: ownership and liveness of every tensor, the declared dtype, head
 * dimension and features, and FlashMask index ranges are checked before the engine's port is called (the
 * request records checked the shapes already).
 *
 * <pre>{@code
 * AttentionPort checked = new ValidatingAttentionPort(guard, engine.attention());
 * }</pre>
 */
public final class ValidatingAttentionPort implements AttentionPort {
    private final PortGuard guard;
    private final AttentionPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw attention port
     */
    public ValidatingAttentionPort(PortGuard guard, AttentionPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    @Override
    public AttentionResult forward(AttentionRequest request) {
        InvalidRequestException.check(request != null, "request", "an AttentionRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.shape(), request.options(), request.q().dtype(), false);
        // the result remembers its request, so result.backward(dO) cannot disagree with this forward
        return engine.forward(request).boundTo(request, this);
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest request) {
        InvalidRequestException.check(request != null, "request", "an AttentionBackwardRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.shape(), request.options(), request.q().dtype(), true);
        return engine.backward(request);
    }

    private void check(AttentionShape shape, AttentionOptions options, DType dtype, boolean backward) {
        String name = guard.backendName();
        AttentionCapabilities caps = guard.capabilities().require(name, AttentionCapabilities.class, "attention");
        caps.require(name, dtype);
        caps.requireHeadDim(name, shape.headDim());
        for (AttentionFeature f : AttentionCapabilities.required(shape, options, backward)) {
            caps.require(name, f);
        }
        if (options.flashMask() != null) {
            PortGuard.IntRange rows = guard.intRange(options.flashMask());
            // Values above Sq act as Sq; only negative ones are meaningless.
            if (rows.min() < 0) {
                int n = options.flashMask().shape().dim(3);
                long at = rows.firstMin();
                throw new InvalidRequestException("flashMask",
                        "row indices >= 0 (values above Sq = " + shape.seqQ() + " act as Sq)",
                        rows.min() + (at < 0 ? "" : " at column " + (at / n) % shape.seqK() + ", slot " + at % n));
            }
        }
    }
}
