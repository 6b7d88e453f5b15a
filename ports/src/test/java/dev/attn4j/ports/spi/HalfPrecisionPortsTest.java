package dev.attn4j.ports.spi;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfPrecisionPortsTest {

    /** A tensor that only knows its shape, dtype and how often it was closed. */
    private static final class Fake extends DeviceTensorBase<Object> {
        int closes;

        Fake(Shape shape, DType dtype) {
            super("fake", shape, dtype, new Object());
        }

        @Override
        public void close() {
            closes++;
            detach();
        }
    }

    /** Counts conversions and remembers every tensor it or the fake kernels made. */
    private static final class Recorder implements HalfPrecisionPorts.Conversions {
        final List<DeviceTensor> made = new ArrayList<>();
        int widened;
        int narrowed;

        Fake make(Shape shape, DType dtype) {
            Fake t = new Fake(shape, dtype);
            made.add(t);
            return t;
        }

        @Override
        public DeviceTensor widen(DeviceTensor half) {
            assertTrue(half.dtype() == DType.F16 || half.dtype() == DType.BF16);
            widened++;
            return make(half.shape(), DType.F32);
        }

        @Override
        public DeviceTensor narrow(DeviceTensor f32, DType dtype) {
            assertEquals(DType.F32, f32.dtype());
            assertFalse(f32.isClosed());
            narrowed++;
            return make(f32.shape(), dtype);
        }

        /**
         * The made tensors not closed exactly once, apart from those handed out, which must never have been
         * closed.
         */
        long openBesides(DeviceTensor... handedOut) {
            List<DeviceTensor> out = List.of(handedOut);
            for (DeviceTensor t : out) {
                assertEquals(0, ((Fake) t).closes, "a tensor handed to the caller was closed: " + t);
            }
            return made.stream().filter(t -> !out.contains(t) && ((Fake) t).closes != 1).count();
        }
    }

    private final Recorder rec = new Recorder();
    /** The lock the port under test was given, or null. */
    private Object lock;

    private void assertLocked() {
        if (lock != null) {
            assertTrue(Thread.holdsLock(lock), "a 16-bit call runs its kernels under the engine's lock");
        }
    }
    private final Shape q = Shape.of(1, 4, 2, 8);
    private final Shape lse = Shape.of(1, 2, 4);

    private AttentionPort f32Attention() {
        return new AttentionPort() {
            @Override
            public AttentionResult forward(AttentionRequest r) {
                assertEquals(DType.F32, r.q().dtype());
                assertEquals(DType.F32, r.k().dtype());
                assertEquals(DType.F32, r.v().dtype());
                assertLocked();
                return new AttentionResult(rec.make(q, DType.F32), rec.make(lse, DType.F32));
            }

            @Override
            public AttentionGradients backward(AttentionBackwardRequest r) {
                assertEquals(DType.F32, r.dO().dtype());
                assertEquals(DType.F32, r.o().dtype());
                if (r.options().denseBias() != null) {
                    assertEquals(DType.F32, r.options().denseBias().dtype());
                }
                assertLocked();
                return new AttentionGradients(rec.make(q, DType.F32), rec.make(q, DType.F32), rec.make(q, DType.F32),
                        rec.make(Shape.of(2, 7), DType.F32));
            }
        };
    }

    @Test
    void f32CallsPassStraightThrough() {
        AttentionPort port = HalfPrecisionPorts.attention(rec, null, f32Attention());
        AttentionResult out = port.forward(new AttentionRequest(new Fake(q, DType.F32), new Fake(q, DType.F32),
                new Fake(q, DType.F32), AttentionOptions.builder().build()));
        assertEquals(DType.F32, out.o().dtype());
        assertEquals(0, rec.widened + rec.narrowed);
    }

    @Test
    void attentionWidensInputsRoundsOutputsAndClosesEveryTemporary() {
        lock = new Object();
        AttentionPort port = HalfPrecisionPorts.attention(rec, lock, f32Attention());
        Fake hq = new Fake(q, DType.BF16), hk = new Fake(q, DType.BF16), hv = new Fake(q, DType.BF16);
        AttentionResult out = port.forward(new AttentionRequest(hq, hk, hv, AttentionOptions.builder().build()));
        assertEquals(DType.BF16, out.o().dtype(), "o is stored in q's type");
        assertEquals(DType.F32, out.lse().dtype(), "lse stays F32");
        assertEquals(3, rec.widened);
        assertEquals(0, rec.openBesides(out.o(), out.lse()), "widened inputs and the F32 o are closed");

        Fake bias = new Fake(Shape.of(1, 2, 4, 4), DType.BF16);
        AttentionGradients g = port.backward(new AttentionBackwardRequest(new Fake(q, DType.BF16), hq, hk, hv,
                out.o(), out.lse(), AttentionOptions.builder().denseBias(bias).build()));
        for (DeviceTensor t : List.of(g.dq(), g.dk(), g.dv())) {
            assertEquals(DType.BF16, t.dtype());
        }
        assertEquals(DType.F32, g.dBiasTable().dtype(), "the table gradient stays F32");
        assertEquals(3 + 6, rec.widened, "dO, q, k, v, o and the dense bias");
        assertEquals(0, rec.openBesides(out.o(), out.lse(), g.dq(), g.dk(), g.dv(), g.dBiasTable()));
        assertFalse(hq.isClosed(), "the caller's tensors are left alone");
        assertFalse(bias.isClosed());
    }

    @Test
    void aFailingKernelLeavesNothingOpen() {
        AttentionPort failing = new AttentionPort() {
            @Override
            public AttentionResult forward(AttentionRequest r) {
                throw new IllegalStateException("kernel failed");
            }

            @Override
            public AttentionGradients backward(AttentionBackwardRequest r) {
                throw new IllegalStateException("kernel failed");
            }
        };
        AttentionPort port = HalfPrecisionPorts.attention(rec, null, failing);
        assertThrows(IllegalStateException.class, () -> port.forward(new AttentionRequest(new Fake(q, DType.F16),
                new Fake(q, DType.F16), new Fake(q, DType.F16), AttentionOptions.builder().build())));
        assertEquals(3, rec.widened);
        assertEquals(0, rec.openBesides());
    }

    @Test
    void aFailingRoundingClosesTheKernelsOutputsToo() {
        HalfPrecisionPorts.Conversions failsToNarrow = new HalfPrecisionPorts.Conversions() {
            @Override
            public DeviceTensor widen(DeviceTensor half) {
                return rec.widen(half);
            }

            @Override
            public DeviceTensor narrow(DeviceTensor f32, DType dtype) {
                throw new IllegalStateException("rounding failed");
            }
        };
        AttentionPort port = HalfPrecisionPorts.attention(failsToNarrow, null, f32Attention());
        assertThrows(IllegalStateException.class, () -> port.forward(new AttentionRequest(new Fake(q, DType.F16),
                new Fake(q, DType.F16), new Fake(q, DType.F16), AttentionOptions.builder().build())));
        assertEquals(0, rec.openBesides(), "widened inputs, the F32 o and lse are all closed");
    }

    @Test
    void normKeepsStatisticsF32AndRoundsParameterGradientsToGammasType() {
        Shape x = Shape.of(3, 8);
        Shape c = Shape.of(8);
        Shape stats = Shape.of(3);
        NormalizationPort f32 = new NormalizationPort() {
            @Override
            public NormResult forward(NormRequest r) {
                assertEquals(DType.F32, r.input().dtype());
                assertEquals(DType.F32, r.gamma().dtype());
                return new NormResult(rec.make(x, DType.F32), rec.make(stats, DType.F32), rec.make(stats, DType.F32),
                        rec.make(x, DType.F32));
            }

            @Override
            public NormGradients backward(NormBackwardRequest r) {
                return new NormGradients(rec.make(x, DType.F32), rec.make(x, DType.F32), rec.make(c, DType.F32),
                        rec.make(c, DType.F32));
            }
        };
        NormalizationPort port = HalfPrecisionPorts.normalization(rec, null, f32);
        NormRequest request = new NormRequest(NormKind.LAYER_NORM, new Fake(x, DType.F16), new Fake(x, DType.F16),
                1.0, new Fake(c, DType.F32), new Fake(c, DType.F32), 1e-5);
        NormResult out = port.forward(request);
        assertEquals(DType.F16, out.y().dtype());
        assertEquals(DType.F16, out.sum().dtype());
        assertEquals(DType.F32, out.mean().dtype());
        assertEquals(DType.F32, out.rstd().dtype());
        NormGradients g = port.backward(new NormBackwardRequest(request, out, new Fake(x, DType.F16), null));
        assertEquals(DType.F16, g.dInput().dtype());
        assertEquals(DType.F16, g.dResidual().dtype());
        assertEquals(DType.F32, g.dGamma().dtype(), "gamma is F32, so its gradient is the kernel's own");
        assertEquals(DType.F32, g.dBeta().dtype());
        assertEquals(0, rec.openBesides(out.y(), out.mean(), out.rstd(), out.sum(), g.dInput(), g.dResidual(),
                g.dGamma(), g.dBeta()));
    }

    @Test
    void normWithA16BitGammaRoundsItsGradientsAndWidensEverySavedInput() {
        Shape x = Shape.of(3, 8);
        Shape c = Shape.of(8);
        Shape stats = Shape.of(3);
        NormalizationPort f32 = new NormalizationPort() {
            @Override
            public NormResult forward(NormRequest r) {
                return new NormResult(rec.make(x, DType.F32), rec.make(stats, DType.F32), rec.make(stats, DType.F32),
                        rec.make(x, DType.F32));
            }

            @Override
            public NormGradients backward(NormBackwardRequest r) {
                for (DeviceTensor t : new DeviceTensor[] {r.forward().input(), r.forward().residual(),
                        r.forward().gamma(), r.forward().beta(), r.saved().sum(), r.dy(), r.dSum()}) {
                    assertEquals(DType.F32, t.dtype(), "the F32 kernel sees only F32 tensors");
                }
                return new NormGradients(rec.make(x, DType.F32), rec.make(x, DType.F32), rec.make(c, DType.F32),
                        rec.make(c, DType.F32));
            }
        };
        NormalizationPort port = HalfPrecisionPorts.normalization(rec, null, f32);
        NormRequest request = new NormRequest(NormKind.LAYER_NORM, new Fake(x, DType.F16), new Fake(x, DType.F16),
                1.0, new Fake(c, DType.F16), new Fake(c, DType.F16), 1e-5);
        NormResult out = port.forward(request);
        assertEquals(DType.F32, out.rstd().dtype());
        NormGradients g = port.backward(new NormBackwardRequest(request, out, new Fake(x, DType.F16),
                new Fake(x, DType.F16)));
        assertEquals(DType.F16, g.dInput().dtype());
        assertEquals(DType.F16, g.dGamma().dtype(), "parameter gradients are stored in gamma's type");
        assertEquals(DType.F16, g.dBeta().dtype());
        assertEquals(0, rec.openBesides(out.y(), out.mean(), out.rstd(), out.sum(), g.dInput(), g.dResidual(),
                g.dGamma(), g.dBeta()));
    }

    @Test
    void aNormWhoseSecondRoundingFailsClosesEverything() {
        Shape x = Shape.of(3, 8);
        Shape stats = Shape.of(3);
        HalfPrecisionPorts.Conversions secondNarrowFails = new HalfPrecisionPorts.Conversions() {
            @Override
            public DeviceTensor widen(DeviceTensor half) {
                return rec.widen(half);
            }

            @Override
            public DeviceTensor narrow(DeviceTensor f32, DType dtype) {
                if (rec.narrowed == 1) {
                    throw new IllegalStateException("rounding failed");
                }
                return rec.narrow(f32, dtype);
            }
        };
        NormalizationPort f32 = new NormalizationPort() {
            @Override
            public NormResult forward(NormRequest r) {
                return new NormResult(rec.make(x, DType.F32), rec.make(stats, DType.F32), rec.make(stats, DType.F32),
                        rec.make(x, DType.F32));
            }

            @Override
            public NormGradients backward(NormBackwardRequest r) {
                throw new AssertionError("not called");
            }
        };
        NormalizationPort port = HalfPrecisionPorts.normalization(secondNarrowFails, null, f32);
        assertThrows(IllegalStateException.class, () -> port.forward(new NormRequest(NormKind.LAYER_NORM,
                new Fake(x, DType.F16), new Fake(x, DType.F16), 1.0, new Fake(Shape.of(8), DType.F32), null, 1e-5)));
        assertEquals(1, rec.narrowed, "y was rounded before the sum's rounding failed");
        assertEquals(0, rec.openBesides(), "widened inputs, y, mean, rstd, sum and the rounded y are all closed");
    }

    @Test
    void rotaryRoundsItsOutputAndKeepsTheTablesF32() {
        Shape table = Shape.of(4, 4);
        Fake cos = new Fake(table, DType.F32);
        RotaryPort f32 = r -> {
            assertEquals(DType.F32, r.x().dtype());
            assertSame(cos, r.cos());
            return rec.make(r.x().shape(), DType.F32);
        };
        RotaryPort port = HalfPrecisionPorts.rotary(rec, null, f32);
        DeviceTensor y = port.apply(new RotaryRequest(new Fake(q, DType.F16), cos, new Fake(table, DType.F32), null,
                RotaryLayout.INTERLEAVED, false));
        assertEquals(DType.F16, y.dtype());
        assertEquals(0, rec.openBesides(y));
    }
}
