package dev.attn4j.backend.cpu;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The cpu backend's fp32 GEMM, {@code C = op(A)·op(B)} with {@code C} {@code M×N}, {@code k} reduction steps,
 * on the engine's worker pool (all threads unless {@code threads} says otherwise). FLOPs {@code 2·M·N·K}
 * (DESIGN §14); GFLOP/s = FLOPs / score. {@code form} names the transposes as BLAS does: {@code NT} is a
 * linear layer's forward {@code x·Wᵀ}, {@code NN} its input gradient {@code dy·W}, {@code TN} its weight
 * gradient {@code dyᵀ·x}.
 *
 * <p>This class lives in the backend's package, on the class path of the shaded benchmark jar, because the
 * GEMM is engine-internal ({@link CpuGemm} is package-private and its package is not exported): a split
 * package on the class path reaches it without adding public API to the backend for a benchmark. When the
 * linear port lands, a port-level benchmark can replace it.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar GemmBenchmark \
 *      -p shape=2048x2048x2048 -p form=NN
 * </pre>
 * {@code benchmarks/gemm-vs-openblas.sh} runs it against OpenBLAS sgemm on the same shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class GemmBenchmark {

    /** {@code MxNxK}: C is M×N, K the reduction. */
    @Param({"2048x2048x2048", "4096x2048x512", "4096x512x2048", "4096x20000x512"})
    public String shape;
    /** Transposes of A and B, {@code N} or {@code T} each. */
    @Param("NN")
    public String form;
    /** Worker threads; 0 means all available processors (the engine's default). */
    @Param("0")
    public int threads;

    private WorkerPool pool;
    private CpuGemm gemm;
    private boolean transA;
    private boolean transB;
    private int m;
    private int n;
    private int k;
    private float[] a;
    private float[] b;
    private float[] c;

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        m = Integer.parseInt(dims[0]);
        n = Integer.parseInt(dims[1]);
        k = Integer.parseInt(dims[2]);
        if (!form.matches("[NT]{2}")) {
            throw new IllegalArgumentException("form must be NN, NT, TN or TT, got " + form);
        }
        transA = form.charAt(0) == 'T';
        transB = form.charAt(1) == 'T';
        pool = new WorkerPool(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
        gemm = new CpuGemm(pool, TileMath.get());
        Random rnd = new Random(1);
        a = fill(rnd, Math.multiplyExact(m, k));
        b = fill(rnd, Math.multiplyExact(k, n));
        c = new float[Math.multiplyExact(m, n)];
        System.out.printf("%n[attn4j] %s %s, %d threads, %s: FLOPs per call %.4e%n", shape, form, pool.threads(),
                Simd.description(), 2.0 * m * n * k);
    }

    private static float[] fill(Random rnd, int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public float gemm() {
        // Stored A is m×k (k×m when transposed), B is k×n (n×k), both dense.
        gemm.gemm(transA, transB, m, n, k, 1f, a, 0, transA ? m : k, b, 0, transB ? k : n, 0f, c, 0, n);
        return c[0];
    }
}
