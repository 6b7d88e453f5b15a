package dev.attn4j.ports.loss;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.PortGuard.IntRange;

import java.util.Objects;

/**
 * The loss port as callers see it: ownership, liveness, the declared dtype and every target in
 * {@code [0, V)} or equal to the ignore index are checked before the engine's port is called.
 *
 * <pre>{@code
 * LossPort checked = new ValidatingLossPort(guard, engine.loss());
 * }</pre>
 */
public final class ValidatingLossPort implements LossPort {
    private final PortGuard guard;
    private final LossPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw port, or {@code null} when it has none (every call is then unsupported)
     */
    public ValidatingLossPort(PortGuard guard, LossPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    @Override
    public CrossEntropyResult linearCrossEntropy(CrossEntropyRequest request) {
        InvalidRequestException.check(request != null, "request", "a CrossEntropyRequest", "null");
        guard.requireUsable(request.tensors());
        String name = guard.backendName();
        guard.capabilities().require(name, LossCapabilities.class, "loss").require(name, request.hidden().dtype());
        IntRange targets = guard.intRange(request.targets());
        int v = request.vocabulary();
        InvalidRequestException.check(targets.withinOrMarker(v - 1, request.ignoreIndex()), "targets",
                "class ids in [0, " + v + ") or the ignore index " + request.ignoreIndex(),
                "values in [" + targets.min() + ", " + targets.max() + "]"
                        + (targets.negatives() == null ? "" : ", negatives " + targets.negatives()));
        return engine.linearCrossEntropy(request);
    }
}
