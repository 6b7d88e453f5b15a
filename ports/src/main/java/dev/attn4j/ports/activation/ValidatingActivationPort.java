package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * The activation port as callers see it: ownership, liveness, declared dtypes and functions are checked before
 * the engine's port is called.
 *
 * <pre>{@code
 * ActivationPort checked = new ValidatingActivationPort(guard, engine.activation());
 * }</pre>
 */
public final class ValidatingActivationPort implements ActivationPort {
    private final PortGuard guard;
    private final ActivationPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw port, or {@code null} when it has none (every call is then unsupported)
     */
    public ValidatingActivationPort(PortGuard guard, ActivationPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    private void check(Activation f, DType dtype) {
        String name = guard.backendName();
        ActivationCapabilities caps = guard.capabilities().require(name, ActivationCapabilities.class, "activation");
        caps.require(name, dtype);
        caps.require(name, f);
    }

    @Override
    public DeviceTensor forward(ActivationRequest request) {
        InvalidRequestException.check(request != null, "request", "an ActivationRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.function(), request.x().dtype());
        return engine.forward(request);
    }

    @Override
    public DeviceTensor backward(ActivationBackwardRequest request) {
        InvalidRequestException.check(request != null, "request", "an ActivationBackwardRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.forward().function(), request.dy().dtype());
        return engine.backward(request);
    }

    @Override
    public DeviceTensor glu(GluRequest request) {
        InvalidRequestException.check(request != null, "request", "a GluRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.gate(), request.x().dtype());
        return engine.glu(request);
    }

    @Override
    public DeviceTensor gluBackward(GluBackwardRequest request) {
        InvalidRequestException.check(request != null, "request", "a GluBackwardRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.forward().gate(), request.dy().dtype());
        return engine.gluBackward(request);
    }
}
