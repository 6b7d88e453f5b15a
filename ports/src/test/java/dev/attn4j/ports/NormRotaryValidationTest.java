package dev.attn4j.ports;

import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** docs/design.md §6 for the normalisation and rotary ports. */
class NormRotaryValidationTest extends FacadeTestBase {
    private static final int C = 8;

    @Nested
    class Normalization {
        private DeviceTensor x;
        private DeviceTensor gamma;
        private DeviceTensor beta;

        @BeforeEach
        void inputs() {
            x = f32(2, 3, C);
            gamma = f32(C);
            beta = f32(C);
        }

        @Test
        void validLayerNormReachesTheKernels() {
            NormRequest req = NormRequest.layerNorm(x, gamma, beta, 1e-5).withResidual(f32(2, 3, C), 2.0);
            try (NormResult fwd = backend.normalization().forward(req)) {
                backend.normalization().backward(new NormBackwardRequest(req, fwd, f32(2, 3, C), f32(2, 3, C))).close();
            }
            assertEquals(List.of("norm.forward", "norm.backward"), engine.kernelCalls());
        }

        @Test
        void gammaOfWrongShape() {
            DeviceTensor g = f32(C - 1);
            assertRejected("gamma", "shape [8] (last dim of input)", "[7]",
                    () -> backend.normalization().forward(NormRequest.rmsNorm(x, g, 1e-6)));
        }

        @Test
        void gammaOfWrongDtype() {
            DeviceTensor x16 = zeros(DType.F16, 2, C);
            DeviceTensor g = zeros(DType.BF16, C);
            assertRejected("gamma", "dtype F32 or F16", "BF16",
                    () -> backend.normalization().forward(NormRequest.rmsNorm(x16, g, 1e-6)));
        }

        @Test
        void betaWithRmsNorm() {
            assertRejected("beta", "null for RMS_NORM", "a tensor",
                    () -> backend.normalization().forward(new NormRequest(NormKind.RMS_NORM, x, null, 1.0, gamma, beta, 1e-6)));
        }

        @Test
        void betaOfWrongShape() {
            DeviceTensor b = f32(C + 1);
            assertRejected("beta", "shape [8]", "[9]",
                    () -> backend.normalization().forward(NormRequest.layerNorm(x, gamma, b, 1e-5)));
        }

        @Test
        void residualOfWrongShape() {
            DeviceTensor r = f32(2, 4, C);
            assertRejected("residual", "shape [2, 3, 8] (as input)", "[2, 4, 8]",
                    () -> backend.normalization().forward(NormRequest.layerNorm(x, gamma, null, 1e-5).withResidual(r, 1.0)));
        }

        @Test
        void residualOfWrongDtype() {
            DeviceTensor r = zeros(DType.F16, 2, 3, C);
            assertRejected("residual", "dtype F32 (as input)", "F16",
                    () -> backend.normalization().forward(NormRequest.layerNorm(x, gamma, null, 1e-5).withResidual(r, 1.0)));
        }

        @ParameterizedTest
        @ValueSource(doubles = {0.0, -1e-5, Double.NaN, Double.POSITIVE_INFINITY})
        void epsNotPositiveAndFinite(double eps) {
            assertRejected("eps", "a number in [1.1754944E-38, 3.4028235E38] (a normal float > 0)", String.valueOf(eps),
                    () -> backend.normalization().forward(NormRequest.rmsNorm(x, gamma, eps)));
        }

        // Issue 13 item 7: 1e-300 is 0 as a float (NaN rows where the variance is 0), 1e-40 is subnormal
        // (flushed to 0 on many devices), 1e39 is infinite.
        @ParameterizedTest
        @ValueSource(doubles = {1e-300, 1e-40, 1e39})
        void epsThatIsNotANormalFloat(double eps) {
            assertRejected("eps", "a number in [1.1754944E-38, 3.4028235E38] (a normal float > 0)", String.valueOf(eps),
                    () -> backend.normalization().forward(NormRequest.rmsNorm(x, gamma, eps)));
        }

        @ParameterizedTest
        @ValueSource(doubles = {1e39, -1e39, Double.NEGATIVE_INFINITY})
        void residualScaleThatOverflowsAFloat(double alpha) {
            DeviceTensor r = f32(2, 3, C);
            assertRejected("residualScale", "a number that is finite as a float (|α| <= 3.4028235E38)", String.valueOf(alpha),
                    () -> backend.normalization().forward(NormRequest.rmsNorm(x, gamma, 1e-6).withResidual(r, alpha)));
        }

        @Test
        void nonFiniteResidualScale() {
            DeviceTensor r = f32(2, 3, C);
            assertRejected("residualScale", "a number that is finite as a float (|α| <= 3.4028235E38)", "NaN",
                    () -> backend.normalization().forward(NormRequest.rmsNorm(x, gamma, 1e-6).withResidual(r, Double.NaN)));
        }

        @Test
        void integerInput() {
            DeviceTensor xi = zeros(DType.I32, 2, C);
            assertRejected("input", "a floating dtype", "I32",
                    () -> backend.normalization().forward(NormRequest.rmsNorm(xi, gamma, 1e-6)));
        }

        @Nested
        class Backward {
            private NormRequest req;
            private NormResult fwd;

            @BeforeEach
            void forwardFirst() {
                req = NormRequest.layerNorm(x, gamma, beta, 1e-5);
                fwd = backend.normalization().forward(req);
            }

            private void assertBackwardRejected(String argument, String expected, String actual, NormResult saved,
                                                DeviceTensor dy, DeviceTensor dSum) {
                int live = engine.liveTensors();
                var e = org.junit.jupiter.api.Assertions.assertThrowsExactly(InvalidRequestException.class,
                        () -> backend.normalization().backward(new NormBackwardRequest(req, saved, dy, dSum)));
                assertEquals(argument, e.argument());
                assertEquals(argument + ": expected " + expected + ", got " + actual, e.getMessage());
                assertEquals(List.of("norm.forward"), engine.kernelCalls(), "backward kernel must not run");
                assertEquals(live, engine.liveTensors());
            }

            @Test
            void upstreamGradientOfWrongShape() {
                assertBackwardRejected("dy", "shape [2, 3, 8] (as input)", "[6, 8]", fwd, f32(6, C), null);
            }

            @Test
            void upstreamGradientOfWrongDtype() {
                assertBackwardRejected("dy", "dtype F32 (as input)", "F16", fwd, zeros(DType.F16, 2, 3, C), null);
            }

            @Test
            void savedStatisticsOfWrongShape() {
                NormResult bad = new NormResult(fwd.y(), fwd.mean(), f32(5), null);
                assertBackwardRejected("saved.rstd", "F32 [6] (as the forward saved it)", "F32 [5]", bad, f32(2, 3, C), null);
            }

            @Test
            void layerNormWithoutSavedMean() {
                NormResult bad = new NormResult(fwd.y(), null, fwd.rstd(), null);
                assertBackwardRejected("saved.mean", "F32 [6] (saved by the forward)", "null", bad, f32(2, 3, C), null);
            }

            @Test
            void savedStatisticsOfWrongDtype() {
                NormResult bad = new NormResult(fwd.y(), zeros(DType.BF16, 6), fwd.rstd(), null);
                assertBackwardRejected("saved.mean", "F32 [6] (as the forward saved it)", "BF16 [6]", bad, f32(2, 3, C), null);
            }

            // Issue 13 item 4: saved.sum's dtype was not checked (cpu: ClassCastException; opencl: a 2-byte
            // buffer read as F32, out of bounds).
            @Test
            void savedSumOfWrongDtype() {
                NormRequest withResidual = req.withResidual(f32(2, 3, C), 1.0);
                try (NormResult saved = backend.normalization().forward(withResidual)) {
                    NormResult bad = new NormResult(saved.y(), saved.mean(), saved.rstd(), zeros(DType.F16, 2, 3, C));
                    int before = engine.liveTensors();
                    InvalidRequestException e = org.junit.jupiter.api.Assertions.assertThrowsExactly(
                            InvalidRequestException.class, () -> backend.normalization().backward(
                                    new NormBackwardRequest(withResidual, bad, f32(2, 3, C), null)));
                    assertEquals("saved.sum: expected F32 [2, 3, 8] (as the forward saved it), got F16 [2, 3, 8]",
                            e.getMessage());
                    assertEquals(before + 1, engine.liveTensors(), "only dy was made; no kernel output");
                    assertEquals(List.of("norm.forward", "norm.forward"), engine.kernelCalls());
                }
            }

            @Test
            void savedSumOfWrongShape() {
                NormRequest withResidual = req.withResidual(f32(2, 3, C), 1.0);
                try (NormResult saved = backend.normalization().forward(withResidual)) {
                    NormResult bad = new NormResult(saved.y(), saved.mean(), saved.rstd(), f32(6, C));
                    InvalidRequestException e = org.junit.jupiter.api.Assertions.assertThrowsExactly(
                            InvalidRequestException.class, () -> backend.normalization().backward(
                                    new NormBackwardRequest(withResidual, bad, f32(2, 3, C), null)));
                    assertEquals("saved.sum: expected F32 [2, 3, 8] (as the forward saved it), got F32 [6, 8]",
                            e.getMessage());
                    assertEquals(List.of("norm.forward", "norm.forward"), engine.kernelCalls());
                }
            }

            @Test
            void residualGradientWithoutResidual() {
                assertBackwardRejected("dSum", "null without a residual", "a tensor", fwd, f32(2, 3, C), f32(2, 3, C));
            }
        }
    }

    @Nested
    class Rotary {
        private DeviceTensor x;
        private DeviceTensor table;

        @BeforeEach
        void inputs() {
            x = f32(B, SQ, H, D);
            table = f32(SQ, D / 2);
        }

        private DeviceTensor apply(DeviceTensor x, DeviceTensor cos, DeviceTensor sin, DeviceTensor scale) {
            return backend.rotary().apply(new RotaryRequest(x, cos, sin, scale, RotaryLayout.SPLIT_HALF, false));
        }

        @Test
        void validRotationReachesTheKernel() {
            DeviceTensor partial = f32(SQ, 2); // rotates the first 4 features only
            apply(x, partial, partial, partial).close();
            assertEquals(List.of("rotary.apply"), engine.kernelCalls());
        }

        @Test
        void xOfRankThree() {
            DeviceTensor x3 = f32(SQ, H, D);
            assertRejected("x", "rank 4 [B, S, H, D]", "[4, 4, 8]", () -> apply(x3, table, table, null));
        }

        @Test
        void cosOfRankOne() {
            DeviceTensor cos = f32(SQ);
            assertRejected("cos", "rank 2 [S, R/2]", "[4]", () -> apply(x, cos, table, null));
        }

        @Test
        void cosWithRowsOtherThanSequenceLength() {
            DeviceTensor cos = f32(SQ + 1, D / 2);
            assertRejected("cos", "4 rows (S of x)", "5", () -> apply(x, cos, table, null));
        }

        @Test
        void cosWiderThanHalfTheHead() {
            DeviceTensor cos = f32(SQ, D / 2 + 1);
            assertRejected("cos", "at most D/2 = 4 columns", "5", () -> apply(x, cos, cos, null));
        }

        @Test
        void cosOfWrongDtype() {
            DeviceTensor cos = zeros(DType.F16, SQ, D / 2);
            assertRejected("cos", "dtype F32", "F16", () -> apply(x, cos, table, null));
        }

        @Test
        void sinShapedUnlikeCos() {
            DeviceTensor sin = f32(SQ, D / 2 - 1);
            assertRejected("sin", "F32 [4, 4] (as cos)", "F32 [4, 3]", () -> apply(x, table, sin, null));
        }

        @Test
        void scaleShapedUnlikeCos() {
            DeviceTensor scale = zeros(DType.BF16, SQ, D / 2);
            assertRejected("scale", "F32 [4, 4] (as cos)", "BF16 [4, 4]", () -> apply(x, table, table, scale));
        }

        @Test
        void missingLayout() {
            assertRejected("layout", "INTERLEAVED or SPLIT_HALF", "null",
                    () -> backend.rotary().apply(new RotaryRequest(x, table, table, null, null, false)));
        }
    }
}
