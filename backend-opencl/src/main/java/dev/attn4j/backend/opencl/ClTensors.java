package dev.attn4j.backend.opencl;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;
import org.jocl.CLException;
import org.jocl.Pointer;

import static org.jocl.CL.*;

/**
 * Host ↔ device copies; reads block until the data is on the host. F16 and BF16 tensors hold 2-byte
 * elements, converted on the host with {@link HalfFloats} (round to nearest even on upload, exact on download).
 * The device-side operations stay on the device: views are sub-buffers ({@link OpenClEngine#view}), copies are
 * OpenCL's buffer copies, casts run {@code half.cl}, fills are {@code clEnqueueFillBuffer}.
 */
final class ClTensors implements TensorPort {
    private final OpenClEngine engine;

    ClTensors(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        requireFloating(dtype);
        if (dtype == DType.F32) {
            return copyOf(shape, dtype, Pointer.to(data));
        }
        short[] bits = new short[data.length];
        for (int i = 0; i < data.length; i++) {
            bits[i] = HalfFloats.to(dtype, data[i]);
        }
        return copyOf(shape, dtype, Pointer.to(bits));
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        return copyOf(shape, DType.I32, Pointer.to(data));
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = (byte) (data[i] ? 1 : 0);
        }
        return copyOf(shape, DType.BOOL, Pointer.to(bytes));
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        synchronized (engine) {
            ClTensor t = engine.allocate(shape, dtype);
            try {
                clEnqueueFillBuffer(engine.queue(), t.buffer(), Pointer.to(new byte[] {0}), 1, 0, t.byteSize(), 0,
                        null, null);
                return t;
            } catch (CLException e) {
                t.close();
                throw OpenClEngine.deviceError(e, "zero-filling " + shape);
            }
        }
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        ClTensor t = (ClTensor) tensor;
        float[] out = new float[t.length()];
        if (t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
            read(t, Pointer.to(out));
            return out;
        }
        short[] bits = new short[out.length];
        read(t, Pointer.to(bits));
        for (int i = 0; i < bits.length; i++) {
            out[i] = HalfFloats.from(t.dtype(), bits[i]);
        }
        return out;
    }

    @Override
    public int[] downloadInts(DeviceTensor tensor) {
        ClTensor t = (ClTensor) tensor;
        int[] out = new int[t.length()];
        read(t, Pointer.to(out));
        return out;
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        ClTensor t = (ClTensor) tensor;
        byte[] bytes = new byte[t.length()];
        read(t, Pointer.to(bytes));
        boolean[] out = new boolean[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[i] != 0;
        }
        return out;
    }

    @Override
    public DeviceTensor view(DeviceTensor base, long offset, Shape shape) {
        try {
            return engine.view((ClTensor) base, offset, shape);
        } catch (CLException e) {
            throw OpenClEngine.deviceError(e, "making a view of " + base.shape() + " at element " + offset);
        }
    }

    /**
     * One {@code clEnqueueCopyBuffer} for a single row, else one {@code clEnqueueCopyBufferRect} (OpenCL's strided
     * 2-D copy: rows of {@code cols} elements, the two row pitches given). The facade rejects a tensor copied onto
     * itself overlapping; two distinct tensors can still share storage (a base and its view, two views of one base),
     * which only the engine can see: the same rule is applied to the bytes they touch, before anything is copied.
     */
    @Override
    public void copy(CopyRequest r) {
        ClTensor src = (ClTensor) r.src();
        ClTensor dst = (ClTensor) r.dst();
        long size = src.dtype().byteSize();
        // The request checked every range against its tensor's element count (< 2^31), so no product overflows.
        long srcAt = r.srcOffset() * size;
        long dstAt = r.dstOffset() * size;
        long rowBytes = r.cols() * size;
        long srcEnd = srcAt + (r.rows() - 1) * r.srcStride() * size + rowBytes;
        long dstEnd = dstAt + (r.rows() - 1) * r.dstStride() * size + rowBytes;
        if (src.root() == dst.root()) {
            long s0 = src.byteOffset() + srcAt;
            long d0 = dst.byteOffset() + dstAt;
            long s1 = src.byteOffset() + srcEnd;
            long d1 = dst.byteOffset() + dstEnd;
            InvalidRequestException.check(s1 <= d0 || d1 <= s0, "dst",
                    "a range not overlapping src's (they share storage: a tensor and its view)",
                    "overlapping storage bytes [" + d0 + ", " + d1 + ") and [" + s0 + ", " + s1 + ")");
        }
        synchronized (engine) {
            engine.requireOpen();
            try {
                if (r.rows() == 1) {
                    clEnqueueCopyBuffer(engine.queue(), src.buffer(), dst.buffer(), srcAt, dstAt, rowBytes, 0, null, null);
                } else {
                    clEnqueueCopyBufferRect(engine.queue(), src.buffer(), dst.buffer(), new long[] {srcAt, 0, 0},
                            new long[] {dstAt, 0, 0}, new long[] {rowBytes, r.rows(), 1}, r.srcStride() * size, 0,
                            r.dstStride() * size, 0, 0, null, null);
                }
            } catch (CLException e) {
                throw OpenClEngine.deviceError(e, "copying " + r.rows() + " rows of " + r.cols());
            }
        }
    }

    /**
     * On the device: F32 ↔ F16/BF16 with {@code half.cl}'s conversions, F16 ↔ BF16 through an exact F32 value (so
     * one rounding), the same dtype as a buffer copy.
     */
    @Override
    public DeviceTensor cast(DeviceTensor source, DType dtype) {
        ClTensor src = (ClTensor) source;
        DType from = src.dtype();
        if (from == dtype) {
            synchronized (engine) {
                ClTensor out = engine.allocate(src.shape(), dtype);
                try {
                    engine.requireOpen();
                    clEnqueueCopyBuffer(engine.queue(), src.buffer(), out.buffer(), 0, 0, src.byteSize(), 0, null, null);
                    return out;
                } catch (RuntimeException e) {
                    out.close();
                    throw ClAttention.translate(e, "casting " + from + " to " + dtype);
                }
            }
        }
        if (from == DType.F32) {
            return ClHalfPrecision.narrowCopy(engine, src, dtype);
        }
        if (dtype == DType.F32) {
            return ClHalfPrecision.widenCopy(engine, src);
        }
        return ClHalfPrecision.convertCopy(engine, src, dtype);
    }

    /** {@code clEnqueueFillBuffer} with the value's float bits, or its 16-bit pattern rounded to nearest even. */
    @Override
    public void fill(DeviceTensor tensor, float value) {
        ClTensor t = (ClTensor) tensor;
        Pointer pattern = t.dtype() == DType.F32 ? Pointer.to(new float[] {value})
                : Pointer.to(new short[] {HalfFloats.to(t.dtype(), value)});
        synchronized (engine) {
            engine.requireOpen();
            try {
                clEnqueueFillBuffer(engine.queue(), t.buffer(), pattern, t.dtype().byteSize(), 0, t.byteSize(), 0, null,
                        null);
            } catch (CLException e) {
                throw OpenClEngine.deviceError(e, "filling " + t.shape());
            }
        }
    }

    private ClTensor copyOf(Shape shape, DType dtype, Pointer host) {
        try {
            return engine.allocate(shape, dtype, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, host);
        } catch (CLException e) {
            throw OpenClEngine.deviceError(e, "uploading " + dtype + " " + shape);
        }
    }

    private void read(ClTensor t, Pointer host) {
        synchronized (engine) {
            engine.requireOpen();
            try {
                clEnqueueReadBuffer(engine.queue(), t.buffer(), CL_TRUE, 0, t.byteSize(), host, 0, null, null);
            } catch (CLException e) {
                throw OpenClEngine.deviceError(e, "downloading " + t.shape());
            }
        }
    }

    private static void requireFloating(DType dtype) {
        if (!dtype.isFloating()) {
            // The Backend facade checks dtypes first; this guards direct engine use.
            throw new IllegalArgumentException("expected a floating dtype (F32, F16 or BF16), got " + dtype);
        }
    }
}
