package dev.attn4j.benchmarks;

import dev.attn4j.domain.masks.FlashMask;
import dev.attn4j.domain.masks.FlashMasks;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
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

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Attention forward under sparse masks, to check that masked work is skipped: time relative to
 * {@code full} should track the unmasked area (1/16 for both sparse masks here). B=1, H=8, D=64, fp32.
 * <ul>
 *   <li>{@code full}: no mask;</li>
 *   <li>{@code causalDocument8}: FlashMask causal document mask, 8 equal documents;</li>
 *   <li>{@code window512}: causal sliding window of 512 keys (the window option);</li>
 *   <li>{@code flashWindow512}: the same window expressed as a FlashMask.</li>
 * </ul>
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar MaskBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MaskBenchmark {

    @Param("cpu")
    public String backend;
    @Param("8192")
    public int seq;
    @Param({"full", "causalDocument8", "window512", "flashWindow512"})
    public String mask;

    private static final int HEADS = 8;
    private static final int HEAD_DIM = 64;

    private Backend engine;
    private DeviceTensor q;
    private DeviceTensor k;
    private DeviceTensor v;
    private DeviceTensor indices;
    private AttentionOptions options;

    @Setup(Level.Trial)
    public void setUp() {
        engine = Backends.open(backend);
        Shape shape = Shape.of(1, seq, HEADS, HEAD_DIM);
        float[] host = Inputs.gaussian(shape, 5);
        q = engine.tensors().upload(host, shape, DType.F32);
        k = engine.tensors().upload(host, shape, DType.F32);
        v = engine.tensors().upload(host, shape, DType.F32);
        AttentionOptions.Builder b = AttentionOptions.builder();
        switch (mask) {
            case "full" -> { }
            case "causalDocument8" -> {
                int[] docs = new int[8];
                Arrays.fill(docs, seq / 8);
                b = withMask(b, FlashMasks.causalDocument(seq, docs));
            }
            case "window512" -> b.causal(true).window(511, 0);
            case "flashWindow512" -> b = withMask(b, FlashMasks.slidingWindow(seq, seq, 511));
            default -> throw new IllegalArgumentException("unknown mask " + mask);
        }
        options = b.build();
    }

    private AttentionOptions.Builder withMask(AttentionOptions.Builder b, FlashMask m) {
        indices = m.upload(engine.tensors());
        return b.causal(m.causal()).flashMask(indices);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    /** Reads {@code lse} so that a device backend's kernels have finished (see AttentionBenchmark). */
    @Benchmark
    public float forward() {
        try (AttentionResult r = engine.attention().forward(new AttentionRequest(q, k, v, options))) {
            return engine.tensors().download(r.lse())[0];
        }
    }
}
