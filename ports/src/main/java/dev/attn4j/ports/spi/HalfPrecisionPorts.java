package dev.attn4j.ports.spi;

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

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Supplier;

/**
 * F16 and BF16 storage over a backend's F32 kernels (docs/design.md §3: 16-bit storage, fp32 arithmetic), for engines
 * whose kernels compute in F32 only. Each port returned here widens a call's 16-bit tensors into F32
 * temporaries, runs the F32 port unchanged, and rounds the outputs that are stored in the input's type to
 * nearest even: {@code o}, {@code dq/dk/dv}, {@code y}, the residual sum, {@code dInput/dResidual} and the rotated
 * {@code x} in the input's type, {@code dGamma/dBeta} in gamma's; {@code lse}, mean, rstd and the bias-table
 * gradient stay F32. F32 calls pass straight through (without taking the lock). Every temporary, and every
 * F32 output that was rounded, is closed before the call returns; when the call fails, every kernel output is
 * closed too and nothing is returned. This is the one place that rule lives; an engine supplies only the two
 * conversions.
 *
 * <pre>{@code
 * HalfPrecisionPorts.Conversions c = new HalfPrecisionPorts.Conversions() {
 *     public DeviceTensor widen(DeviceTensor half) { ... a new F32 tensor ... }
 *     public DeviceTensor narrow(DeviceTensor f32, DType dtype) { ... a new F16/BF16 tensor ... }
 * };
 * AttentionPort attention = HalfPrecisionPorts.attention(c, engine, new MyF32Attention(engine));
 * }</pre>
 */
public final class HalfPrecisionPorts {

    /** How an engine converts between its 16-bit and F32 tensors. */
    public interface Conversions {
        /**
         * {@return a new F32 tensor holding {@code half} (F16 or BF16), widened exactly}
         *
         * @param half the 16-bit value
         */
        DeviceTensor widen(DeviceTensor half);

        /**
         * {@return a new tensor of {@code dtype} (F16 or BF16) holding {@code f32} rounded to nearest even; {@code f32} stays open}
         *
         * @param f32 the fp32 tensor
         * @param dtype storage dtype
         */
        DeviceTensor narrow(DeviceTensor f32, DType dtype);
    }

    private HalfPrecisionPorts() {
    }

    /**
     * {@return attention with 16-bit q, k, v (and o, dO in backward; a dense bias may be F32 or q's type)}
     *
     * @param lock held for the whole of a 16-bit call (conversions and kernels), or {@code null} for none; F32
     * @param conversions the backend's 16-bit conversion kernels
     * @param f32 the fp32 tensor
     *             calls do not take it
     */
    public static AttentionPort attention(Conversions conversions, Object lock, AttentionPort f32) {
        return new AttentionPort() {
            @Override
            public AttentionResult forward(AttentionRequest r) {
                DType dtype = r.q().dtype();
                if (dtype == DType.F32) {
                    return f32.forward(r);
                }
                return locked(lock, () -> {
                    try (Scope s = new Scope(conversions)) {
                        AttentionResult out = f32.forward(new AttentionRequest(s.wide(r.q()), s.wide(r.k()),
                                s.wide(r.v()), wideOptions(s, r.options())));
                        s.own(out.o(), out.lse());
                        DeviceTensor o = s.narrow(out.o(), dtype);
                        return new AttentionResult(s.handOut(o), s.handOut(out.lse()));
                    }
                });
            }

            @Override
            public AttentionGradients backward(AttentionBackwardRequest r) {
                DType dtype = r.q().dtype();
                if (dtype == DType.F32) {
                    return f32.backward(r);
                }
                return locked(lock, () -> {
                    try (Scope s = new Scope(conversions)) {
                        AttentionGradients g = f32.backward(new AttentionBackwardRequest(s.wide(r.dO()),
                                s.wide(r.q()), s.wide(r.k()), s.wide(r.v()), s.wide(r.o()), r.lse(),
                                wideOptions(s, r.options())));
                        s.own(g.dq(), g.dk(), g.dv(), g.dBiasTable());
                        DeviceTensor dq = s.narrow(g.dq(), dtype);
                        DeviceTensor dk = s.narrow(g.dk(), dtype);
                        DeviceTensor dv = s.narrow(g.dv(), dtype);
                        return new AttentionGradients(s.handOut(dq), s.handOut(dk), s.handOut(dv),
                                s.handOut(g.dBiasTable()));
                    }
                });
            }

            private AttentionOptions wideOptions(Scope s, AttentionOptions o) {
                return o.denseBias() == null ? o : o.toBuilder().denseBias(s.wide(o.denseBias())).build();
            }
        };
    }

    /**
     * {@return LayerNorm / RMSNorm with 16-bit input, residual (and gamma, beta)}
     *
     * @param lock held for the whole of a 16-bit call, or {@code null} for none
     * @param conversions the backend's 16-bit conversion kernels
     * @param f32 the fp32 tensor
     */
    public static NormalizationPort normalization(Conversions conversions, Object lock, NormalizationPort f32) {
        return new NormalizationPort() {
            @Override
            public NormResult forward(NormRequest r) {
                if (allF32(r)) {
                    return f32.forward(r);
                }
                return locked(lock, () -> {
                    try (Scope s = new Scope(conversions)) {
                        NormResult out = f32.forward(wide(s, r));
                        s.own(out.y(), out.mean(), out.rstd(), out.sum());
                        DType dtype = r.input().dtype();
                        DeviceTensor y = s.narrow(out.y(), dtype);
                        DeviceTensor sum = s.narrow(out.sum(), dtype);
                        return new NormResult(s.handOut(y), s.handOut(out.mean()), s.handOut(out.rstd()),
                                s.handOut(sum));
                    }
                });
            }

            @Override
            public NormGradients backward(NormBackwardRequest r) {
                NormRequest fwd = r.forward();
                if (allF32(fwd)) {
                    return f32.backward(r);
                }
                return locked(lock, () -> {
                    try (Scope s = new Scope(conversions)) {
                        NormResult saved = new NormResult(r.saved().y(), r.saved().mean(), r.saved().rstd(),
                                s.wide(r.saved().sum()));
                        NormGradients g = f32.backward(new NormBackwardRequest(wide(s, fwd), saved, s.wide(r.dy()),
                                s.wide(r.dSum())));
                        s.own(g.dInput(), g.dResidual(), g.dGamma(), g.dBeta());
                        DType dtype = fwd.input().dtype();
                        DType paramType = fwd.gamma().dtype();
                        DeviceTensor dInput = s.narrow(g.dInput(), dtype);
                        DeviceTensor dResidual = s.narrow(g.dResidual(), dtype);
                        DeviceTensor dGamma = s.narrow(g.dGamma(), paramType);
                        DeviceTensor dBeta = s.narrow(g.dBeta(), paramType);
                        return new NormGradients(s.handOut(dInput), s.handOut(dResidual), s.handOut(dGamma),
                                s.handOut(dBeta));
                    }
                });
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

    /**
     * {@return rotary with a 16-bit {@code x} (cos, sin and the xPos scale stay F32)}
     *
     * @param lock held for the whole of a 16-bit call, or {@code null} for none
     * @param conversions the backend's 16-bit conversion kernels
     * @param f32 the fp32 tensor
     */
    public static RotaryPort rotary(Conversions conversions, Object lock, RotaryPort f32) {
        return r -> {
            DType dtype = r.x().dtype();
            if (dtype == DType.F32) {
                return f32.apply(r);
            }
            return locked(lock, () -> {
                try (Scope s = new Scope(conversions)) {
                    DeviceTensor out = f32.apply(new RotaryRequest(s.wide(r.x()), r.cos(), r.sin(), r.scale(),
                            r.layout(), r.inverse()));
                    s.own(out);
                    return s.handOut(s.narrow(out, dtype));
                }
            });
        };
    }

    private static <T> T locked(Object lock, Supplier<T> call) {
        if (lock == null) {
            return call.get();
        }
        synchronized (lock) {
            return call.get();
        }
    }

    /**
     * The tensors one call made: widened inputs, the F32 kernels' outputs and the rounded copies, by identity
     * (a tensor owned twice is still closed once, and handing it out releases it). Whatever has not been handed
     * out when the scope closes is closed, so a call that fails anywhere leaves nothing open.
     */
    private static final class Scope implements AutoCloseable {
        private final Conversions conversions;
        private final Set<DeviceTensor> made = Collections.newSetFromMap(new IdentityHashMap<>());

        Scope(Conversions conversions) {
            this.conversions = conversions;
        }

        /** {@code t} itself when F32, non-floating or null, else a new F32 copy owned by this scope. */
        DeviceTensor wide(DeviceTensor t) {
            if (t == null || t.dtype() == DType.F32 || !t.dtype().isFloating()) {
                return t;
            }
            DeviceTensor f = conversions.widen(t);
            made.add(f);
            return f;
        }

        /** Owns results of the F32 kernels until they are handed out (nulls are ignored). */
        void own(DeviceTensor... tensors) {
            for (DeviceTensor t : tensors) {
                if (t != null) {
                    made.add(t);
                }
            }
        }

        /** {@code f32} as {@code dtype}: itself for F32, else a rounded copy owned by this scope. */
        DeviceTensor narrow(DeviceTensor f32, DType dtype) {
            if (f32 == null || dtype == DType.F32) {
                return f32;
            }
            DeviceTensor half = conversions.narrow(f32, dtype);
            made.add(half);
            return half;
        }

        /** Stops owning {@code t}: it goes to the caller. */
        DeviceTensor handOut(DeviceTensor t) {
            made.remove(t);
            return t;
        }

        /** Closes every tensor still owned; one failing close does not keep the others open. */
        @Override
        public void close() {
            RuntimeException first = null;
            for (DeviceTensor t : made) {
                try {
                    t.close();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            made.clear();
            if (first != null) {
                throw first;
            }
        }
    }
}
