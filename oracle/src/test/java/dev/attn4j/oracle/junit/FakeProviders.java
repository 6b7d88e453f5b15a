package dev.attn4j.oracle.junit;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.spi.TensorRegistry;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two providers registered (test class path only) through {@code META-INF/services}, so {@link EachBackend} finds
 * them: {@code fake}, available, a heap engine with tensors only; and {@code absent}, unavailable with a reason.
 */
final class FakeProviders {
    /** Engines opened and closed so far, over the test run. */
    static final AtomicInteger OPENED = new AtomicInteger();
    static final AtomicInteger CLOSED = new AtomicInteger();
    /** The reason {@code absent} gives. */
    static final String ABSENT_REASON = "no such device on this machine";

    private FakeProviders() {
    }

    /** The available one. */
    public static final class Fake implements BackendProvider {
        @Override public String name() { return "fake"; }
        @Override public int priority() { return 1; }
        @Override public Availability probe() { return Availability.available("heap", List.of("heap")); }

        @Override
        public BackendEngine open(BackendOptions options) {
            OPENED.incrementAndGet();
            return new Engine(options);
        }
    }

    /** The unavailable one. */
    public static final class Absent implements BackendProvider {
        @Override public String name() { return "absent"; }
        @Override public int priority() { return 2; }
        @Override public Availability probe() { return Availability.unavailable(ABSENT_REASON); }

        @Override
        public BackendEngine open(BackendOptions options) {
            throw new AssertionError("an unavailable backend must never be opened");
        }
    }

    /** Heap tensors, counted, and the options the engine was opened with (as its device line). */
    static final class Engine implements BackendEngine {
        private final TensorRegistry<Tensor> live = new TensorRegistry<>();
        private final BackendOptions options;

        Engine(BackendOptions options) {
            this.options = options;
        }

        @Override public String name() { return "fake"; }

        @Override
        public Capabilities capabilities() {
            return Capabilities.of(TensorCapabilities.transfers(EnumSet.of(DType.F32)));
        }

        @Override public List<String> devices() { return List.of("options " + options.values()); }
        @Override public boolean owns(DeviceTensor t) { return live.contains(t); }
        @Override public OptionalInt openTensors() { return OptionalInt.of(live.size()); }

        @Override
        public void close() {
            CLOSED.incrementAndGet();
            live.closeAll(Tensor::close);
        }

        @Override
        public TensorPort tensors() {
            return new TensorPort() {
                @Override
                public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
                    return live.register(new Tensor(shape, dtype, data.clone()));
                }

                @Override
                public DeviceTensor uploadInts(int[] data, Shape shape) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public DeviceTensor uploadBools(boolean[] data, Shape shape) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public DeviceTensor zeros(Shape shape, DType dtype) {
                    return upload(new float[Math.toIntExact(shape.elementCount())], shape, dtype);
                }

                @Override
                public float[] download(DeviceTensor tensor) {
                    return ((Tensor) tensor).values().clone();
                }

                @Override
                public int[] downloadInts(DeviceTensor tensor) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public boolean[] downloadBools(DeviceTensor tensor) {
                    throw new UnsupportedOperationException();
                }
            };
        }

        final class Tensor extends DeviceTensorBase<float[]> {
            Tensor(Shape shape, DType dtype, float[] values) {
                super("fake", shape, dtype, values);
            }

            float[] values() {
                return handle();
            }

            @Override
            public void close() {
                if (detach() != null) {
                    live.release(this);
                }
            }
        }
    }
}
