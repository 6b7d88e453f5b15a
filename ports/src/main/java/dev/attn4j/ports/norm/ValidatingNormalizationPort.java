package dev.attn4j.ports.norm;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;

import java.util.Objects;

/**
 * The normalisation port as callers see it: ownership, liveness, declared dtypes and norm features are
 * checked before the engine's port is called.
 *
 * <pre>{@code
 * NormalizationPort checked = new ValidatingNormalizationPort(guard, engine.normalization());
 * }</pre>
 */
public final class ValidatingNormalizationPort implements NormalizationPort {
    private final PortGuard guard;
    private final NormalizationPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw normalisation port
     */
    public ValidatingNormalizationPort(PortGuard guard, NormalizationPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = engine;
    }

    @Override
    public NormResult forward(NormRequest request) {
        InvalidRequestException.check(request != null, "request", "a NormRequest", "null");
        guard.requireUsable(request.tensors());
        check(request);
        return engine.forward(request);
    }

    @Override
    public NormGradients backward(NormBackwardRequest request) {
        InvalidRequestException.check(request != null, "request", "a NormBackwardRequest", "null");
        guard.requireUsable(request.tensors());
        check(request.forward());
        return engine.backward(request);
    }

    private void check(NormRequest r) {
        String name = guard.backendName();
        NormCapabilities caps = guard.capabilities().require(name, NormCapabilities.class, "normalization");
        caps.require(name, r.input().dtype());
        caps.require(name, r.gamma().dtype());
        caps.require(name, r.kind() == NormKind.LAYER_NORM ? NormFeature.LAYER_NORM : NormFeature.RMS_NORM);
        if (r.residual() != null) {
            caps.require(name, NormFeature.FUSED_RESIDUAL);
        }
    }
}
