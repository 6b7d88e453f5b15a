package dev.attn4j.app.bench;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.SplittableRandom;

/**
 * The fused linear cross-entropy of {@code tokens} rows of width {@code d} over a vocabulary {@code v}, with every
 * gradient ({@code dh} returned, {@code dW} accumulated), or its three GEMMs alone through the linear port, the
 * yardstick of the fused op: the logits {@code z [N, V] = h·Wᵀ} ({@code NT}), {@code dh = z·W} ({@code NN}) and
 * {@code dW += zᵀ·h} ({@code TN}), with the whole {@code [N, V]} logits in memory and no softmax. Both count the
 * GEMMs' FLOPs, {@code 6·N·V·d}, so their GFLOP/s compare directly.
 *
 * <pre>{@code
 * try (Workload fused = CrossEntropyWorkload.prepare(backend, 4096, 20000, 512, false, DType.F32, 42);
 *      Workload gemms = CrossEntropyWorkload.prepare(backend, 4096, 20000, 512, true, DType.F32, 42)) { ... }
 * }</pre>
 */
public final class CrossEntropyWorkload implements Workload {
    private final Runnable body;
    private final Owned owned;
    private final double flops;

    private CrossEntropyWorkload(Runnable body, Owned owned, double flops) {
        this.body = body;
        this.owned = owned;
        this.flops = flops;
    }

    /**
     * Uploads {@code h [tokens, d]}, {@code W [v, d]}, targets in {@code [0, v)} (every row counted), the
     * {@code dW} accumulator, and for {@code gemmsOnly} the {@code [tokens, v]} logits and {@code dh}.
     */
    public static CrossEntropyWorkload prepare(Backend backend, int tokens, int v, int d, boolean gemmsOnly, DType dtype,
                                               long seed) {
        Owned owned = new Owned();
        try {
            RandomTensors random = new RandomTensors(backend, dtype, seed);
            Completion completion = Completion.on(backend, owned);
            DeviceTensor h = owned.add(random.next(Shape.of(tokens, d)));
            DeviceTensor w = owned.add(random.next(Shape.of(v, d)));
            DeviceTensor dW = owned.add(backend.tensors().zeros(Shape.of(v, d), dtype));
            Runnable body;
            if (gemmsOnly) {
                DeviceTensor z = owned.add(backend.tensors().zeros(Shape.of(tokens, v), dtype));
                DeviceTensor dh = owned.add(backend.tensors().zeros(Shape.of(tokens, d), dtype));
                MatmulRequest logits = new MatmulRequest(h, false, w, true, z, 1f, 0f);
                MatmulRequest inputGrad = new MatmulRequest(z, false, w, false, dh, 1f, 0f);
                MatmulRequest weightGrad = new MatmulRequest(z, true, h, false, dW, 1f, 1f);
                body = () -> {
                    backend.linear().matmul(logits);
                    backend.linear().matmul(inputGrad);
                    backend.linear().matmul(weightGrad);
                    completion.await(dW);
                };
            } else {
                SplittableRandom ids = new SplittableRandom(seed);
                int[] t = new int[tokens];
                for (int i = 0; i < tokens; i++) {
                    t[i] = ids.nextInt(v);
                }
                DeviceTensor targets = owned.add(backend.tensors().uploadInts(t, Shape.of(tokens)));
                CrossEntropyRequest request = CrossEntropyRequest.training(h, w, null, targets, 1f / tokens, dW, null);
                body = () -> {
                    try (CrossEntropyResult r = backend.loss().linearCrossEntropy(request)) {
                        backend.tensors().download(r.lossSum());
                    }
                };
            }
            return new CrossEntropyWorkload(body, owned, Flops.crossEntropy(tokens, v, d));
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void run() {
        body.run();
    }

    @Override
    public double flops() {
        return flops;
    }

    @Override
    public void close() {
        owned.close();
    }
}
