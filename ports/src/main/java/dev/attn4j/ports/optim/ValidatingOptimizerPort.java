package dev.attn4j.ports.optim;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.tensor.DType;

import java.util.Objects;

/**
 * The optimizer port as callers see it: ownership, liveness and declared dtypes are checked before the
 * engine's port is called.
 *
 * <pre>{@code
 * OptimizerPort checked = new ValidatingOptimizerPort(guard, engine.optimizer());
 * }</pre>
 */
public final class ValidatingOptimizerPort implements OptimizerPort {
    private final PortGuard guard;
    private final OptimizerPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw port, or {@code null} when it has none (every call is then unsupported)
     */
    public ValidatingOptimizerPort(PortGuard guard, OptimizerPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    private void check(DType dtype) {
        String name = guard.backendName();
        guard.capabilities().require(name, OptimizerCapabilities.class, "optimizer").require(name, dtype);
    }

    @Override
    public void adamW(AdamWRequest request) {
        InvalidRequestException.check(request != null, "request", "an AdamWRequest", "null");
        guard.requireUsable(request.tensors());
        check(DType.F32);
        engine.adamW(request);
    }

    @Override
    public void sumOfSquares(SumOfSquaresRequest request) {
        InvalidRequestException.check(request != null, "request", "a SumOfSquaresRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.x().dtype());
        engine.sumOfSquares(request);
    }
}
