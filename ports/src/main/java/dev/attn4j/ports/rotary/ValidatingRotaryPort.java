package dev.attn4j.ports.rotary;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * The rotary port as callers see it: ownership, liveness and the declared dtype are checked before the
 * engine's port is called.
 *
 * <pre>{@code
 * RotaryPort checked = new ValidatingRotaryPort(guard, engine.rotary());
 * }</pre>
 */
public final class ValidatingRotaryPort implements RotaryPort {
    private final PortGuard guard;
    private final RotaryPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw rotary port
     */
    public ValidatingRotaryPort(PortGuard guard, RotaryPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    @Override
    public DeviceTensor apply(RotaryRequest request) {
        InvalidRequestException.check(request != null, "request", "a RotaryRequest", "null");
        guard.requireUsable(request.tensors());
        String name = guard.backendName();
        guard.capabilities().require(name, RotaryCapabilities.class, "rotary").require(name, request.x().dtype());
        return engine.apply(request);
    }
}
