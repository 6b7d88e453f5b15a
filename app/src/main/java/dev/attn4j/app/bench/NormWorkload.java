package dev.attn4j.app.bench;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;


/**
 * LayerNorm (with bias) or RMSNorm of {@code rows × hidden}, forward or backward, on seeded random inputs.
 * Normalisation is memory-bound and docs/design.md §8 fixes no FLOP count for it, so {@link #flops()} is NaN.
 *
 * <pre>{@code
 * try (Workload w = NormWorkload.prepare(backend, NormKind.RMS_NORM, 4096, 1024, DType.F32, false, 42)) { w.run(); }
 * }</pre>
 */
public final class NormWorkload implements Workload {
    private static final double EPS = 1e-5;

    private final Backend backend;
    private final NormRequest forward;
    private final NormBackwardRequest backwardRequest;
    private final Owned owned;

    private NormWorkload(Backend backend, NormRequest forward, NormBackwardRequest backwardRequest, Owned owned) {
        this.backend = backend;
        this.forward = forward;
        this.backwardRequest = backwardRequest;
        this.owned = owned;
    }

    /** Uploads the inputs (and, for backward, runs the forward once to save its statistics). */
    public static NormWorkload prepare(Backend backend, NormKind kind, int rows, int hidden, DType dtype, boolean backward,
                                       long seed) {
        Owned owned = new Owned();
        try {
            RandomTensors random = new RandomTensors(backend, dtype, seed);
            DeviceTensor x = owned.add(random.next(Shape.of(rows, hidden)));
            DeviceTensor gamma = owned.add(random.gains(hidden));
            NormRequest forward;
            if (kind == NormKind.LAYER_NORM) {
                DeviceTensor beta = owned.add(random.next(Shape.of(hidden)));
                forward = NormRequest.layerNorm(x, gamma, beta, EPS);
            } else {
                forward = NormRequest.rmsNorm(x, gamma, EPS);
            }
            NormBackwardRequest backwardRequest = null;
            if (backward) {
                NormResult saved = owned.add(backend.normalization().forward(forward));
                DeviceTensor dy = owned.add(random.next(Shape.of(rows, hidden)));
                backwardRequest = new NormBackwardRequest(forward, saved, dy, null);
            }
            return new NormWorkload(backend, forward, backwardRequest, owned);
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void run() {
        if (backwardRequest != null) {
            try (NormGradients g = backend.normalization().backward(backwardRequest)) {
                backend.tensors().download(g.dGamma());
            }
        } else {
            try (NormResult r = backend.normalization().forward(forward)) {
                backend.tensors().download(r.rstd());
            }
        }
    }

    @Override
    public double flops() {
        return Double.NaN;
    }

    @Override
    public void close() {
        owned.close();
    }
}
