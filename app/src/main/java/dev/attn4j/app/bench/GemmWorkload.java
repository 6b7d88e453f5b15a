package dev.attn4j.app.bench;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * One matrix product {@code C = op(A)·op(B)} through the linear port's {@code matmul}, so it runs on any backend that
 * declares the port: {@code C} is {@code M×N}, {@code K} the reduction, {@code form} the transposes as BLAS names
 * them ({@code NT} is a linear layer's forward {@code x·Wᵀ}, {@code NN} its input gradient {@code dy·W}, {@code TN}
 * its weight gradient {@code dyᵀ·x}). FLOPs {@code 2·M·N·K} (docs/design.md §14).
 *
 * <pre>{@code
 * try (Workload w = GemmWorkload.prepare(backend, 4096, 2048, 512, "NT", DType.F32, 42)) { w.run(); }
 * }</pre>
 */
public final class GemmWorkload implements Workload {
    private final Backend backend;
    private final MatmulRequest request;
    private final Completion completion;
    private final Owned owned;
    private final double flops;

    private GemmWorkload(Backend backend, MatmulRequest request, Completion completion, Owned owned, double flops) {
        this.backend = backend;
        this.request = request;
        this.completion = completion;
        this.owned = owned;
        this.flops = flops;
    }

    /** Uploads {@code A} and {@code B} (stored transposed where {@code form} says so) and allocates {@code C}. */
    public static GemmWorkload prepare(Backend backend, int m, int n, int k, String form, DType dtype, long seed) {
        boolean ta = form.charAt(0) == 'T';
        boolean tb = form.charAt(1) == 'T';
        Owned owned = new Owned();
        try {
            RandomTensors random = new RandomTensors(backend, dtype, seed);
            DeviceTensor a = owned.add(random.next(ta ? Shape.of(k, m) : Shape.of(m, k)));
            DeviceTensor b = owned.add(random.next(tb ? Shape.of(n, k) : Shape.of(k, n)));
            DeviceTensor c = owned.add(backend.tensors().zeros(Shape.of(m, n), dtype));
            MatmulRequest request = new MatmulRequest(a, ta, b, tb, c, 1f, 0f);
            return new GemmWorkload(backend, request, Completion.on(backend, owned), owned, Flops.gemm(m, n, k));
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void run() {
        backend.linear().matmul(request);
        completion.await(request.c());
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
