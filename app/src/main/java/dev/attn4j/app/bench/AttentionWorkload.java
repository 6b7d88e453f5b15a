package dev.attn4j.app.bench;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;


/**
 * Attention forward, or backward (on the saved outputs of one forward), on seeded random inputs.
 *
 * <pre>{@code
 * try (Workload w = AttentionWorkload.prepare(backend, new AttentionShape(1, 1024, 1024, 8, 8, 64), DType.F32,
 *         true, false, 42)) { w.run(); }
 * }</pre>
 */
public final class AttentionWorkload implements Workload {
    private final Backend backend;
    private final AttentionShape shape;
    private final boolean causal;
    private final boolean backward;
    private final AttentionRequest forward;
    private final AttentionBackwardRequest backwardRequest;
    private final Owned owned;

    private AttentionWorkload(Backend backend, AttentionShape shape, boolean causal, boolean backward,
                              AttentionRequest forward, AttentionBackwardRequest backwardRequest, Owned owned) {
        this.backend = backend;
        this.shape = shape;
        this.causal = causal;
        this.backward = backward;
        this.forward = forward;
        this.backwardRequest = backwardRequest;
        this.owned = owned;
    }

    /** Uploads the inputs (and, for backward, runs the forward once to get {@code o} and {@code lse}). */
    public static AttentionWorkload prepare(Backend backend, AttentionShape shape, DType dtype, boolean causal,
                                            boolean backward, long seed) {
        Owned owned = new Owned();
        try {
            RandomTensors random = new RandomTensors(backend, dtype, seed);
            DeviceTensor q = owned.add(random.next(shape.queryShape()));
            DeviceTensor k = owned.add(random.next(shape.keyShape()));
            DeviceTensor v = owned.add(random.next(shape.keyShape()));
            AttentionOptions options = AttentionOptions.builder().causal(causal).build();
            AttentionRequest forward = new AttentionRequest(q, k, v, options);
            AttentionBackwardRequest backwardRequest = null;
            if (backward) {
                AttentionResult saved = owned.add(backend.attention().forward(forward));
                DeviceTensor dO = owned.add(random.next(shape.queryShape()));
                backwardRequest = new AttentionBackwardRequest(dO, q, k, v, saved.o(), saved.lse(), options);
            }
            return new AttentionWorkload(backend, shape, causal, backward, forward, backwardRequest, owned);
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void run() {
        if (backward) {
            try (AttentionGradients g = backend.attention().backward(backwardRequest)) {
                backend.tensors().download(g.dv());
            }
        } else {
            try (AttentionResult r = backend.attention().forward(forward)) {
                backend.tensors().download(r.lse());
            }
        }
    }

    @Override
    public double flops() {
        return Flops.attention(shape, causal, backward);
    }

    @Override
    public void close() {
        owned.close();
    }
}
