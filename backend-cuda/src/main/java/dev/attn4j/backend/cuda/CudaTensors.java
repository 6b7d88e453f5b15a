package dev.attn4j.backend.cuda;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/** Host ↔ device copies; 16-bit types are converted on the host (round to nearest even). */
final class CudaTensors implements TensorPort {
    private final CudaEngine engine;

    CudaTensors(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        Pointer host = switch (dtype) {
            case F32 -> Pointer.to(data);
            case F16 -> {
                short[] bits = new short[data.length];
                for (int i = 0; i < data.length; i++) {
                    bits[i] = HalfFloats.toF16(data[i]);
                }
                yield Pointer.to(bits);
            }
            case BF16 -> {
                short[] bits = new short[data.length];
                for (int i = 0; i < data.length; i++) {
                    bits[i] = HalfFloats.toBf16(data[i]);
                }
                yield Pointer.to(bits);
            }
            default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
        };
        return copyIn(host, shape, dtype);
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        return copyIn(Pointer.to(data), shape, DType.I32);
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = data[i] ? (byte) 1 : (byte) 0;
        }
        return copyIn(Pointer.to(bytes), shape, DType.BOOL);
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        return engine.call(() -> {
            CudaTensor t = engine.allocate(shape, dtype);
            try {
                Driver.check(JCudaDriver.cuMemsetD8(t.pointer(), (byte) 0, t.byteSize()), "cuMemsetD8 " + shape);
                return t;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(t);
                throw e;
            }
        });
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        CudaTensor t = (CudaTensor) tensor;
        int n = Math.toIntExact(t.shape().elementCount());
        return switch (t.dtype()) {
            case F32 -> {
                float[] out = new float[n];
                copyOut(t, Pointer.to(out));
                yield out;
            }
            case F16, BF16 -> {
                short[] bits = new short[n];
                copyOut(t, Pointer.to(bits));
                float[] out = new float[n];
                boolean half = t.dtype() == DType.F16;
                for (int i = 0; i < n; i++) {
                    out[i] = half ? HalfFloats.fromF16(bits[i]) : HalfFloats.fromBf16(bits[i]);
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
        copyOut(t, Pointer.to(out));
        return out;
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        CudaTensor t = (CudaTensor) tensor;
        byte[] bytes = new byte[Math.toIntExact(t.shape().elementCount())];
        copyOut(t, Pointer.to(bytes));
        boolean[] out = new boolean[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[i] != 0;
        }
        return out;
    }

    private DeviceTensor copyIn(Pointer host, Shape shape, DType dtype) {
        return engine.call(() -> {
            CudaTensor t = engine.allocate(shape, dtype);
            try {
                Driver.check(JCudaDriver.cuMemcpyHtoD(t.pointer(), host, t.byteSize()), "cuMemcpyHtoD " + shape + " " + dtype);
                return t;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(t);
                throw e;
            }
        });
    }

    private void copyOut(CudaTensor t, Pointer host) {
        engine.call(() -> {
            Driver.check(JCudaDriver.cuMemcpyDtoH(host, t.pointer(), t.byteSize()), "cuMemcpyDtoH " + t.shape() + " " + t.dtype());
            return null;
        });
    }
}
