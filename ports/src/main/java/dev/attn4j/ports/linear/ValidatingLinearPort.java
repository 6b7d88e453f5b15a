package dev.attn4j.ports.linear;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * The linear port as callers see it: ownership, liveness and the declared dtype are checked before the
 * engine's port is called (the request records checked shapes and scalars).
 *
 * <pre>{@code
 * LinearPort checked = new ValidatingLinearPort(guard, engine.linear());
 * }</pre>
 */
public final class ValidatingLinearPort implements LinearPort {
    private final PortGuard guard;
    private final LinearPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw port, or {@code null} when it has none (every call is then unsupported)
     */
    public ValidatingLinearPort(PortGuard guard, LinearPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    private void check(DType dtype) {
        String name = guard.backendName();
        guard.capabilities().require(name, LinearCapabilities.class, "linear").require(name, dtype);
    }

    @Override
    public DeviceTensor forward(LinearRequest request) {
        InvalidRequestException.check(request != null, "request", "a LinearRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.x().dtype());
        return engine.forward(request);
    }

    @Override
    public DeviceTensor backward(LinearBackwardRequest request) {
        InvalidRequestException.check(request != null, "request", "a LinearBackwardRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.dy().dtype());
        return engine.backward(request);
    }

    @Override
    public void matmul(MatmulRequest request) {
        InvalidRequestException.check(request != null, "request", "a MatmulRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.c().dtype());
        engine.matmul(request);
    }
}
