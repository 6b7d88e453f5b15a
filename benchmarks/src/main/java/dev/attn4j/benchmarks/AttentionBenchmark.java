package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
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
 * Attention forward and backward, fp32, on one backend (all its threads). FLOPs as docs/design.md §8:
 * forward {@code 4·B·H·Sq·Sk·D} (half when causal), backward 2.5× forward; GFLOP/s = FLOPs / score.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar AttentionBenchmark \
 *      -p backend=cpu -p seq=2048 -p causal=false,true
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBenchmark {

    @Param("cpu")
    public String backend;
    @Param("1")
    public int batch;
    @Param("8")
    public int heads;
    @Param("8")
    public int kvHeads;
    @Param("2048")
    public int seq;
    @Param("64")
    public int headDim;
    @Param({"false", "true"})
    public boolean causal;

    private Backend engine;
    private DeviceTensor q;
    private DeviceTensor k;
    private DeviceTensor v;
    private DeviceTensor dO;
    private AttentionOptions options;
    private AttentionResult saved;

    @Setup(Level.Trial)
    public void setUp() {
        engine = Backends.open(backend);
        q = Inputs.upload(engine, Shape.of(batch, seq, heads, headDim), 1);
        k = Inputs.upload(engine, Shape.of(batch, seq, kvHeads, headDim), 2);
        v = Inputs.upload(engine, Shape.of(batch, seq, kvHeads, headDim), 3);
        dO = Inputs.upload(engine, Shape.of(batch, seq, heads, headDim), 4);
        options = AttentionOptions.builder().causal(causal).build();
        saved = engine.attention().forward(new AttentionRequest(q, k, v, options));
        System.out.printf("%n[attn4j] forward FLOPs per call: %.4e (backward: 2.5x)%n", forwardFlops());
    }

    /** docs/design.md §8's count. */
    double forwardFlops() {
        return 4.0 * batch * heads * seq * (double) seq * headDim / (causal ? 2 : 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    /**
     * Device backends may return before their kernels finish; downloading a result waits for them (an
     * in-order queue finishes everything before the read). The small {@code lse} is read for the forward;
     * the backward reads {@code dq}, which costs a copy of about 1% of the time on the cpu backend.
     */
    @Benchmark
    public float forward() {
        try (AttentionResult r = engine.attention().forward(new AttentionRequest(q, k, v, options))) {
            return engine.tensors().download(r.lse())[0];
        }
    }

    @Benchmark
    public float backward() {
        try (AttentionGradients g = engine.attention().backward(
                new AttentionBackwardRequest(dO, q, k, v, saved.o(), saved.lse(), options))) {
            return engine.tensors().download(g.dq())[0];
        }
    }
}
