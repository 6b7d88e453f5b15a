package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;

import java.util.ArrayList;
import java.util.List;

/**
 * F16 and BF16 storage for the CPU backend (DESIGN §3: 16-bit storage, fp32 arithmetic). Each port here
 * widens a call's 16-bit tensors to F32 temporaries, runs the F32 kernels unchanged, and rounds the
 * outputs that are stored in the input's type (o, dq/dk/dv, y, the residual sum, rotated x) to nearest
 * even; statistics and {@code lse} stay F32. F32 calls pass straight through. The temporaries are O(inputs)
 * and freed before the call returns.
 */
final class HalfPrecision {
    private HalfPrecision() {
    }

    /** Temporaries of one call, closed together. */
    private static final class Scope implements AutoCloseable {
        private final CpuEngine engine;
        private final List<CpuTensor> made = new ArrayList<>();

        Scope(CpuEngine engine) {
            this.engine = engine;
        }

        /** {@code t} itself when F32 (or null), else a new F32 copy. */
        DeviceTensor wide(DeviceTensor t) {
            if (t == null || t.dtype() == DType.F32 || !t.dtype().isFloating()) {
                return t;
            }
            CpuTensor half = (CpuTensor) t;
            short[] bits = half.halves();
            CpuTensor f = engine.newFloats(t.shape());
            float[] out = f.floats();
            for (int i = 0; i < bits.length; i++) {
                out[i] = HalfFloats.from(t.dtype(), bits[i]);
            }
            made.add(f);
            return f;
        }

        @Override
        public void close() {
            made.forEach(CpuTensor::close);
        }
    }

    /** A new tensor of {@code dtype} holding {@code f32} rounded; closes {@code f32}. F32 returns it as is. */
    static DeviceTensor narrow(CpuEngine engine, DeviceTensor f32, DType dtype) {
        if (f32 == null || dtype == DType.F32) {
            return f32;
        }
        float[] values = ((CpuTensor) f32).floats();
        CpuTensor half = (CpuTensor) engine.tensors().zeros(f32.shape(), dtype);
        short[] bits = half.halves();
        for (int i = 0; i < values.length; i++) {
            bits[i] = HalfFloats.to(dtype, values[i]);
        }
        f32.close();
        return half;
    }

    /** Attention with 16-bit q, k, v (and o, dO in backward). */
    static AttentionPort attention(CpuEngine engine, AttentionPort f32) {
        return new AttentionPort() {
            @Override
            public AttentionResult forward(AttentionRequest r) {
                DType dtype = r.q().dtype();
                if (dtype == DType.F32) {
                    return f32.forward(r);
                }
                try (Scope s = new Scope(engine)) {
                    AttentionResult out = f32.forward(new AttentionRequest(s.wide(r.q()), s.wide(r.k()), s.wide(r.v()),
                            wideOptions(s, r.options())));
                    return new AttentionResult(narrow(engine, out.o(), dtype), out.lse());
                }
            }

            @Override
            public AttentionGradients backward(AttentionBackwardRequest r) {
                DType dtype = r.q().dtype();
                if (dtype == DType.F32) {
                    return f32.backward(r);
                }
                try (Scope s = new Scope(engine)) {
                    AttentionGradients g = f32.backward(new AttentionBackwardRequest(s.wide(r.dO()), s.wide(r.q()),
                            s.wide(r.k()), s.wide(r.v()), s.wide(r.o()), r.lse(), wideOptions(s, r.options())));
                    return new AttentionGradients(narrow(engine, g.dq(), dtype), narrow(engine, g.dk(), dtype),
                            narrow(engine, g.dv(), dtype), g.dBiasTable());
                }
            }

            private AttentionOptions wideOptions(Scope s, AttentionOptions o) {
                return o.denseBias() == null ? o : o.toBuilder().denseBias(s.wide(o.denseBias())).build();
            }
        };
    }

    /** LayerNorm / RMSNorm with 16-bit input, residual (and gamma, beta). */
    static NormalizationPort normalization(CpuEngine engine, NormalizationPort f32) {
        return new NormalizationPort() {
            @Override
            public NormResult forward(NormRequest r) {
                if (allF32(r)) {
                    return f32.forward(r);
                }
                try (Scope s = new Scope(engine)) {
                    NormResult out = f32.forward(wide(s, r));
                    DType dtype = r.input().dtype();
                    return new NormResult(narrow(engine, out.y(), dtype), out.mean(), out.rstd(),
                            narrow(engine, out.sum(), dtype));
                }
            }

            @Override
            public NormGradients backward(NormBackwardRequest r) {
                NormRequest fwd = r.forward();
                if (allF32(fwd)) {
                    return f32.backward(r);
                }
                try (Scope s = new Scope(engine)) {
                    NormResult saved = new NormResult(r.saved().y(), r.saved().mean(), r.saved().rstd(),
                            s.wide(r.saved().sum()));
                    NormGradients g = f32.backward(new NormBackwardRequest(wide(s, fwd), saved, s.wide(r.dy()),
                            s.wide(r.dSum())));
                    DType dtype = fwd.input().dtype();
                    DType paramType = fwd.gamma().dtype();
                    return new NormGradients(narrow(engine, g.dInput(), dtype), narrow(engine, g.dResidual(), dtype),
                            narrow(engine, g.dGamma(), paramType), narrow(engine, g.dBeta(), paramType));
                }
            }

            private boolean allF32(NormRequest r) {
                return r.input().dtype() == DType.F32 && r.gamma().dtype() == DType.F32;
            }

            private NormRequest wide(Scope s, NormRequest r) {
                return new NormRequest(r.kind(), s.wide(r.input()), s.wide(r.residual()), r.residualScale(),
                        s.wide(r.gamma()), s.wide(r.beta()), r.eps());
            }
        };
    }

    /** Rotary with a 16-bit {@code x}. */
    static RotaryPort rotary(CpuEngine engine, RotaryPort f32) {
        return r -> {
            DType dtype = r.x().dtype();
            if (dtype == DType.F32) {
                return f32.apply(r);
            }
            try (Scope s = new Scope(engine)) {
                DeviceTensor out = f32.apply(new RotaryRequest(s.wide(r.x()), r.cos(), r.sin(), r.scale(), r.layout(),
                        r.inverse()));
                return narrow(engine, out, dtype);
            }
        };
    }
}
