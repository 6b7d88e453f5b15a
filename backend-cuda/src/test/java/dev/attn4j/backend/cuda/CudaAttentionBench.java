package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Locale;
import java.util.Random;

/**
 * Attention forward/backward throughput of the cuda backend, for {@code tools/gpu-check.sh} (a program, not a
 * test: nothing here asserts a timing). FLOPs as FlashAttention counts them (docs/design.md §8): forward
 * {@code 4·B·H·S²·D}, half of it causal; backward 2.5× forward. Every op waits for its kernels, so the
 * wall clock around it is the kernels' time plus the launch and allocation overhead a caller also pays.
 *
 * <p>Prints one line per measurement: {@code RESULT impl=attn4j-cuda pass=fwd causal=1 ms=12.3 tflops=45.6};
 * for fp16/bf16 with D <= 128 a second round with the tensor-core forward reports {@code impl=attn4j-cuda-tc}.
 *
 * <pre>{@code
 * java -cp ... dev.attn4j.backend.cuda.CudaAttentionBench 4 16 4096 128 bf16 10
 * }</pre>
 */
public final class CudaAttentionBench {
    private CudaAttentionBench() {
    }

    public static void main(String[] args) {
        int b = arg(args, 0, 4);
        int h = arg(args, 1, 16);
        int s = arg(args, 2, 4096);
        int d = arg(args, 3, 128);
        DType dtype = DType.valueOf((args.length > 4 ? args[4] : "bf16").toUpperCase(Locale.ROOT));
        int iterations = arg(args, 5, 10);
        Availability availability = new CudaBackendProvider().probe();
        if (!availability.available()) {
            System.out.println("SKIP cuda unavailable: " + availability.reason());
            System.exit(2);
        }
        run(b, h, s, d, dtype, iterations, false);
        if (dtype != DType.F32 && d <= 128) {
            run(b, h, s, d, dtype, iterations, true);
        }
    }

    private static void run(int b, int h, int s, int d, DType dtype, int iterations, boolean tensorCores) {
        String impl = tensorCores ? "attn4j-cuda-tc" : "attn4j-cuda";
        BackendOptions options0 = BackendOptions.of(java.util.Map.of("tensorCores", String.valueOf(tensorCores)));
        try (Backend cuda = Backend.of(new CudaBackendProvider().open(options0))) {
            System.out.println("device: " + cuda.devices());
            Random rnd = new Random(1);
            Shape shape = Shape.of(b, s, h, d);
            DeviceTensor q = upload(cuda, rnd, shape, dtype);
            DeviceTensor k = upload(cuda, rnd, shape, dtype);
            DeviceTensor v = upload(cuda, rnd, shape, dtype);
            DeviceTensor dO = upload(cuda, rnd, shape, dtype);
            for (boolean causal : new boolean[] {false, true}) {
                AttentionOptions options = AttentionOptions.builder().causal(causal).build();
                double forwardFlops = 4.0 * b * h * (double) s * s * d * (causal ? 0.5 : 1.0);
                AttentionRequest request = new AttentionRequest(q, k, v, options);
                double fwdMs = time(iterations, () -> cuda.attention().forward(request).close());
                report(impl, "fwd", causal, fwdMs, forwardFlops);
                try (AttentionResult fwd = cuda.attention().forward(request)) {
                    var backward = new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options);
                    double bwdMs = time(iterations, () -> cuda.attention().backward(backward).close());
                    // backward has no tensor-core kernel yet: the same scalar passes either way
                    report(impl, "bwd", causal, bwdMs, 2.5 * forwardFlops);
                }
            }
        }
    }

    private static double time(int iterations, Runnable op) {
        op.run();  // warm-up: first launch, allocator
        op.run();
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            op.run();
        }
        return (System.nanoTime() - start) / 1e6 / iterations;
    }

    private static void report(String impl, String pass, boolean causal, double ms, double flops) {
        System.out.printf(Locale.ROOT, "RESULT impl=%s pass=%s causal=%d ms=%.3f tflops=%.2f%n", impl, pass,
                causal ? 1 : 0, ms, flops / (ms / 1e3) / 1e12);
    }

    private static DeviceTensor upload(Backend backend, Random rnd, Shape shape, DType dtype) {
        float[] data = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rnd.nextGaussian();
        }
        return backend.tensors().upload(data, shape, dtype);
    }

    private static int arg(String[] args, int index, int fallback) {
        return args.length > index ? Integer.parseInt(args[index]) : fallback;
    }
}
