package dev.attn4j.ports.embedding;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.PortGuard.IntRange;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * The embedding port as callers see it: ownership, liveness, the declared dtype and every id in
 * {@code [0, V)} are checked before the engine's port is called.
 *
 * <pre>{@code
 * EmbeddingPort checked = new ValidatingEmbeddingPort(guard, engine.embedding());
 * }</pre>
 */
public final class ValidatingEmbeddingPort implements EmbeddingPort {
    private final PortGuard guard;
    private final EmbeddingPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw port, or {@code null} when it has none (every call is then unsupported)
     */
    public ValidatingEmbeddingPort(PortGuard guard, EmbeddingPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    private void check(EmbeddingRequest forward) {
        String name = guard.backendName();
        guard.capabilities().require(name, EmbeddingCapabilities.class, "embedding").require(name, forward.table().dtype());
        IntRange ids = guard.intRange(forward.ids());
        int v = forward.vocabulary();
        InvalidRequestException.check(ids.within(0, v - 1), "ids", "token ids in [0, " + v + ")",
                "ids in [" + ids.min() + ", " + ids.max() + "]");
    }

    @Override
    public DeviceTensor forward(EmbeddingRequest request) {
        InvalidRequestException.check(request != null, "request", "an EmbeddingRequest", "null");
        guard.requireUsable(request.tensors());
        check(request);
        return engine.forward(request);
    }

    @Override
    public void backward(EmbeddingBackwardRequest request) {
        InvalidRequestException.check(request != null, "request", "an EmbeddingBackwardRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.forward());
        engine.backward(request);
    }
}
