package dev.attn4j.backend.cuda;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

/**
 * Host ↔ device copies (16-bit types converted on the host, round to nearest even) and the device-side tensor
 * operations: views (a device pointer plus an offset, no copy), strided block copies ({@code copy_rows_u8/u16/u32},
 * which move bits whatever the dtype), casts ({@code cast_<from>_<to>}: widened exactly to fp32, rounded to nearest
 * even) and fills (the driver's {@code cuMemsetD16/D32} with the value's bits, rounded on the host).
 */
final class CudaTensors implements TensorPort {
    /** Threads per block of the tensor kernels ({@code TENSOR_THREADS} in tensor.cu). */
    static final int THREADS = 256;

    private final CudaEngine engine;

    CudaTensors(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        Object host = switch (dtype) {
            case F32 -> data;
            case F16, BF16 -> {
                short[] bits = new short[data.length];
                for (int i = 0; i < data.length; i++) {
                    bits[i] = HalfFloats.to(dtype, data[i]);
                }
                yield bits;
            }
            default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
        };
        return copyIn(host, shape, dtype);
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        return copyIn(data, shape, DType.I32);
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = data[i] ? (byte) 1 : (byte) 0;
        }
        return copyIn(bytes, shape, DType.BOOL);
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        return engine.call(() -> {
            CudaTensor t = engine.allocate(shape, dtype);
            try {
                engine.gpu().memset(t.pointer(), 1, 0, t.bytes());
                return t;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(t);
                throw e;
            }
        });
    }

    /** Not cleared: an op's output that it overwrites whole. */
    @Override
    public DeviceTensor allocate(Shape shape, DType dtype) {
        return engine.call(() -> engine.allocate(shape, dtype));
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        CudaTensor t = (CudaTensor) tensor;
        int n = Math.toIntExact(t.shape().elementCount());
        return switch (t.dtype()) {
            case F32 -> {
                float[] out = new float[n];
                copyOut(t, out);
                yield out;
            }
            case F16, BF16 -> {
                short[] bits = new short[n];
                copyOut(t, bits);
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.from(t.dtype(), bits[i]);
                }
                yield out;
            }
            default -> throw new IllegalArgumentException("not a floating tensor: " + t.dtype());
        };
    }

    @Override
    public int[] downloadInts(DeviceTensor tensor) {
        CudaTensor t = (CudaTensor) tensor;
        int[] out = new int[Math.toIntExact(t.shape().elementCount())];
        copyOut(t, out);
        return out;
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        CudaTensor t = (CudaTensor) tensor;
        byte[] bytes = new byte[Math.toIntExact(t.shape().elementCount())];
        copyOut(t, bytes);
        boolean[] out = new boolean[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[i] != 0;
        }
        return out;
    }

    @Override
    public DeviceTensor view(DeviceTensor base, long offset, Shape shape) {
        return engine.call(() -> engine.view((CudaTensor) base, offset, shape));
    }

    /**
     * One grid-stride launch over {@code rows·cols} elements. The facade rejects a tensor copied onto itself
     * overlapping; two distinct tensors can still share memory (a base and its view), which only the engine can
     * see: the same rule is applied to their byte ranges before anything is copied.
     */
    @Override
    public void copy(CopyRequest r) {
        CudaTensor src = (CudaTensor) r.src();
        CudaTensor dst = (CudaTensor) r.dst();
        int size = src.dtype().byteSize();
        engine.run(() -> {
            DevicePointer from = src.at(r.srcOffset());
            DevicePointer to = dst.at(r.dstOffset());
            if (src != dst && from.allocation() == to.allocation()) {
                long srcEnd = from.byteOffset() + ((r.rows() - 1) * r.srcStride() + r.cols()) * size;
                long dstEnd = to.byteOffset() + ((r.rows() - 1) * r.dstStride() + r.cols()) * size;
                InvalidRequestException.check(srcEnd <= to.byteOffset() || dstEnd <= from.byteOffset(), "dst",
                        "a range not overlapping src's (they share device memory: a tensor and its view)",
                        "overlapping byte ranges");
            }
            String kernel = KernelCatalog.copyRows(size);
            engine.launchItems(kernel, Math.multiplyExact(r.rows(), r.cols()), THREADS, copyArgs(from, r.srcStride(),
                    to, r.dstStride(), r.rows(), r.cols()));
            engine.synchronize(kernel);
        });
    }

    /** The copy kernel's arguments: src, its row stride, dst, its row stride, rows, columns (all in elements). */
    static Object[] copyArgs(DevicePointer src, long srcStride, DevicePointer dst, long dstStride, long rows, long cols) {
        return new Object[] {src, srcStride, dst, dstStride, rows, cols};
    }

    @Override
    public DeviceTensor cast(DeviceTensor source, DType dtype) {
        CudaTensor src = (CudaTensor) source;
        long n = src.shape().elementCount();
        return engine.call(() -> {
            CudaTensor out = engine.allocate(src.shape(), dtype);
            try {
                String kernel;
                if (dtype == src.dtype()) {
                    kernel = KernelCatalog.copyRows(dtype.byteSize());
                    engine.launchItems(kernel, n, THREADS, copyArgs(src.pointer(), n, out.pointer(), n, 1L, n));
                } else {
                    kernel = KernelCatalog.cast(src.dtype(), dtype);
                    engine.launchItems(kernel, n, THREADS, src.pointer(), out.pointer(), n);
                }
                engine.synchronize(kernel);
                return out;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(out);
                throw e;
            }
        });
    }

    @Override
    public void fill(DeviceTensor tensor, float value) {
        CudaTensor t = (CudaTensor) tensor;
        long n = t.shape().elementCount();
        engine.run(() -> {
            if (t.dtype() == DType.F32) {
                engine.gpu().memset(t.pointer(), 4, Float.floatToRawIntBits(value), n);
            } else {
                engine.gpu().memset(t.pointer(), 2, HalfFloats.to(t.dtype(), value), n);
            }
            engine.synchronize("fill " + t.shape() + " " + t.dtype());
        });
    }

    private DeviceTensor copyIn(Object host, Shape shape, DType dtype) {
        return engine.call(() -> {
            CudaTensor t = engine.allocate(shape, dtype);
            try {
                engine.gpu().copyIn(t.pointer(), host, t.bytes());
                return t;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(t);
                throw e;
            }
        });
    }

    private void copyOut(CudaTensor t, Object host) {
        engine.run(() -> engine.gpu().copyOut(host, t.pointer(), t.bytes()));
    }
}
