package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Locale;

/**
 * GEMM throughput of the cuda backend's linear port, for {@code tools/gpu-check.sh} beside PyTorch's
 * {@code torch.matmul} and {@code F.linear} on the same shapes ({@code src/test/python/gemm_bench.py}), which call
 * cuBLAS/cuBLASLt themselves: the ratio is attn4j's overhead over cuBLAS's own rate (a program, not a test).
 * {@code matmul} writes into an existing C ({@code beta = 0}); {@code linear} allocates its output each call, as a
 * model's forward does. Every op waits for its GEMM, so the wall clock includes the synchronisation a caller pays.
 *
 * <p>Prints {@code RESULT impl=attn4j-cuda op=matmul dtype=bf16 m=8192 n=8192 k=8192 ms=1.234 tflops=890.12}.
 *
 * <pre>{@code
 * java -cp ... dev.attn4j.backend.cuda.CudaGemmBench 20
 * }</pre>
 */
public final class CudaGemmBench {
    /** {dtype, M, N, K}: square products at sizes where cuBLAS runs near its peak, and a transformer's projections. */
    static final Object[][] SHAPES = {
            {DType.BF16, 8192, 8192, 8192},
            {DType.F16, 8192, 8192, 8192},
            {DType.F32, 4096, 4096, 4096},
            {DType.BF16, 16384, 4096, 4096},
            {DType.BF16, 16384, 11008, 4096},
    };

    private CudaGemmBench() {
    }

    public static void main(String[] args) {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Availability availability = new CudaBackendProvider().probe();
        if (!availability.available()) {
            System.out.println("SKIP cuda unavailable: " + availability.reason());
            System.exit(2);
        }
        try (Backend cuda = Backend.of(new CudaBackendProvider().open(BackendOptions.none()))) {
            System.out.println("device: " + cuda.devices());
            for (Object[] s : SHAPES) {
                DType t = (DType) s[0];
                int m = (int) s[1];
                int n = (int) s[2];
                int k = (int) s[3];
                double flops = 2.0 * m * n * k;
                try (DeviceTensor a = cuda.tensors().zeros(Shape.of(m, k), t);
                     DeviceTensor w = cuda.tensors().zeros(Shape.of(n, k), t);
                     DeviceTensor c = cuda.tensors().zeros(Shape.of(m, n), t)) {
                    cuda.tensors().fill(a, 0.01f);
                    cuda.tensors().fill(w, 0.02f);
                    // C = A·Wᵀ: the same product a linear layer with W [out, in] runs
                    MatmulRequest mm = new MatmulRequest(a, false, w, true, c, 1f, 0f);
                    report("matmul", t, m, n, k, time(iterations, () -> cuda.linear().matmul(mm)), flops);
                    LinearRequest linear = LinearRequest.of(a, w, null);
                    report("linear", t, m, n, k, time(iterations, () -> cuda.linear().forward(linear).close()), flops);
                }
            }
        }
    }

    private static double time(int iterations, Runnable op) {
        op.run();  // warm-up: cuBLAS's heuristics and workspace, the allocator
        op.run();
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            op.run();
        }
        return (System.nanoTime() - start) / 1e6 / iterations;
    }

    private static void report(String op, DType t, int m, int n, int k, double ms, double flops) {
        System.out.printf(Locale.ROOT, "RESULT impl=attn4j-cuda op=%s dtype=%s m=%d n=%d k=%d ms=%.3f tflops=%.2f%n", op,
                t.name().toLowerCase(Locale.ROOT), m, n, k, ms, flops / (ms / 1e3) / 1e12);
    }
}
