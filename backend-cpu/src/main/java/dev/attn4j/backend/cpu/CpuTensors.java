package dev.attn4j.backend.cpu;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

/** Host transfers for the CPU backend: copies in and out of the heap arrays (F32, F16/BF16 bits, I32, BOOL). */
final class CpuTensors implements TensorPort {
    private final CpuEngine engine;

    CpuTensors(CpuEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        if (dtype == DType.F32) {
            return engine.register(new CpuTensor(engine, shape, dtype, data.clone()));
        }
        short[] bits = new short[data.length];
        for (int i = 0; i < data.length; i++) {
            bits[i] = HalfFloats.to(dtype, data[i]);
        }
        return engine.register(new CpuTensor(engine, shape, dtype, bits));
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        return engine.register(new CpuTensor(engine, shape, DType.I32, data.clone()));
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        return engine.register(new CpuTensor(engine, shape, DType.BOOL, data.clone()));
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        int n = Math.toIntExact(shape.elementCount());
        Object data = switch (dtype) {
            case F32 -> new float[n];
            case I32 -> new int[n];
            case BOOL -> new boolean[n];
            case F16, BF16 -> new short[n];
        };
        return engine.register(new CpuTensor(engine, shape, dtype, data));
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        CpuTensor t = (CpuTensor) tensor;
        if (t.dtype() == DType.F32) {
            return t.floats().clone();
        }
        short[] bits = t.halves();
        float[] out = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            out[i] = HalfFloats.from(t.dtype(), bits[i]);
        }
        return out;
    }

    @Override
    public int[] downloadInts(DeviceTensor tensor) {
        return ((CpuTensor) tensor).ints().clone();
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        return ((CpuTensor) tensor).bools().clone();
    }
}
