package dev.attn4j.backend.opencl;

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

import java.util.ArrayList;
import java.util.List;

/**
 * F16 and BF16 storage on OpenCL (DESIGN §3: 16-bit storage, fp32 arithmetic), without {@code cl_khr_fp16}:
 * {@code half.cl} converts with integer bit arithmetic. Each port here widens a call's 16-bit tensors on the
 * device into F32 temporaries, runs the F32 kernels unchanged, and rounds the outputs stored in the input's
 * type (o, dq/dk/dv, y, the residual sum, rotated x, dInput/dResidual; dGamma/dBeta in gamma's type) to
 * nearest even on the device; {@code lse}, mean, rstd and the bias-table gradient stay F32. F32 calls pass
 * straight through. Every temporary is released before the call returns, also when it fails; OpenCL keeps a
 * released buffer alive until the queued kernels using it have run.
 */
final class ClHalfPrecision {
    private static final String SOURCE = "half.cl";
    private static final long GROUP = 64;

    private ClHalfPrecision() {
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

    private static void convert(OpenClEngine engine, String kernel, ClTensor in, ClTensor out) {
        long n = in.shape().elementCount();
        new KernelCall(engine.kernel(SOURCE, "", kernel)).mem(in.buffer()).mem(out.buffer()).l(n)
                .run(engine.queue(), new long[] {Math.max(1, (n + GROUP - 1) / GROUP) * GROUP}, null);
    }

    /** Temporaries of one call, released together. */
    private static final class Scope implements AutoCloseable {
        private final OpenClEngine engine;
        private final List<ClTensor> made = new ArrayList<>();

        Scope(OpenClEngine engine) {
            this.engine = engine;
        }

        /** {@code t} itself when F32, non-floating or null, else a new F32 copy owned by this scope. */
        DeviceTensor wide(DeviceTensor t) {
            if (t == null || t.dtype() == DType.F32 || !t.dtype().isFloating()) {
                return t;
            }
            ClTensor f = widenCopy(engine, (ClTensor) t);
            made.add(f);
            return f;
        }

        /**
         * {@code f32} (an output of the F32 kernels) as {@code dtype}: itself for F32, else a rounded copy,
         * and {@code f32} joins this scope's temporaries.
         */
        DeviceTensor narrow(DeviceTensor f32, DType dtype) {
            if (f32 == null || dtype == DType.F32) {
                return f32;
            }
            made.add((ClTensor) f32);
            return narrowCopy(engine, (ClTensor) f32, dtype);
        }

        /** Adds a result of the F32 kernels, so that a failure before it is handed out releases it. */
        void own(DeviceTensor t) {
            if (t != null) made.add((ClTensor) t);
        }

        /** Stops owning {@code t}: it is handed to the caller. */
        void release(DeviceTensor t) {
            made.remove(t);
        }

        @Override
        public void close() {
            made.forEach(ClTensor::close);
        }
    }

    /** Attention with 16-bit q, k, v (and o, dO in backward; a dense bias may be F32 or q's type). */
    static AttentionPort attention(OpenClEngine engine, AttentionPort f32) {
        return new AttentionPort() {
            @Override
            public AttentionResult forward(AttentionRequest r) {
                DType dtype = r.q().dtype();
                if (dtype == DType.F32) {
                    return f32.forward(r);
                }
                synchronized (engine) {
                    try (Scope s = new Scope(engine)) {
                        AttentionResult out = f32.forward(new AttentionRequest(s.wide(r.q()), s.wide(r.k()),
                                s.wide(r.v()), wideOptions(s, r.options())));
                        s.own(out.lse());
                        DeviceTensor o = s.narrow(out.o(), dtype);
                        s.release(out.lse());
                        return new AttentionResult(o, out.lse());
                    }
                }
            }

            @Override
            public AttentionGradients backward(AttentionBackwardRequest r) {
                DType dtype = r.q().dtype();
                if (dtype == DType.F32) {
                    return f32.backward(r);
                }
                synchronized (engine) {
                    try (Scope s = new Scope(engine)) {
                        AttentionGradients g = f32.backward(new AttentionBackwardRequest(s.wide(r.dO()),
                                s.wide(r.q()), s.wide(r.k()), s.wide(r.v()), s.wide(r.o()), r.lse(),
                                wideOptions(s, r.options())));
                        List<DeviceTensor> raw = List.of(g.dq(), g.dk(), g.dv());
                        raw.forEach(s::own);
                        s.own(g.dBiasTable());
                        List<DeviceTensor> kept = new ArrayList<>();
                        try {
                            for (DeviceTensor t : raw) {
                                kept.add(s.narrow(t, dtype));
                            }
                        } catch (RuntimeException e) {
                            kept.forEach(DeviceTensor::close);
                            throw e;
                        }
                        s.release(g.dBiasTable());
                        return new AttentionGradients(kept.get(0), kept.get(1), kept.get(2), g.dBiasTable());
                    }
                }
            }

            private AttentionOptions wideOptions(Scope s, AttentionOptions o) {
                return o.denseBias() == null ? o : o.toBuilder().denseBias(s.wide(o.denseBias())).build();
            }
        };
    }

    /** LayerNorm / RMSNorm with 16-bit input, residual (and gamma, beta). */
    static NormalizationPort normalization(OpenClEngine engine, NormalizationPort f32) {
        return new NormalizationPort() {
            @Override
            public NormResult forward(NormRequest r) {
                if (allF32(r)) {
                    return f32.forward(r);
                }
                synchronized (engine) {
                    try (Scope s = new Scope(engine)) {
                        NormResult out = f32.forward(wide(s, r));
                        List.of(out.y(), out.rstd()).forEach(s::own);
                        s.own(out.mean());
                        s.own(out.sum());
                        DType dtype = r.input().dtype();
                        DeviceTensor y = s.narrow(out.y(), dtype);
                        DeviceTensor sum;
                        try {
                            sum = s.narrow(out.sum(), dtype);
                        } catch (RuntimeException e) {
                            y.close();
                            throw e;
                        }
                        s.release(out.mean());
                        s.release(out.rstd());
                        return new NormResult(y, out.mean(), out.rstd(), sum);
                    }
                }
            }

            @Override
            public NormGradients backward(NormBackwardRequest r) {
                NormRequest fwd = r.forward();
                if (allF32(fwd)) {
                    return f32.backward(r);
                }
                synchronized (engine) {
                    try (Scope s = new Scope(engine)) {
                        NormResult saved = new NormResult(r.saved().y(), r.saved().mean(), r.saved().rstd(),
                                s.wide(r.saved().sum()));
                        NormGradients g = f32.backward(new NormBackwardRequest(wide(s, fwd), saved, s.wide(r.dy()),
                                s.wide(r.dSum())));
                        s.own(g.dInput());
                        s.own(g.dResidual());
                        s.own(g.dGamma());
                        s.own(g.dBeta());
                        DType dtype = fwd.input().dtype();
                        DType paramType = fwd.gamma().dtype();
                        List<DeviceTensor> kept = new ArrayList<>();
                        try {
                            kept.add(s.narrow(g.dInput(), dtype));
                            kept.add(s.narrow(g.dResidual(), dtype));
                            kept.add(s.narrow(g.dGamma(), paramType));
                            kept.add(s.narrow(g.dBeta(), paramType));
                        } catch (RuntimeException e) {
                            kept.stream().filter(t -> t != null).forEach(DeviceTensor::close);
                            throw e;
                        }
                        // An output already F32 (gamma's type may be F32 under F16 input) is the kernels' own.
                        kept.forEach(s::release);
                        return new NormGradients(kept.get(0), kept.get(1), kept.get(2), kept.get(3));
                    }
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

    /** Rotary with a 16-bit {@code x} (cos, sin and the xPos scale stay F32). */
    static RotaryPort rotary(OpenClEngine engine, RotaryPort f32) {
        return r -> {
            DType dtype = r.x().dtype();
            if (dtype == DType.F32) {
                return f32.apply(r);
            }
            synchronized (engine) {
                try (Scope s = new Scope(engine)) {
                    DeviceTensor out = f32.apply(new RotaryRequest(s.wide(r.x()), r.cos(), r.sin(), r.scale(),
                            r.layout(), r.inverse()));
                    return s.narrow(out, dtype);
                }
            }
        };
    }
}
