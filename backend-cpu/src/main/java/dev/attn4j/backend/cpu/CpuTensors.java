package dev.attn4j.backend.cpu;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

/** Host transfers for the CPU backend: copies in and out of the heap arrays (F32, I32, BOOL). */
final class CpuTensors implements TensorPort {
    private final CpuEngine engine;

    CpuTensors(CpuEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        return engine.register(new CpuTensor(engine, shape, dtype, data.clone()));
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
            case F16, BF16 -> throw new IllegalArgumentException("cpu stores F32 only, not " + dtype);
        };
        return engine.register(new CpuTensor(engine, shape, dtype, data));
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        return ((CpuTensor) tensor).floats().clone();
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
