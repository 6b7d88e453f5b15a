package dev.attn4j.backend.opencl;

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
