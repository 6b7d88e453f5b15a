package dev.attn4j.backend.cpu;

import dev.attn4j.ports.spi.HalfPrecisionPorts;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;

/**
 * F16 and BF16 storage for the CPU backend (docs/design.md §3: 16-bit storage, fp32 arithmetic): the two conversions
 * that {@link HalfPrecisionPorts} wraps the F32 kernels with, on the Java heap.
 */
final class HalfPrecision implements HalfPrecisionPorts.Conversions {
    private final CpuEngine engine;

    HalfPrecision(CpuEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor widen(DeviceTensor half) {
        short[] bits = ((CpuTensor) half).halves();
        CpuTensor f = engine.newFloats(half.shape());
        float[] out = f.floats();
        for (int i = 0; i < bits.length; i++) {
            out[i] = HalfFloats.from(half.dtype(), bits[i]);
        }
        return f;
    }

    @Override
    public DeviceTensor narrow(DeviceTensor f32, DType dtype) {
        float[] values = ((CpuTensor) f32).floats();
        CpuTensor half = (CpuTensor) engine.tensors().zeros(f32.shape(), dtype);
        short[] bits = half.halves();
        for (int i = 0; i < values.length; i++) {
            bits[i] = HalfFloats.to(dtype, values[i]);
        }
        return half;
    }
}
