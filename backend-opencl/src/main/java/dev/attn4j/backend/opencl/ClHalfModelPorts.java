package dev.attn4j.backend.opencl;

import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * F16 and BF16 storage for the model ports over their F32 kernels (docs/design.md §3: 16-bit storage, fp32
 * arithmetic), the rule {@code HalfPrecisionPorts} applies to attention, normalisation and rotary: a 16-bit call's
 * inputs are widened into F32 temporaries on the device ({@code half.cl}, exact), the F32 port runs unchanged, and its
 * outputs are rounded to nearest even into the input's type. Tensors written in place (accumulators such as
 * {@code dW}, {@code db}, the vector gradient, the embedding table's gradient, axpy's {@code y}, scale's {@code x}, a
 * uniform fill's target) are widened, updated in F32 and rounded back into the caller's tensor, so each receives one
 * rounding per call, as the oracle's 16-bit reference. The cross-entropy's loss sum, count and per-token losses stay
 * F32 (the result's contract). F32 calls pass straight through. Every temporary is closed before the call returns,
 * also when it fails; the whole call holds the engine's lock.
 */
final class ClHalfModelPorts {
    private ClHalfModelPorts() {
    }

    static LinearPort linear(OpenClEngine engine, LinearPort f32) {
        return new LinearPort() {
            @Override
            public DeviceTensor forward(LinearRequest r) {
                if (r.x().dtype() == DType.F32) return f32.forward(r);
                return call(engine, s -> s.narrow(f32.forward(s.wide(r)), r.x().dtype()));
            }

            @Override
            public DeviceTensor backward(LinearBackwardRequest r) {
                if (r.dy().dtype() == DType.F32) return f32.backward(r);
                return call(engine, s -> {
                    DeviceTensor dW = s.accumulator(r.weightGrad());
                    DeviceTensor db = s.accumulator(r.biasGrad());
                    DeviceTensor dx = s.own(f32.backward(new LinearBackwardRequest(s.wide(r.forward()), s.wide(r.dy()),
                            r.inputGrad(), dW, db)));
                    s.writeBack();
                    return dx == null ? null : s.narrow(dx, r.dy().dtype());
                });
            }

            @Override
            public void matmul(MatmulRequest r) {
                if (r.c().dtype() == DType.F32) {
                    f32.matmul(r);
                    return;
                }
                call(engine, s -> {
                    f32.matmul(new MatmulRequest(s.wide(r.a()), r.transposeA(), s.wide(r.b()), r.transposeB(),
                            s.accumulator(r.c()), r.alpha(), r.beta()));
                    s.writeBack();
                    return null;
                });
            }
        };
    }

    static ActivationPort activation(OpenClEngine engine, ActivationPort f32) {
        return new ActivationPort() {
            @Override
            public DeviceTensor forward(ActivationRequest r) {
                if (r.x().dtype() == DType.F32) return f32.forward(r);
                return call(engine, s -> s.narrow(f32.forward(new ActivationRequest(r.function(), s.wide(r.x()))),
                        r.x().dtype()));
            }

            @Override
            public DeviceTensor backward(ActivationBackwardRequest r) {
                if (r.dy().dtype() == DType.F32) return f32.backward(r);
                return call(engine, s -> s.narrow(f32.backward(new ActivationBackwardRequest(
                        new ActivationRequest(r.forward().function(), s.wide(r.forward().x())), s.wide(r.dy()))),
                        r.dy().dtype()));
            }

            @Override
            public DeviceTensor glu(GluRequest r) {
                if (r.x().dtype() == DType.F32) return f32.glu(r);
                return call(engine, s -> s.narrow(f32.glu(s.wide(r)), r.x().dtype()));
            }

            @Override
            public DeviceTensor gluBackward(GluBackwardRequest r) {
                if (r.dy().dtype() == DType.F32) return f32.gluBackward(r);
                return call(engine, s -> s.narrow(f32.gluBackward(new GluBackwardRequest(s.wide(r.forward()),
                        s.wide(r.dy()))), r.dy().dtype()));
            }
        };
    }

    static ElementwisePort elementwise(OpenClEngine engine, ElementwisePort f32) {
        return new ElementwisePort() {
            @Override
            public DeviceTensor add(AddRequest r) {
                if (r.a().dtype() == DType.F32) return f32.add(r);
                return call(engine, s -> s.narrow(f32.add(new AddRequest(s.wide(r.a()), s.wide(r.b()), r.alpha())),
                        r.a().dtype()));
            }

            @Override
            public void axpy(AxpyRequest r) {
                if (r.x().dtype() == DType.F32) {
                    f32.axpy(r);
                    return;
                }
                call(engine, s -> {
                    // x may be y itself: then the one widened copy is read and written.
                    DeviceTensor y = s.accumulator(r.y());
                    f32.axpy(new AxpyRequest(r.alpha(), r.x() == r.y() ? y : s.wide(r.x()), y));
                    s.writeBack();
                    return null;
                });
            }

            @Override
            public void scale(ScaleRequest r) {
                if (r.x().dtype() == DType.F32) {
                    f32.scale(r);
                    return;
                }
                call(engine, s -> {
                    f32.scale(new ScaleRequest(s.accumulator(r.x()), r.alpha()));
                    s.writeBack();
                    return null;
                });
            }

            @Override
            public DeviceTensor multiply(BroadcastMultiplyRequest r) {
                if (r.x().dtype() == DType.F32) return f32.multiply(r);
                return call(engine, s -> s.narrow(f32.multiply(s.wide(r)), r.x().dtype()));
            }

            @Override
            public DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest r) {
                if (r.dy().dtype() == DType.F32) return f32.multiplyBackward(r);
                return call(engine, s -> {
                    DeviceTensor dx = s.own(f32.multiplyBackward(new BroadcastMultiplyBackwardRequest(s.wide(r.forward()),
                            s.wide(r.dy()), r.inputGrad(), s.accumulator(r.vectorGrad()))));
                    s.writeBack();
                    return dx == null ? null : s.narrow(dx, r.dy().dtype());
                });
            }

            @Override
            public DeviceTensor shiftTokens(TokenShiftRequest r) {
                if (r.x().dtype() == DType.F32) return f32.shiftTokens(r);
                return call(engine, s -> s.narrow(f32.shiftTokens(new TokenShiftRequest(s.wide(r.x()), r.begin(),
                        r.count(), r.amount(), r.segments())), r.x().dtype()));
            }
        };
    }

    static EmbeddingPort embedding(OpenClEngine engine, EmbeddingPort f32) {
        return new EmbeddingPort() {
            @Override
            public DeviceTensor forward(EmbeddingRequest r) {
                if (r.table().dtype() == DType.F32) return f32.forward(r);
                return call(engine, s -> s.narrow(f32.forward(new EmbeddingRequest(s.wide(r.table()), r.ids())),
                        r.table().dtype()));
            }

            @Override
            public void backward(EmbeddingBackwardRequest r) {
                if (r.dy().dtype() == DType.F32) {
                    f32.backward(r);
                    return;
                }
                call(engine, s -> {
                    f32.backward(new EmbeddingBackwardRequest(new EmbeddingRequest(s.wide(r.forward().table()),
                            r.forward().ids()), s.wide(r.dy()), s.accumulator(r.tableGrad())));
                    s.writeBack();
                    return null;
                });
            }
        };
    }

    static LossPort loss(OpenClEngine engine, LossPort f32) {
        return r -> {
            if (r.hidden().dtype() == DType.F32) return f32.linearCrossEntropy(r);
            return call(engine, s -> {
                CrossEntropyResult out = f32.linearCrossEntropy(new CrossEntropyRequest(s.wide(r.hidden()),
                        s.wide(r.weight()), s.wide(r.bias()), r.targets(), r.ignoreIndex(), r.gradScale(), r.inputGrad(),
                        s.accumulator(r.weightGrad()), s.accumulator(r.biasGrad()), r.perTokenLoss()));
                s.own(out.lossSum(), out.count(), out.dHidden(), out.perToken());
                s.writeBack();
                DeviceTensor dHidden = out.dHidden() == null ? null : s.narrow(out.dHidden(), r.hidden().dtype());
                return new CrossEntropyResult(s.handOut(out.lossSum()), s.handOut(out.count()), dHidden,
                        s.handOut(out.perToken()));
            });
        };
    }

    static OptimizerPort optimizer(OpenClEngine engine, OptimizerPort f32) {
        return new OptimizerPort() {
            @Override
            public void adamW(AdamWRequest r) {
                f32.adamW(r);   // F32 only (the request's rule)
            }

            @Override
            public void sumOfSquares(SumOfSquaresRequest r) {
                if (r.x().dtype() == DType.F32) {
                    f32.sumOfSquares(r);
                    return;
                }
                call(engine, s -> {
                    f32.sumOfSquares(new SumOfSquaresRequest(s.wide(r.x()), r.accumulator()));
                    return null;
                });
            }
        };
    }

    static RandomPort random(OpenClEngine engine, RandomPort f32) {
        return r -> {
            if (r.tensor().dtype() == DType.F32) {
                f32.uniform(r);
                return;
            }
            call(engine, s -> {
                // The values are drawn in fp32 (overwriting; nothing is read), then rounded into the tensor.
                ClTensor wide = s.own(engine.allocate(r.tensor().shape(), DType.F32));
                f32.uniform(new UniformRequest(wide, r.low(), r.high(), r.seed(), r.offset()));
                ClHalfPrecision.narrowInto(engine, wide, (ClTensor) r.tensor());
                return null;
            });
        };
    }

    private interface Body<T> {
        T run(Scope s);
    }

    private static <T> T call(OpenClEngine engine, Body<T> body) {
        synchronized (engine) {
            engine.requireOpen();
            try (Scope s = new Scope(engine)) {
                return body.run(s);
            }
        }
    }

    /**
     * The tensors one 16-bit call made (by identity), closed when it ends unless handed out; and the in-place
     * tensors to round back into the caller's.
     */
    private static final class Scope implements AutoCloseable {
        private final OpenClEngine engine;
        private final Set<DeviceTensor> made = Collections.newSetFromMap(new IdentityHashMap<>());
        private final java.util.Map<ClTensor, ClTensor> writeBack = new java.util.LinkedHashMap<>();

        Scope(OpenClEngine engine) {
            this.engine = engine;
        }

        /** {@code t} itself when F32, non-floating or null, else a new F32 copy owned by this scope. */
        DeviceTensor wide(DeviceTensor t) {
            if (t == null || t.dtype() == DType.F32 || !t.dtype().isFloating()) {
                return t;
            }
            return own(ClHalfPrecision.widenCopy(engine, (ClTensor) t));
        }

        LinearRequest wide(LinearRequest r) {
            return new LinearRequest(wide(r.x()), wide(r.weight()), wide(r.bias()), r.layout());
        }

        BroadcastMultiplyRequest wide(BroadcastMultiplyRequest r) {
            return new BroadcastMultiplyRequest(wide(r.x()), wide(r.v()), r.axis());
        }

        /** {@code r} in its own form over F32 copies: the split form's gate input widened too ({@code null} stays). */
        GluRequest wide(GluRequest r) {
            return new GluRequest(r.gate(), wide(r.x()), wide(r.gateInput()));
        }

        /** A widened copy of a tensor the call updates in place, rounded back into it by {@link #writeBack()}. */
        DeviceTensor accumulator(DeviceTensor t) {
            DeviceTensor w = wide(t);
            if (w != t) {
                writeBack.put((ClTensor) t, (ClTensor) w);
            }
            return w;
        }

        /** Rounds every widened accumulator back into the caller's tensor. */
        void writeBack() {
            writeBack.forEach((target, f32) -> ClHalfPrecision.narrowInto(engine, f32, target));
            writeBack.clear();
        }

        <T extends DeviceTensor> T own(T t) {
            if (t != null) {
                made.add(t);
            }
            return t;
        }

        void own(DeviceTensor... tensors) {
            for (DeviceTensor t : tensors) {
                own(t);
            }
        }

        /** {@code f32} (an F32 kernel's output, owned here) rounded into a new tensor of {@code dtype}, handed out. */
        DeviceTensor narrow(DeviceTensor f32, DType dtype) {
            own(f32);
            return ClHalfPrecision.narrowCopy(engine, (ClTensor) f32, dtype);
        }

        DeviceTensor handOut(DeviceTensor t) {
            made.remove(t);
            return t;
        }

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
