package dev.attn4j.ports;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/design.md §6: every attention request is validated before any kernel runs. */
class AttentionValidationTest extends FacadeTestBase {
    // made before each test, so that the calls under test allocate nothing themselves
    private DeviceTensor q;
    private DeviceTensor k;
    private DeviceTensor v;

    @org.junit.jupiter.api.BeforeEach
    void makeInputs() {
        q = q();
        k = kv();
        v = kv();
    }

    private AttentionResult forward(DeviceTensor q, DeviceTensor k, DeviceTensor v, AttentionOptions options) {
        return backend.attention().forward(new AttentionRequest(q, k, v, options));
    }

    private AttentionResult forward(AttentionOptions options) {
        return forward(q, k, v, options);
    }

    @Test
    void aValidRequestReachesTheKernel() {
        try (AttentionResult r = forward(AttentionOptions.builder().causal(true).build())) {
            assertEquals(List.of("attention.forward"), engine.kernelCalls());
            assertEquals(q.shape(), r.o().shape());
        }
    }

    @Nested
    class Shapes {
        @Test
        void qOfRankThree() {
            DeviceTensor q3 = f32(B, SQ, H * D);
            assertRejected("q", "rank 4 [B, Sq, H, D]", "[1, 4, 32]", () -> forward(q3, k, v, null));
        }

        @Test
        void kOfRankFive() {
            DeviceTensor k5 = f32(B, SK, HKV, D, 1);
            assertRejected("k", "rank 4 [B, Sk, Hkv, D]", "[1, 6, 2, 8, 1]", () -> forward(q, k5, v, null));
        }

        @Test
        void integerQueries() {
            DeviceTensor qi = zeros(DType.I32, B, SQ, H, D);
            assertRejected("q", "a floating dtype", "I32", () -> forward(qi, k, v, null));
        }

        @Test
        void keysOfAnotherDtype() {
            DeviceTensor k16 = zeros(DType.F16, B, SK, HKV, D);
            assertRejected("k", "dtype F32 (as q)", "F16", () -> forward(q, k16, v, null));
        }

        @Test
        void valuesOfAnotherDtype() {
            DeviceTensor vb = zeros(DType.BF16, B, SK, HKV, D);
            assertRejected("v", "dtype F32 (as q)", "BF16", () -> forward(q, k, vb, null));
        }

        @Test
        void headDimMismatch() {
            DeviceTensor k = f32(B, SK, HKV, 16);
            DeviceTensor v = f32(B, SK, HKV, 16);
            assertRejected("k", "head dim 8 (as q)", "16", () -> forward(q, k, v, null));
        }

        @Test
        void valuesShapedUnlikeKeys() {
            DeviceTensor v = f32(B, SK - 1, HKV, D);
            assertRejected("v", "shape [1, 6, 2, 8] (as k)", "[1, 5, 2, 8]", () -> forward(q, k, v, null));
        }

        @Test
        void kvHeadsNotDividingQueryHeads() {
            DeviceTensor k = f32(B, SK, 3, D);
            DeviceTensor v = f32(B, SK, 3, D);
            assertRejected("k", "a KV head count dividing H = 4 (H % Hkv == 0)", "3 KV heads",
                    () -> forward(q, k, v, null));
        }

        @Test
        void batchMismatch() {
            DeviceTensor k = f32(2, SK, HKV, D);
            DeviceTensor v = f32(2, SK, HKV, D);
            assertRejected("k", "batch 1 (as q)", "2", () -> forward(q, k, v, null));
        }

        @Test
        void missingQueries() {
            assertRejected("q", "a tensor", "null", () -> forward(null, k, v, null));
        }

        @Test
        void missingRequest() {
            assertRejected("request", "an AttentionRequest", "null", () -> backend.attention().forward(null));
        }
    }

    @Nested
    class Scalars {
        static final String SCALE_RULE = "a finite non-zero number whose magnitude is a normal float, in "
                + "[1.1754944E-38, 3.4028235E38] (kernels use it in fp32)";
        static final String SOFTCAP_RULE = "0 (off) or a number in [1.1754944E-38, 3.4028235E38] (a normal float: "
                + "kernels use it and its reciprocal in fp32)";
        @ParameterizedTest
        @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0})
        void nonFiniteOrZeroScale(double scale) {
            assertRejected("scale", SCALE_RULE, String.valueOf(scale),
                    () -> forward(AttentionOptions.builder().scale(scale).build()));
        }

        @Test
        void negativeScaleIsAllowed() {
            forward(AttentionOptions.builder().scale(-0.5).build()).close();
            assertEquals(List.of("attention.forward"), engine.kernelCalls());
        }

        @Test
        void windowLeftBelowMinusOne() {
            assertRejected("windowLeft", ">= -1 (-1 = unbounded)", "-2",
                    () -> forward(AttentionOptions.builder().window(-2, 0).build()));
        }

        @Test
        void windowRightBelowMinusOne() {
            assertRejected("windowRight", ">= -1 (-1 = unbounded)", "-5",
                    () -> forward(AttentionOptions.builder().window(3, -5).build()));
        }

        @ParameterizedTest
        @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, -1.0})
        void badSoftcap(double softcap) {
            assertRejected("softcap", SOFTCAP_RULE, String.valueOf(softcap),
                    () -> forward(AttentionOptions.builder().softcap(softcap).build()));
        }

        // Issue 13 item 7: scalars are checked as the floats the kernels use. 1e39 is +inf as a float (every
        // output NaN), 1e-300 is 0 (softcap silently off), and a subnormal's reciprocal overflows.
        @ParameterizedTest
        @ValueSource(doubles = {1e39, -1e39, 1e-300, -1e-300, 1e-40, 3.5e38})
        void scaleThatIsNotANormalFloat(double scale) {
            assertRejected("scale", SCALE_RULE, String.valueOf(scale),
                    () -> forward(AttentionOptions.builder().scale(scale).build()));
        }

        @ParameterizedTest
        @ValueSource(doubles = {1e39, 1e-300, 1e-40, Double.MIN_VALUE})
        void softcapThatIsNotANormalFloat(double softcap) {
            assertRejected("softcap", SOFTCAP_RULE, String.valueOf(softcap),
                    () -> forward(AttentionOptions.builder().softcap(softcap).build()));
        }

        @Test
        void extremeButRepresentableScalarsAreAllowed() {
            forward(AttentionOptions.builder().scale((double) Float.MIN_NORMAL).softcap(3e38).build()).close();
            forward(AttentionOptions.builder().scale(-3e38).softcap((double) Float.MIN_NORMAL).build()).close();
            assertEquals(List.of("attention.forward", "attention.forward"), engine.kernelCalls());
        }

        @ParameterizedTest
        @ValueSource(doubles = {-0.1, 1.0, 1.5, Double.NaN})
        void dropoutOutsideUnitInterval(double p) {
            assertRejected("dropout.p", "a probability in [0, 1)", String.valueOf(p),
                    () -> forward(AttentionOptions.builder().dropout(new Dropout(p, 1L, 0L)).build()));
        }
    }

    @Nested
    class PositionBiases {
        @Test
        void alibiSlopesOfWrongLength() {
            DeviceTensor slopes = f32(H - 1);
            assertRejected("alibiSlopes", "shape [4] or [1, 4]", "[3]",
                    () -> forward(AttentionOptions.builder().alibiSlopes(slopes).build()));
        }

        @Test
        void alibiSlopesOfWrongBatch() {
            DeviceTensor slopes = f32(2, H);
            assertRejected("alibiSlopes", "shape [4] or [1, 4]", "[2, 4]",
                    () -> forward(AttentionOptions.builder().alibiSlopes(slopes).build()));
        }

        @Test
        void alibiSlopesOfWrongDtype() {
            DeviceTensor slopes = zeros(DType.F16, H);
            assertRejected("alibiSlopes", "dtype F32", "F16",
                    () -> forward(AttentionOptions.builder().alibiSlopes(slopes).build()));
        }

        @Test
        void biasTableOfWrongWidth() {
            DeviceTensor table = f32(H, SQ + SK);
            assertRejected("biasTable", "shape [4, 9] [H, Sq + Sk - 1]", "[4, 10]",
                    () -> forward(AttentionOptions.builder().biasTable(table).build()));
        }

        @Test
        void biasTableOfWrongDtype() {
            DeviceTensor table = zeros(DType.BF16, H, SQ + SK - 1);
            assertRejected("biasTable", "dtype F32", "BF16",
                    () -> forward(AttentionOptions.builder().biasTable(table).build()));
        }

        @Test
        void biasTableGradientAskedOfForward() {
            DeviceTensor table = f32(H, SQ + SK - 1);
            assertRejected("biasTableGrad", "false in a forward request (it asks backward for a gradient)", "true",
                    () -> forward(AttentionOptions.builder().biasTable(table).biasTableGrad(true).build()));
        }

        @Test
        void biasTableGradientWithoutTable() {
            assertRejected("biasTableGrad", "a biasTable to differentiate", "no biasTable",
                    () -> AttentionOptions.builder().biasTableGrad(true).build());
        }

        @Test
        void denseBiasOfWrongShape() {
            DeviceTensor bias = f32(1, 1, SQ, SK - 1);
            assertRejected("denseBias", "shape [1|1, 4|1, 4, 6]", "[1, 1, 4, 5]",
                    () -> forward(AttentionOptions.builder().denseBias(bias).build()));
        }
    }

    @Nested
    class Masks {
        @Test
        void denseMaskOfWrongDtype() {
            DeviceTensor mask = f32(1, 1, SQ, SK);
            assertRejected("denseMask", "dtype BOOL", "F32",
                    () -> forward(AttentionOptions.builder().denseMask(mask).build()));
        }

        @Test
        void denseMaskOfWrongShape() {
            DeviceTensor mask = zeros(DType.BOOL, SQ, SK);
            assertRejected("denseMask", "shape [1|1, 4|1, 4, 6]", "[4, 6]",
                    () -> forward(AttentionOptions.builder().denseMask(mask).build()));
        }

        private AttentionResult flashMasked(DeviceTensor mask, boolean causal) {
            return forward(AttentionOptions.builder().causal(causal).flashMask(mask).build());
        }

        @Test
        void flashMaskOfWrongDtype() {
            DeviceTensor mask = f32(B, 1, SK, 1);
            assertRejected("flashMask", "dtype I32", "F32", () -> flashMasked(mask, true));
        }

        @Test
        void flashMaskOfWrongRank() {
            DeviceTensor mask = ints(new int[SK], B, SK, 1);
            assertRejected("flashMask", "rank 4 [B, Hm, Sk, n]", "[1, 6, 1]", () -> flashMasked(mask, true));
        }

        @Test
        void flashMaskOfWrongBatch() {
            DeviceTensor mask = ints(new int[2 * SK], 2, 1, SK, 1);
            assertRejected("flashMask", "batch 1 (as q)", "2", () -> flashMasked(mask, true));
        }

        @Test
        void flashMaskHeadsNotDividingQueryHeads() {
            DeviceTensor mask = ints(new int[3 * SK], B, 3, SK, 1);
            assertRejected("flashMask", "a mask head count dividing H = 4", "3", () -> flashMasked(mask, true));
        }

        @Test
        void flashMaskOfWrongColumnCount() {
            DeviceTensor mask = ints(new int[SK - 1], B, 1, SK - 1, 1);
            assertRejected("flashMask", "Sk = 6 columns", "5", () -> flashMasked(mask, true));
        }

        @Test
        void flashMaskWithThreeBounds() {
            DeviceTensor mask = ints(new int[3 * SK], B, 1, SK, 3);
            assertRejected("flashMask", "n in {1, 2, 4}", "3", () -> flashMasked(mask, false));
        }

        @Test
        void flashMaskWithFourBoundsWhileCausal() {
            DeviceTensor mask = ints(new int[4 * SK], B, 1, SK, 4);
            assertRejected("causal", "false for a FlashMask with n = 4 ([LTS, LTE, UTS, UTE], the non-causal form)",
                    "true (this mask is not causal: pass causal=false)", () -> flashMasked(mask, true));
        }

        @Test
        void flashMaskWithOneBoundWhileNotCausal() {
            DeviceTensor mask = ints(new int[SK], B, 1, SK, 1);
            // the usual way to get here: a causal FlashMask uploaded, causal(mask.causal()) forgotten
            assertRejected("causal", "true for a FlashMask with n = 1 ([LTS], the causal form)",
                    "false (this mask is causal: pass causal=true)", () -> flashMasked(mask, false));
        }

        @Test
        void negativeRowIndexIsFoundByTheFacade() {
            int[] rows = {4, 4, -1, 4, 4, 4};
            DeviceTensor mask = ints(rows, B, 1, SK, 1);
            assertRejected("flashMask", "row indices >= 0 (values above Sq = 4 act as Sq)", "-1 at column 2, slot 0",
                    () -> flashMasked(mask, true));
            assertFalse(engine.transferCalls().contains("downloadInts"),
                    "the range was recorded at upload: no device read is needed");
        }

        @Test
        void aMaskTheFacadeDidNotUploadIsReadOnceNotOnEveryCall() {
            int[] rows = {4, 4, 1, 4, 4, 4};
            DeviceTensor mask = engine.tensors().uploadInts(rows, dev.attn4j.ports.tensor.Shape.of(B, 1, SK, 1));
            flashMasked(mask, true).close();
            flashMasked(mask, true).close();
            assertEquals(1, engine.transferCalls().stream().filter("downloadInts"::equals).count(),
                    "indices cannot change unless an op writes them, so one check suffices");
            assertEquals(List.of("attention.forward", "attention.forward"), engine.kernelCalls());
        }

        @Test
        void aNegativeIndexInAMaskTheFacadeDidNotUploadIsFound() {
            int[] rows = {4, 4, 4, 4, -3, 4};
            DeviceTensor mask = engine.tensors().uploadInts(rows, dev.attn4j.ports.tensor.Shape.of(B, 1, SK, 1));
            assertRejected("flashMask", "row indices >= 0 (values above Sq = 4 act as Sq)", "-3 at column 4, slot 0",
                    () -> flashMasked(mask, true));
        }

        @Test
        void negativeRowIndexInALaterSlotAndHead() {
            int[] rows = new int[2 * SK * 2];
            java.util.Arrays.fill(rows, 1);
            rows[SK * 2 + 5 * 2 + 1] = -7; // mask head 1, column 5, slot 1
            DeviceTensor mask = ints(rows, B, 2, SK, 2);
            assertRejected("flashMask", "row indices >= 0 (values above Sq = 4 act as Sq)", "-7 at column 5, slot 1",
                    () -> flashMasked(mask, false));
        }

        @Test
        void rowIndicesAboveSqAreAccepted() {
            DeviceTensor mask = ints(new int[] {0, 1, 2, 3, 99, Integer.MAX_VALUE}, B, 1, SK, 1);
            flashMasked(mask, true).close();
            assertEquals(List.of("attention.forward"), engine.kernelCalls());
        }
    }

    @Nested
    class Backward {
        private DeviceTensor dO;
        private AttentionResult fwd;

        @org.junit.jupiter.api.BeforeEach
        void forwardFirst() {
            dO = q();
            fwd = forward(q, k, v, null);
            // the forward ran; every test below checks that the backward kernel did not
            assertEquals(List.of("attention.forward"), engine.kernelCalls());
        }

        private void backward(DeviceTensor dO, DeviceTensor o, DeviceTensor lse) {
            backend.attention().backward(new AttentionBackwardRequest(dO, q, k, v, o, lse, null)).close();
        }

        private void assertBackwardRejected(String argument, String expected, String actual,
                                            DeviceTensor dO, DeviceTensor o, DeviceTensor lse) {
            int live = engine.liveTensors();
            var e = org.junit.jupiter.api.Assertions.assertThrowsExactly(InvalidRequestException.class,
                    () -> backward(dO, o, lse));
            assertEquals(argument, e.argument());
            assertEquals(argument + ": expected " + expected + ", got " + actual, e.getMessage());
            assertEquals(List.of("attention.forward"), engine.kernelCalls(), "backward kernel must not run");
            assertEquals(live, engine.liveTensors());
        }

        @Test
        void aValidBackwardReachesTheKernel() {
            backward(dO, fwd.o(), fwd.lse());
            assertEquals(List.of("attention.forward", "attention.backward"), engine.kernelCalls());
        }

        @Test
        void upstreamGradientOfWrongShape() {
            assertBackwardRejected("dO", "shape [1, 4, 4, 8] (as q)", "[1, 4, 4, 7]", f32(B, SQ, H, D - 1),
                    fwd.o(), fwd.lse());
        }

        @Test
        void upstreamGradientOfWrongDtype() {
            assertBackwardRejected("dO", "dtype F32", "F16", zeros(DType.F16, B, SQ, H, D), fwd.o(), fwd.lse());
        }

        @Test
        void outputOfWrongShape() {
            assertBackwardRejected("o", "shape [1, 4, 4, 8] (as q)", "[1, 6, 2, 8]", dO, kv(), fwd.lse());
        }

        @Test
        void lseOfWrongShape() {
            assertBackwardRejected("lse", "shape [1, 4, 4] [B, H, Sq]", "[1, 4, 5]", dO, fwd.o(), f32(B, H, SQ + 1));
        }

        @Test
        void lseOfWrongDtype() {
            assertBackwardRejected("lse", "dtype F32", "BF16", dO, fwd.o(), zeros(DType.BF16, B, H, SQ));
        }

        @Test
        void missingLse() {
            assertBackwardRejected("lse", "a tensor", "null", dO, fwd.o(), null);
        }

        @Test
        void closedOutput() {
            DeviceTensor o = q();
            o.close();
            assertBackwardRejected("o", "an open tensor", "a closed tensor", dO, o, fwd.lse());
        }
    }
}
