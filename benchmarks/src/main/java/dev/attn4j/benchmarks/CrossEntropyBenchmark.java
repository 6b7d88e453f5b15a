package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The fused linear cross-entropy with every gradient ({@code dh} returned, {@code dW} accumulated, all rows
 * counted) against its three GEMMs alone through the linear port, in one run: {@code fused} is
 * {@code loss().linearCrossEntropy}; {@code gemms} the logits {@code z = h·Wᵀ} ({@code NT}), {@code dh = z·W}
 * ({@code NN}) and {@code dW += zᵀ·h} ({@code TN}) with the whole {@code [N, V]} logits in memory. Both do
 * {@code 6·N·V·d} FLOPs of GEMM; the fused op adds the softmax and works in chunks.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar CrossEntropyBenchmark \
 *      -p tokens=4096 -p vocab=20000 -p dim=512
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 5, time = 4)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx8g"})
public class CrossEntropyBenchmark {

    @Param("cpu")
    public String backend;
    @Param("4096")
    public int tokens;
    @Param("20000")
    public int vocab;
    @Param("512")
    public int dim;

    private Backend engine;
    private CrossEntropyRequest fused;
    private MatmulRequest logits;
    private MatmulRequest inputGrad;
    private MatmulRequest weightGrad;

    @Setup(Level.Trial)
    public void setUp() {
        engine = Backends.open(backend);
        DeviceTensor h = Inputs.upload(engine, Shape.of(tokens, dim), 1);
        DeviceTensor w = Inputs.upload(engine, Shape.of(vocab, dim), 2);
        DeviceTensor dW = engine.tensors().zeros(Shape.of(vocab, dim), DType.F32);
        int[] t = new int[tokens];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < tokens; i++) {
            t[i] = rnd.nextInt(vocab);
        }
        DeviceTensor targets = engine.tensors().uploadInts(t, Shape.of(tokens));
        fused = CrossEntropyRequest.training(h, w, null, targets, 1f / tokens, dW, null);
        DeviceTensor z = engine.tensors().zeros(Shape.of(tokens, vocab), DType.F32);
        DeviceTensor dh = engine.tensors().zeros(Shape.of(tokens, dim), DType.F32);
        logits = new MatmulRequest(h, false, w, true, z, 1f, 0f);
        inputGrad = new MatmulRequest(z, false, w, false, dh, 1f, 0f);
        weightGrad = new MatmulRequest(z, true, h, false, dW, 1f, 1f);
        System.out.printf("%n[attn4j] N=%d V=%d d=%d on %s: GEMM FLOPs per call %.4e%n", tokens, vocab, dim,
                engine.name(), 6.0 * tokens * vocab * dim);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    @Benchmark
    public float fused() {
        try (CrossEntropyResult r = engine.loss().linearCrossEntropy(fused)) {
            return engine.tensors().download(r.lossSum())[0];
        }
    }

    @Benchmark
    public void gemms() {
        engine.linear().matmul(logits);
        engine.linear().matmul(inputGrad);
        engine.linear().matmul(weightGrad);
    }
}
