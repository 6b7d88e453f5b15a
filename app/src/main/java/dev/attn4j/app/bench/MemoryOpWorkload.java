package dev.attn4j.app.bench;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One memory-bound op over {@code rows × width} elements of output, timed in GB/s: the bytes it must read and
 * write at least (each input once, each output once) over the time. {@link MemoryOp#COPY} (the tensor port's
 * device copy) is the reference the others are compared with: no op can move its bytes faster than a copy.
 *
 * <pre>{@code
 * try (Workload w = MemoryOpWorkload.prepare(backend, MemoryOp.ADD, 16384, 1024, 32000, DType.F32, 42)) { w.run(); }
 * }</pre>
 */
public final class MemoryOpWorkload implements Workload {

    /** The memory-bound ops {@code attn4j bench ops} times, with the bytes each moves per output element. */
    public enum MemoryOp {
        /** {@code dst = src} (the tensor port's copy): 1 read, 1 write. */
        COPY(2),
        /** {@code y = a + α·b}, a new tensor: 2 reads, 1 write. */
        ADD(3),
        /** {@code y += α·x} in place: 2 reads, 1 write. */
        AXPY(3),
        /** {@code x *= α} in place: 1 read, 1 write. */
        SCALE(2),
        /** GELU (erf) forward: 1 read, 1 write. */
        GELU(2),
        /** SiLU forward: 1 read, 1 write. */
        SILU(2),
        /** GELU backward, {@code dx = dy·gelu'(x)}: 2 reads, 1 write. */
        GELU_BACKWARD(3),
        /**
         * SwiGLU forward in the split form models run: value and gate two {@code [rows, width]} tensors → {@code [rows,
         * width]}: 2 reads, 1 write per output element.
         */
        SWIGLU(3),
        /** SwiGLU forward, concatenated: {@code [rows, 2·width] → [rows, width]}: 2 reads, 1 write per output element. */
        SWIGLU_CONCATENATED(3),
        /** Embedding gather of {@code rows} ids from a {@code [vocab, width]} table: 1 read, 1 write (+ the ids). */
        EMBEDDING(2);

        private final int floatsPerElement;

        MemoryOp(int floatsPerElement) {
            this.floatsPerElement = floatsPerElement;
        }

        /** The name in records and on the command line: {@code gelu_backward}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Runnable body;
    private final Owned owned;
    private final double bytes;

    private MemoryOpWorkload(Runnable body, Owned owned, double bytes) {
        this.body = body;
        this.owned = owned;
        this.bytes = bytes;
    }

    /**
     * Uploads the inputs of {@code op} for an output of {@code rows × width} elements ({@code vocab} rows of table
     * for {@link MemoryOp#EMBEDDING}).
     */
    public static MemoryOpWorkload prepare(Backend backend, MemoryOp op, int rows, int width, int vocab, DType dtype,
                                           long seed) {
        Owned owned = new Owned();
        try {
            RandomTensors random = new RandomTensors(backend, dtype, seed);
            Completion completion = Completion.on(backend, owned);
            Shape shape = Shape.of(rows, width);
            long n = (long) rows * width;
            double bytes = (double) n * op.floatsPerElement * dtype.byteSize();
            Runnable body = switch (op) {
                case COPY -> {
                    DeviceTensor src = owned.add(random.next(shape));
                    DeviceTensor dst = owned.add(backend.tensors().zeros(shape, dtype));
                    CopyRequest copy = CopyRequest.into(src, dst, 0);
                    yield () -> {
                        backend.tensors().copy(copy);
                        completion.await(dst);
                    };
                }
                case ADD -> {
                    AddRequest add = new AddRequest(owned.add(random.next(shape)), owned.add(random.next(shape)), 0.5f);
                    yield fresh(completion, () -> backend.elementwise().add(add));
                }
                case AXPY -> {
                    DeviceTensor y = owned.add(random.next(shape));
                    // A tiny alpha keeps y's values however many runs, where alpha = 0 might be skipped as a no-op.
                    AxpyRequest axpy = new AxpyRequest(1e-20f, owned.add(random.next(shape)), y);
                    yield () -> {
                        backend.elementwise().axpy(axpy);
                        completion.await(y);
                    };
                }
                case SCALE -> {
                    DeviceTensor x = owned.add(random.next(shape));
                    ScaleRequest scale = new ScaleRequest(x, 1f);
                    yield () -> {
                        backend.elementwise().scale(scale);
                        completion.await(x);
                    };
                }
                case GELU, SILU -> {
                    ActivationRequest fwd = new ActivationRequest(op == MemoryOp.GELU ? Activation.GELU : Activation.SILU,
                            owned.add(random.next(shape)));
                    yield fresh(completion, () -> backend.activation().forward(fwd));
                }
                case GELU_BACKWARD -> {
                    ActivationBackwardRequest back = new ActivationBackwardRequest(
                            new ActivationRequest(Activation.GELU, owned.add(random.next(shape))),
                            owned.add(random.next(shape)));
                    yield fresh(completion, () -> backend.activation().backward(back));
                }
                case SWIGLU -> {
                    GluRequest glu = GluRequest.split(Activation.SILU, owned.add(random.next(shape)),
                            owned.add(random.next(shape)));
                    yield fresh(completion, () -> backend.activation().glu(glu));
                }
                case SWIGLU_CONCATENATED -> {
                    GluRequest glu = new GluRequest(Activation.SILU,
                            owned.add(random.next(Shape.of(rows, Math.multiplyExact(2, width)))));
                    yield fresh(completion, () -> backend.activation().glu(glu));
                }
                case EMBEDDING -> {
                    SplittableRandom ids = new SplittableRandom(seed);
                    int[] id = new int[rows];
                    for (int i = 0; i < rows; i++) {
                        id[i] = ids.nextInt(vocab);
                    }
                    EmbeddingRequest gather = new EmbeddingRequest(owned.add(random.next(Shape.of(vocab, width))),
                            owned.add(backend.tensors().uploadInts(id, Shape.of(rows))));
                    bytes += (double) rows * Integer.BYTES;
                    yield fresh(completion, () -> backend.embedding().forward(gather));
                }
            };
            return new MemoryOpWorkload(body, owned, bytes);
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    /** A body whose op returns a new tensor: waited for, then freed. */
    private static Runnable fresh(Completion completion, Supplier<DeviceTensor> op) {
        return () -> {
            try (DeviceTensor y = op.get()) {
                completion.await(y);
            }
        };
    }

    @Override
    public void run() {
        body.run();
    }

    @Override
    public double flops() {
        return Double.NaN;
    }

    @Override
    public double bytes() {
        return bytes;
    }

    @Override
    public void close() {
        owned.close();
    }
}
