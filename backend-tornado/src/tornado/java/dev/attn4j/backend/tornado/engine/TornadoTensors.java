package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.function.Consumer;

/**
 * Uploads into and downloads from the device heaps ({@link DeviceHeap}); F32 floats only (see the capabilities).
 * These are the only places data crosses between the host and the device.
 */
final class TornadoTensors implements TensorPort {
    private final TornadoEngine engine;

    TornadoTensors(TornadoEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        requireF32(dtype);
        synchronized (engine) {
            return filled(newTensor(shape, DType.F32), t -> engine.heap().write(t.block(), data));
        }
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        synchronized (engine) {
            return filled(newTensor(shape, DType.I32), t -> engine.heap().write(t.block(), data));
        }
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        int[] bits = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            bits[i] = data[i] ? 1 : 0;
        }
        synchronized (engine) {
            return filled(newTensor(shape, DType.BOOL), t -> engine.heap().write(t.block(), bits));
        }
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        if (dtype != DType.I32 && dtype != DType.BOOL) {
            requireF32(dtype);
        }
        synchronized (engine) {
            return filled(newTensor(shape, dtype), t -> engine.heap().zero(t.block()));
        }
    }

    /** A new F32 tensor whose values a kernel is about to write. Call with the engine's lock held. */
    TornadoTensor allocate(Shape shape) {
        return newTensor(shape, DType.F32);
    }

    /** A new tensor of {@code dtype}: a float block for F32, an int block for I32 and BOOL. */
    private TornadoTensor newTensor(Shape shape, DType dtype) {
        DeviceHeap heap = engine.heap();
        long n = shape.elementCount();
        return engine.track(shape, dtype, dtype == DType.F32 ? heap.allocateFloats(n) : heap.allocateInts(n));
    }

    /** {@code t} after {@code fill}; closed (its block returned) if {@code fill} fails. */
    private static TornadoTensor filled(TornadoTensor t, Consumer<TornadoTensor> fill) {
        try {
            fill.accept(t);
            return t;
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        synchronized (engine) {
            return engine.heap().read(((TornadoTensor) tensor).block(), count(tensor));
        }
    }

    @Override
    public int[] downloadInts(DeviceTensor tensor) {
        synchronized (engine) {
            return engine.heap().readInts(((TornadoTensor) tensor).block(), count(tensor));
        }
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        int[] bits = downloadInts(tensor);
        boolean[] out = new boolean[bits.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = bits[i] != 0;
        }
        return out;
    }

    @Override
    public DeviceTensor view(DeviceTensor base, long offset, Shape shape) {
        synchronized (engine) {
            engine.heap(); // fails once the engine is closed
            return engine.trackView((TornadoTensor) base, offset, shape);
        }
    }

    /**
     * A strided block copy ({@link ModelKernels#axpby}'s copy mode), in the float heap or (I32, BOOL) the int heap.
     * The request refused a tensor copied onto itself overlapping; two views of one block that overlap are
     * refused here, since the copy's order would decide what is read.
     */
    @Override
    public void copy(CopyRequest r) {
        TornadoTensor src = (TornadoTensor) r.src();
        TornadoTensor dst = (TornadoTensor) r.dst();
        if (src != dst && src.overlaps(dst)) {
            throw new InvalidRequestException("dst", "storage apart from src's", "a view sharing storage with it");
        }
        long n = Math.multiplyExact(r.rows(), r.cols());
        synchronized (engine) {
            new HeapCall(engine.heap(), DeviceHeap.Op.AXPBY).set(ModelKernels.MODE, ModelKernels.COPY)
                    .set(ModelKernels.N, Math.toIntExact(n)).set(ModelKernels.COLS, Math.toIntExact(r.cols()))
                    .set(ModelKernels.A_AT, Math.toIntExact(src.offset() + r.srcOffset()))
                    .set(ModelKernels.C_AT, Math.toIntExact(dst.offset() + r.dstOffset()))
                    .set(ModelKernels.I0, Math.toIntExact(r.srcStride())).set(ModelKernels.I1, Math.toIntExact(r.dstStride()))
                    .set(ModelKernels.I2, src.block().ints() ? 1 : 0).run(64, n);
        }
    }

    /** A copy: F32 is the only floating dtype declared, so a cast is to F32 from F32. */
    @Override
    public DeviceTensor cast(DeviceTensor source, DType dtype) {
        requireF32(dtype);
        long n = source.shape().elementCount();
        synchronized (engine) {
            return filled(newTensor(source.shape(), DType.F32), t -> new HeapCall(engine.heap(), DeviceHeap.Op.AXPBY)
                    .set(ModelKernels.MODE, ModelKernels.COPY).set(ModelKernels.N, Math.toIntExact(n))
                    .set(ModelKernels.COLS, Math.toIntExact(Math.max(1, n))).set(ModelKernels.A_AT, TornadoTensor.at(source))
                    .set(ModelKernels.C_AT, t.offset()).run(64, n));
        }
    }

    @Override
    public void fill(DeviceTensor tensor, float value) {
        long n = tensor.shape().elementCount();
        synchronized (engine) {
            new HeapCall(engine.heap(), DeviceHeap.Op.AXPBY).set(ModelKernels.MODE, ModelKernels.FILL)
                    .set(ModelKernels.N, Math.toIntExact(n)).set(ModelKernels.C_AT, TornadoTensor.at(tensor))
                    .f(ModelKernels.F0, value).run(64, n);
        }
    }

    private static int count(DeviceTensor tensor) {
        return Math.toIntExact(tensor.shape().elementCount());
    }

    private static void requireF32(DType dtype) {
        if (dtype != DType.F32) {
            throw new UnsupportedCapabilityException(TornadoEngine.NAME, "dtype " + dtype);
        }
    }
}
