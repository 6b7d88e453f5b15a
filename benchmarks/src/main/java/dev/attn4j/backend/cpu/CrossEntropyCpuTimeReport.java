package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * The cpu backend's fused linear cross-entropy against its three GEMMs alone on one core, as thread CPU time
 * (robust where wall time is not, on a VM shared with other jobs): the engine runs with one worker, the calling
 * thread, so its CPU time is all the work. Prints, per chunk budget, the fused call's least CPU time of a few
 * calls, the GEMMs' (logits {@code h·Wᵀ}, {@code dh = z·W}, {@code dW += zᵀ·h}, each also alone), their ratio, and
 * the memory the loss port kept (one chunk's logits, the ranges' partial dh and statistics, the workers' blocks)
 * and its workers' GEMM packing memory (used only for a width d that is not a multiple of 16).
 *
 * <p>In the backend's package, like {@link GemmBenchmark}, to build {@link CpuLoss} with a chosen chunk budget and
 * read what it keeps.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *      dev.attn4j.backend.cpu.CrossEntropyCpuTimeReport [N V d [chunkFloats...]]
 * </pre>
 */
public final class CrossEntropyCpuTimeReport {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    private static final int REPEATS = 3;

    private CrossEntropyCpuTimeReport() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        int v = args.length > 1 ? Integer.parseInt(args[1]) : 20000;
        int d = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int[] budgets = args.length > 3 ? java.util.Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt)
                .toArray() : new int[] {CpuLoss.CHUNK_FLOATS};
        CpuEngine engine = new CpuEngine(1);
        try (Backend cpu = Backend.of(engine); WorkerPool pool = new WorkerPool(1)) {
            Random rnd = new Random(1);
            DeviceTensor h = upload(cpu, rnd, Shape.of(n, d), 1);
            DeviceTensor w = upload(cpu, rnd, Shape.of(v, d), (float) (1 / Math.sqrt(d)));
            DeviceTensor dW = cpu.tensors().zeros(Shape.of(v, d), DType.F32);
            int[] t = new int[n];
            for (int i = 0; i < n; i++) {
                t[i] = rnd.nextInt(v);
            }
            DeviceTensor targets = cpu.tensors().uploadInts(t, Shape.of(n));
            CrossEntropyRequest fused = CrossEntropyRequest.training(h, w, null, targets, 1f / n, dW, null);
            DeviceTensor z = cpu.tensors().zeros(Shape.of(n, v), DType.F32);
            DeviceTensor dh = cpu.tensors().zeros(Shape.of(n, d), DType.F32);
            MatmulRequest logits = new MatmulRequest(h, false, w, true, z, 1f, 0f);
            MatmulRequest inputGrad = new MatmulRequest(z, false, w, false, dh, 1f, 0f);
            MatmulRequest weightGrad = new MatmulRequest(z, true, h, false, dW, 1f, 1f);
            System.out.printf("cpu backend, 1 thread (%s), N=%d V=%d d=%d; least thread CPU time of %d calls%n",
                    cpu.devices().get(0), n, v, d, REPEATS);
            double l = least(() -> cpu.linear().matmul(logits));
            double g = least(() -> cpu.linear().matmul(inputGrad));
            double dw = least(() -> cpu.linear().matmul(weightGrad));
            double gemms = l + g + dw;
            System.out.printf("  GEMMs alone: logits NT %.0f ms + dh NN %.0f ms + dW TN %.0f ms = %.0f ms (%.1f GFLOP/s)%n",
                    l, g, dw, gemms, 6.0 * n * v * d / gemms / 1e6);
            for (int budget : budgets) {
                CpuLoss loss = new CpuLoss(engine, pool, TileMath.get(), LossKernels.get(), budget, CpuLoss.MIN_ROWS);
                double f = least(() -> loss.linearCrossEntropy(fused).close());
                System.out.printf("  fused, chunk budget %d floats (%d rows): %.0f ms (%.1f GFLOP/s), %.3f x the "
                                + "GEMMs; kept %.1f MiB, GEMM packing %.1f MiB%n", budget, loss.chunkRows(v, n), f,
                        6.0 * n * v * d / f / 1e6, f / gemms, loss.retainedBytes() / 1048576.0,
                        loss.gemmFloats() * 4 / 1048576.0);
            }
        }
    }

    private static DeviceTensor upload(Backend cpu, Random rnd, Shape shape, float scale) {
        float[] x = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * scale;
        }
        return cpu.tensors().upload(x, shape, DType.F32);
    }

    /** The least thread CPU time of {@code op} in ms, after one untimed call. */
    private static double least(Runnable op) {
        op.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < REPEATS; i++) {
            long t0 = MX.getCurrentThreadCpuTime();
            op.run();
            best = Math.min(best, MX.getCurrentThreadCpuTime() - t0);
        }
        return best / 1e6;
    }
}
