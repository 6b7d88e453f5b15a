package dev.attn4j.backend.cpu;

import dev.attn4j.ports.spi.HalfPrecisionPorts;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;

/**
 * F16 and BF16 storage for the CPU backend (docs/design.md §3: 16-bit storage, fp32 arithmetic): the two conversions
 * that {@link HalfPrecisionPorts} wraps the F32 kernels with, on the Java heap, and the element loops that
 * {@link CpuTensors#cast} shares. Rounding is {@link HalfFloats}' (to nearest even); widening is exact.
 */
final class HalfConversions implements HalfPrecisionPorts.Conversions {
    private final CpuEngine engine;
    private final WorkerPool pool;

    HalfConversions(CpuEngine engine, WorkerPool pool) {
        this.engine = engine;
        this.pool = pool;
    }

    @Override
    public DeviceTensor widen(DeviceTensor half) {
        Span<short[]> bits = ((CpuTensor) half).halves();
        CpuTensor f = engine.newOutput(half.shape());
        Span<float[]> out = f.f32();
        DType dtype = half.dtype();
        pool.forRanges(bits.length(), (from, to) -> widen(dtype, bits, from, out, from, to - from));
        return f;
    }

    @Override
    public DeviceTensor narrow(DeviceTensor f32, DType dtype) {
        Span<float[]> values = ((CpuTensor) f32).f32();
        CpuTensor half = engine.newHalves(f32.shape(), dtype);
        Span<short[]> bits = half.halves();
        pool.forRanges(values.length(), (from, to) -> narrow(values, from, dtype, bits, from, to - from));
        return half;
    }

    /** {@code n} 16-bit values of {@code dtype} from element {@code from} of {@code src} into {@code dst} from {@code at}. */
    static void widen(DType dtype, Span<short[]> src, int from, Span<float[]> dst, int at, int n) {
        short[] s = src.array();
        float[] d = dst.array();
        int so = src.offset() + from;
        int dOff = dst.offset() + at;
        for (int i = 0; i < n; i++) {
            d[dOff + i] = HalfFloats.from(dtype, s[so + i]);
        }
    }

    /** {@code n} floats from element {@code from} of {@code src}, rounded to {@code dtype}, into {@code dst} from {@code at}. */
    static void narrow(Span<float[]> src, int from, DType dtype, Span<short[]> dst, int at, int n) {
        float[] s = src.array();
        short[] d = dst.array();
        int so = src.offset() + from;
        int dOff = dst.offset() + at;
        for (int i = 0; i < n; i++) {
            d[dOff + i] = HalfFloats.to(dtype, s[so + i]);
        }
    }

    /** {@code n} 16-bit values re-rounded from {@code from} type to {@code to} type (F16 ↔ BF16, through an exact float). */
    static void convert(DType fromType, Span<short[]> src, int from, DType toType, Span<short[]> dst, int at, int n) {
        short[] s = src.array();
        short[] d = dst.array();
        int so = src.offset() + from;
        int dOff = dst.offset() + at;
        for (int i = 0; i < n; i++) {
            d[dOff + i] = HalfFloats.to(toType, HalfFloats.from(fromType, s[so + i]));
        }
    }
}
