package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;
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
 * Memory-bound ops of one backend on {@code n} floats, against copying the same bytes in the same run: a plain
 * single-threaded {@code System.arraycopy} of host arrays, and the backend's own (multi-threaded) tensor copy.
 * Bytes moved per call ({@code 4n} per array read or written): {@code arraycopy}, {@code copy} and
 * {@code geluForward}, {@code siluForward} {@code 8n}; {@code axpy} and {@code add} {@code 12n}. GB/s = bytes / score.
 * {@code add} and the activations return a new tensor each call, so their time includes allocating it (the JVM
 * clears a new array: another {@code 4n} written that the figure does not count).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar ElementwiseBenchmark -p n=16777216
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ElementwiseBenchmark {

    @Param("cpu")
    public String backend;
    @Param("16777216")
    public int n;

    private Backend engine;
    private float[] hostSrc;
    private float[] hostDst;
    private DeviceTensor x;
    private DeviceTensor y;
    private DeviceTensor z;
    private boolean views;

    @Setup(Level.Trial)
    public void setUp() {
        engine = Backends.open(backend);
        Shape shape = Shape.of(n);
        hostSrc = Inputs.gaussian(shape, 1);
        hostDst = new float[n];
        x = Inputs.upload(engine, shape, 2);
        y = Inputs.upload(engine, shape, 3);
        z = Inputs.upload(engine, shape, 4);
        views = engine.capabilities().port(TensorCapabilities.class).map(c -> c.supports(TensorFeature.VIEW))
                .orElse(false);
        System.out.printf("%n[attn4j] bytes per call: copy %d, axpy/add %d, activation %d%n", 8L * n, 12L * n, 8L * n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    /** Waits for a device backend's kernels by reading one element (a view, where declared) of the result. */
    private float sync(DeviceTensor t) {
        if (!views) {
            return engine.tensors().download(t)[0];
        }
        try (DeviceTensor first = engine.tensors().view(t, 0, Shape.of(1))) {
            return engine.tensors().download(first)[0];
        }
    }

    @Benchmark
    public float arraycopy() {
        System.arraycopy(hostSrc, 0, hostDst, 0, n);
        return hostDst[n - 1];
    }

    @Benchmark
    public float copy() {
        engine.tensors().copy(CopyRequest.into(x, z, 0));
        return sync(z);
    }

    @Benchmark
    public float axpy() {
        engine.elementwise().axpy(new AxpyRequest(1e-3f, x, y));
        return sync(y);
    }

    @Benchmark
    public float add() {
        try (DeviceTensor out = engine.elementwise().add(AddRequest.of(x, y))) {
            return sync(out);
        }
    }

    @Benchmark
    public float geluForward() {
        try (DeviceTensor out = engine.activation().forward(new ActivationRequest(Activation.GELU, x))) {
            return sync(out);
        }
    }

    @Benchmark
    public float siluForward() {
        try (DeviceTensor out = engine.activation().forward(new ActivationRequest(Activation.SILU, x))) {
            return sync(out);
        }
    }
}
