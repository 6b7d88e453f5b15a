package dev.attn4j.benchmarks;

import dev.attn4j.domain.masks.FlashMask;
import dev.attn4j.domain.masks.FlashMasks;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
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

import java.util.concurrent.TimeUnit;

/**
 * The memory claim of the tiled kernels: forward + backward at S = 65536 (B=1, H=8, D=64, fp32) in a JVM
 * capped at 2 GiB of heap, with a causal mask or a FlashMask causal document mask (64 documents of 1024).
 * The tensors alone take 1 GiB (q, k, v, o, dO, dq, dk, dv at 128 MiB each); an S×S score matrix would take
 * 16 GiB per head, an S×S boolean mask 4 GiB. One shot, no warm-up.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar LongContextBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LongContextBenchmark {

    @Param("cpu")
    public String backend;
    @Param("65536")
    public int seq;
    @Param({"causal", "causalDocument"})
    public String mask;

    private static final int HEADS = 8;
    private static final int HEAD_DIM = 64;

    private Backend engine;
    private DeviceTensor q;
    private DeviceTensor k;
    private DeviceTensor v;
    private DeviceTensor dO;
    private DeviceTensor indices;
    private AttentionOptions options;

    @Setup(Level.Trial)
    public void setUp() {
        engine = Backends.open(backend);
        Shape shape = Shape.of(1, seq, HEADS, HEAD_DIM);
        float[] host = Inputs.gaussian(shape, 3);
        q = engine.tensors().upload(host, shape, DType.F32);
        k = engine.tensors().upload(host, shape, DType.F32);
        v = engine.tensors().upload(host, shape, DType.F32);
        dO = engine.tensors().upload(host, shape, DType.F32);
        AttentionOptions.Builder b = AttentionOptions.builder().causal(true);
        if (mask.equals("causalDocument")) {
            int[] docs = new int[seq / 1024];
            java.util.Arrays.fill(docs, 1024);
            FlashMask m = FlashMasks.causalDocument(seq, docs);
            indices = m.upload(engine.tensors());
            b.causal(m.causal()).flashMask(indices);
        }
        options = b.build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        Runtime rt = Runtime.getRuntime();
        System.out.printf("%n[attn4j] max heap %d MiB, used after the run %d MiB%n", rt.maxMemory() >> 20,
                (rt.totalMemory() - rt.freeMemory()) >> 20);
        engine.close();
    }

    @Benchmark
    public float forwardAndBackward() {
        try (AttentionResult fwd = engine.attention().forward(new AttentionRequest(q, k, v, options));
             AttentionGradients g = engine.attention().backward(
                     new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options))) {
            return engine.tensors().download(g.dq())[0];
        }
    }
}
