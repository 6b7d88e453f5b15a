package dev.attn4j.ports.random;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;

import java.util.Objects;

/**
 * The random port as callers see it: ownership, liveness and the declared dtype are checked before the
 * engine's port is called.
 *
 * <pre>{@code
 * RandomPort checked = new ValidatingRandomPort(guard, engine.random());
 * }</pre>
 */
public final class ValidatingRandomPort implements RandomPort {
    private final PortGuard guard;
    private final RandomPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw port, or {@code null} when it has none (every call is then unsupported)
     */
    public ValidatingRandomPort(PortGuard guard, RandomPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    @Override
    public void uniform(UniformRequest request) {
        InvalidRequestException.check(request != null, "request", "a UniformRequest", "null");
        guard.requireUsable(request.tensors());
        String name = guard.backendName();
        guard.capabilities().require(name, RandomCapabilities.class, "random").require(name, request.tensor().dtype());
        engine.uniform(request);
    }
}
