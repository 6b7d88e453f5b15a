package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
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

import java.util.concurrent.TimeUnit;

/**
 * A backend's fp32 GEMM through the linear port, {@code C = op(A)·op(B)} with {@code C} {@code M×N} and {@code K}
 * reduction steps ({@code matmul}, beta = 0), as a model calls it: validation, the facade's checks and the engine's
 * GEMM. FLOPs {@code 2·M·N·K} (docs/design.md §14); GFLOP/s = FLOPs / score. {@code form} names the transposes as
 * BLAS does: {@code NT} is a linear layer's forward {@code x·Wᵀ}, {@code NN} its input gradient {@code dy·W},
 * {@code TN} its weight gradient {@code dyᵀ·x}. The backend uses all its threads (the cpu backend: every available
 * processor). {@code benchmarks/gemm-vs-openblas.sh} runs it against OpenBLAS sgemm on the same shapes.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar LinearBenchmark \
 *      -p shape=4096x2048x512 -p form=NT
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx8g"})
public class LinearBenchmark {

    @Param("cpu")
    public String backend;
    /** {@code MxNxK}: C is M×N, K the reduction. */
    @Param({"2048x2048x2048", "4096x2048x512", "4096x512x2048", "4096x20000x512"})
    public String shape;
    /** Transposes of A and B, {@code N} or {@code T} each. */
    @Param("NN")
    public String form;

    private Backend engine;
    private MatmulRequest request;

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        int m = Integer.parseInt(dims[0]);
        int n = Integer.parseInt(dims[1]);
        int k = Integer.parseInt(dims[2]);
        if (!form.matches("[NT]{2}")) {
            throw new IllegalArgumentException("form must be NN, NT, TN or TT, got " + form);
        }
        boolean ta = form.charAt(0) == 'T';
        boolean tb = form.charAt(1) == 'T';
        engine = Backends.open(backend);
        DeviceTensor a = Inputs.upload(engine, ta ? Shape.of(k, m) : Shape.of(m, k), 1);
        DeviceTensor b = Inputs.upload(engine, tb ? Shape.of(n, k) : Shape.of(k, n), 2);
        DeviceTensor c = engine.tensors().zeros(Shape.of(m, n), DType.F32);
        request = new MatmulRequest(a, ta, b, tb, c, 1f, 0f);
        System.out.printf("%n[attn4j] %s %s on %s: FLOPs per call %.4e%n", shape, form, engine.name(), 2.0 * m * n * k);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    @Benchmark
    public void matmul() {
        engine.linear().matmul(request);
    }
}
