package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Map;
import java.util.Objects;

/**
 * The element-wise port as callers see it: ownership, liveness and the declared dtype are checked before the
 * engine's port is called.
 *
 * <pre>{@code
 * ElementwisePort checked = new ValidatingElementwisePort(guard, engine.elementwise());
 * }</pre>
 */
public final class ValidatingElementwisePort implements ElementwisePort {
    private final PortGuard guard;
    private final ElementwisePort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw port, or {@code null} when it has none (every call is then unsupported)
     */
    public ValidatingElementwisePort(PortGuard guard, ElementwisePort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    private void check(Map<String, DeviceTensor> tensors, DType dtype) {
        guard.requireUsable(tensors);
        String name = guard.backendName();
        guard.capabilities().require(name, ElementwiseCapabilities.class, "elementwise").require(name, dtype);
    }

    @Override
    public DeviceTensor add(AddRequest request) {
        InvalidRequestException.check(request != null, "request", "an AddRequest", "null");
        check(request.tensors(), request.a().dtype());
        return engine.add(request);
    }

    @Override
    public void axpy(AxpyRequest request) {
        InvalidRequestException.check(request != null, "request", "an AxpyRequest", "null");
        check(request.tensors(), request.x().dtype());
        engine.axpy(request);
    }

    @Override
    public void scale(ScaleRequest request) {
        InvalidRequestException.check(request != null, "request", "a ScaleRequest", "null");
        check(request.tensors(), request.x().dtype());
        engine.scale(request);
    }

    @Override
    public DeviceTensor multiply(BroadcastMultiplyRequest request) {
        InvalidRequestException.check(request != null, "request", "a BroadcastMultiplyRequest", "null");
        check(request.tensors(), request.x().dtype());
        return engine.multiply(request);
    }

    @Override
    public DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest request) {
        InvalidRequestException.check(request != null, "request", "a BroadcastMultiplyBackwardRequest", "null");
        check(request.tensors(), request.dy().dtype());
        return engine.multiplyBackward(request);
    }

    @Override
    public DeviceTensor shiftTokens(TokenShiftRequest request) {
        InvalidRequestException.check(request != null, "request", "a TokenShiftRequest", "null");
        check(request.tensors(), request.x().dtype());
        return engine.shiftTokens(request);
    }
}
