package dev.attn4j.backend.opencl;

import dev.attn4j.ports.spi.HalfPrecisionPorts;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * F16 and BF16 storage on OpenCL (docs/design.md §3: 16-bit storage, fp32 arithmetic), without {@code cl_khr_fp16}:
 * {@code half.cl} converts with integer bit arithmetic, on the device. These are the two conversions that
 * {@link HalfPrecisionPorts} wraps the F32 kernels with; it releases every temporary before a call returns,
 * and OpenCL keeps a released buffer alive until the queued kernels using it have run.
 */
final class ClHalfPrecision implements HalfPrecisionPorts.Conversions {
    private static final String SOURCE = "half.cl";
    private static final long GROUP = 64;

    private final OpenClEngine engine;

    ClHalfPrecision(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor widen(DeviceTensor half) {
        return widenCopy(engine, (ClTensor) half);
    }

    @Override
    public DeviceTensor narrow(DeviceTensor f32, DType dtype) {
        return narrowCopy(engine, (ClTensor) f32, dtype);
    }

    /** {@code f32} rounded into a new tensor of {@code dtype} (F16 or BF16) on the device. */
    static ClTensor narrowCopy(OpenClEngine engine, ClTensor f32, DType dtype) {
        synchronized (engine) {
            ClTensor out = engine.allocate(f32.shape(), dtype);
            try {
                convert(engine, dtype == DType.F16 ? "narrow_f16" : "narrow_bf16", f32, out);
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw ClAttention.translate(e, "rounding to " + dtype);
            }
        }
    }

    /** {@code half} (F16 or BF16) widened into a new F32 tensor on the device. */
    static ClTensor widenCopy(OpenClEngine engine, ClTensor half) {
        synchronized (engine) {
            ClTensor out = engine.allocate(half.shape(), DType.F32);
            try {
                convert(engine, half.dtype() == DType.F16 ? "widen_f16" : "widen_bf16", half, out);
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw ClAttention.translate(e, "widening " + half.dtype());
            }
        }
    }

    /** {@code half} (F16 or BF16) converted to the other 16-bit type in a new tensor (exact widening, one rounding). */
    static ClTensor convertCopy(OpenClEngine engine, ClTensor half, DType dtype) {
        synchronized (engine) {
            ClTensor out = engine.allocate(half.shape(), dtype);
            try {
                convert(engine, dtype == DType.BF16 ? "f16_to_bf16" : "bf16_to_f16", half, out);
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw ClAttention.translate(e, "casting " + half.dtype() + " to " + dtype);
            }
        }
    }

    /** {@code f32} rounded to {@code target}'s type (F16 or BF16) into {@code target} itself (same element count). */
    static void narrowInto(OpenClEngine engine, ClTensor f32, ClTensor target) {
        synchronized (engine) {
            try {
                convert(engine, target.dtype() == DType.F16 ? "narrow_f16" : "narrow_bf16", f32, target);
            } catch (RuntimeException e) {
                throw ClAttention.translate(e, "rounding into " + target.dtype());
            }
        }
    }

    private static void convert(OpenClEngine engine, String kernel, ClTensor in, ClTensor out) {
        long n = in.shape().elementCount();
        new KernelCall(engine.kernel(SOURCE, "", kernel)).mem(in.buffer()).mem(out.buffer()).l(n)
                .run(engine.queue(), new long[] {Math.max(1, (n + GROUP - 1) / GROUP) * GROUP}, null);
    }
}
