package dev.attn4j.backend.cpu;

import dev.attn4j.oracle.GluLayouts;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU activation port against double-precision formulas kept here (the shared float64 oracle checks every
 * backend; these catch what only this backend can get wrong): accuracy under PyTorch's pass rule, analytic
 * gradients against finite differences, GLU's half order, PyTorch's special values, and the twins bit for bit.
 */
class CpuActivationTest {
    private Backend backend;

    @BeforeEach
    void open() {
        backend = Backend.of(new CpuEngine(2));
    }

    @AfterEach
    void close() {
        backend.close();
    }

    // ------------------------------------------------------------------------------------------ double formulas

    /**
     * {@code erfc(z)}: {@code 1 − erf} by erf's series (all terms positive) below ½, where nothing cancels;
     * Laplace's continued fraction above (2000 terms reach double precision at ½, fewer suffice further out).
     */
    static double erfc(double z) {
        if (z < 0) {
            return 2 - erfc(-z);
        }
        if (z < 0.5) {
            double term = z;
            double sum = z;
            for (int n = 1; n < 200 && term > 1e-18 * sum; n++) {
                term *= 2 * z * z / (2 * n + 1);
                sum += term;
            }
            return 1 - 2 / Math.sqrt(Math.PI) * Math.exp(-z * z) * sum;
        }
        double f = z;
        for (int n = z < 2 ? 2000 : 100; n >= 1; n--) {
            f = z + (n / 2.0) / f;
        }
        return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
    }

    static double cdf(double x) {
        return erfc(-x / Math.sqrt(2)) / 2;
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    static double value(Activation f, double x) {
        return switch (f) {
            case GELU -> x * cdf(x);
            // x/2·(1 + tanh(u)) = x·σ(2u), without 1 + tanh's cancellation for negative x
            case GELU_TANH -> x * sigmoid(2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x));
            case SILU -> x * sigmoid(x);
            case RELU -> Math.max(x, 0);
        };
    }

    /** The derivatives as the port documents them (the finite-difference test checks these formulas). */
    static double derivative(Activation f, double x) {
        return switch (f) {
            case GELU -> cdf(x) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
            case GELU_TANH -> {
                // ½(1 + t) = σ(2u) and ½(1 − t²) = 2σ(2u)σ(−2u), with u = k·(x + 0.044715x³)
                double k = Math.sqrt(2 / Math.PI);
                double z = 2 * k * (x + 0.044715 * x * x * x);
                yield sigmoid(z) + 2 * x * sigmoid(z) * sigmoid(-z) * k * (1 + 3 * 0.044715 * x * x);
            }
            case SILU -> sigmoid(x) * (1 + x * sigmoid(-x));
            case RELU -> x > 0 ? 1 : 0;
        };
    }

    @Test
    void doubleErfcMatchesPublishedValues() {
        // mpmath, 30 digits; 1e-14 relative is far below anything a float result can show
        double[][] known = {{0.5, 0.4795001221869535}, {1.0, 0.15729920705028513}, {2.5, 0.0004069520174449589},
                {3.0, 2.209049699858544e-05}, {5.0, 1.537459794428035e-12}, {8.0, 1.1224297172982926e-29}};
        for (double[] k : known) {
            assertEquals(k[1], erfc(k[0]), 1e-14 * k[1], "erfc(" + k[0] + ")");
        }
    }

    // ---------------------------------------------------------------------------------------------- accuracy

    /** Inputs: a dense grid over [−12, 12] (both tails) and unit Gaussians. */
    private static float[] inputs() {
        SplittableRandom rnd = new SplittableRandom(1);
        float[] x = new float[24_001 + 4_000];
        for (int i = 0; i <= 24_000; i++) {
            x[i] = -12f + i * 1e-3f;
        }
        for (int i = 24_001; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 2);
        }
        return x;
    }

    /**
     * A naive fp32 implementation, the {@code ref} of PyTorch's pass rule: the textbook formula in float, with the
     * transcendental function correctly rounded to float (what a good libm's {@code erff}, {@code tanhf},
     * {@code expf} give).
     */
    private static float naive(Activation f, float x) {
        return switch (f) {
            case GELU -> x * 0.5f * (1f + (float) (1 - erfc(x * (float) (1 / Math.sqrt(2)))));
            case GELU_TANH -> 0.5f * x * (1f + (float) Math.tanh((float) Math.sqrt(2 / Math.PI) * (x + 0.044715f * x * x * x)));
            case SILU -> x / (1f + (float) Math.exp(-x));
            case RELU -> Math.max(x, 0f);
        };
    }

    private static float naiveGrad(Activation f, float x) {
        return switch (f) {
            case GELU -> (float) cdf(x) + x * (float) (Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI));
            case GELU_TANH -> {
                float k = (float) Math.sqrt(2 / Math.PI);
                float t = (float) Math.tanh(k * (x + 0.044715f * x * x * x));
                yield 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * k * (1f + 3f * 0.044715f * x * x);
            }
            case SILU -> {
                float s = 1f / (1f + (float) Math.exp(-x));
                yield s * (1f + x * (1f - s));
            }
            case RELU -> x > 0 ? 1f : 0f;
        };
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void passesPyTorchsRuleAgainstDouble(Activation f) {
        float[] x = inputs();
        float[] dy = new float[x.length];
        java.util.Arrays.fill(dy, 1f);
        DeviceTensor xt = backend.tensors().upload(x, Shape.of(x.length), DType.F32);
        DeviceTensor dyt = backend.tensors().upload(dy, Shape.of(x.length), DType.F32);
        ActivationRequest fwd = new ActivationRequest(f, xt);
        float[] y = backend.tensors().download(backend.activation().forward(fwd));
        float[] g = backend.tensors().download(backend.activation().backward(new ActivationBackwardRequest(fwd, dyt)));
        double errY = 0, naiveY = 0, errG = 0, naiveG = 0;
        for (int i = 0; i < x.length; i++) {
            double want = value(f, x[i]);
            double wantG = derivative(f, x[i]);
            errY = Math.max(errY, Math.abs(y[i] - want));
            naiveY = Math.max(naiveY, Math.abs(naive(f, x[i]) - want));
            errG = Math.max(errG, Math.abs(g[i] - wantG));
            naiveG = Math.max(naiveG, Math.abs(naiveGrad(f, x[i]) - wantG));
        }
        String what = f + ": forward max error " + errY + " (naive fp32 " + naiveY + "), backward " + errG + " (naive "
                + naiveG + ")";
        assertTrue(errY <= Math.max(1e-5, 5 * naiveY), what);
        assertTrue(errG <= Math.max(1e-5, 5 * naiveG), what);
        // Tighter than the rule, to catch a regression long before it fails it: a few fp32 ulps.
        assertTrue(errY <= 4e-7 * 12, what);
        assertTrue(errG <= 1e-6, what);
    }

    @Test
    void normalTailKeepsItsRelativeAccuracyFarIntoTheTail() {
        // Where 1 + erf(x/√2) would cancel (x ≪ 0), Q keeps its digits: the bound ActivationMath documents, over a
        // grid of step 1e-4 up to TAIL_T0 (the tables' 14 intervals, about 10⁴ points each) and every interval's
        // two edges, where the index changes and |u| = ½.
        float t0 = ActivationMath.TAIL_T0;
        int steps = (int) (t0 * 1e4f);
        float[] t = new float[steps + 1 + 3 * 14];
        for (int i = 0; i <= steps; i++) {
            t[i] = i * 1e-4f;
        }
        for (int j = 0; j < 14; j++) {
            float edge = j + 0.5f;
            t[steps + 1 + 3 * j] = Math.min(edge, t0);
            t[steps + 2 + 3 * j] = Math.min(Math.nextDown(edge), t0);
            t[steps + 3 + 3 * j] = Math.min(Math.nextUp(edge), t0);
        }
        double worst = 0;
        for (float v : t) {
            double want = erfc(v / Math.sqrt(2)) / 2;
            double rel = Math.abs(ActivationMath.normalTail(v) - want) / want;
            double bound = 2.5e-7 + v * 0x1p-24;
            assertTrue(rel <= bound, "Q(" + v + "): relative error " + rel + " > " + bound);
            worst = Math.max(worst, rel);
        }
        // the fit is not loose either: the bound is within a factor 1.5 of what the grid reaches
        assertTrue(worst > 5e-7, "worst relative error " + worst);
        // beyond T0, Q (below the smallest normal float there) is flushed to 0, and +∞ gives 0, NaN NaN
        assertEquals(0f, ActivationMath.normalTail(Math.nextUp(t0)), 0f);
        assertEquals(0f, ActivationMath.normalTail(100f), 0f);
        assertEquals(0f, ActivationMath.normalTail(Float.POSITIVE_INFINITY), 0f);
        assertTrue(Float.isNaN(ActivationMath.normalTail(Float.NaN)));
    }

    @Test
    void densityKeepsItsRelativeAccuracy() {
        // φ = 2^h with h = −x²·log₂e/2 − log₂√(2π) rounded twice (the product and the fma): ≈ x²·2⁻²⁴ relative, plus
        // the 2^r polynomial's 1.6e-7
        float t0 = ActivationMath.TAIL_T0;
        for (int i = -130_000; i <= 130_000; i++) {
            float x = Math.max(-t0, Math.min(t0, i * 1e-4f));
            double want = Math.exp(-(double) x * x / 2) / Math.sqrt(2 * Math.PI);
            double rel = Math.abs(ActivationMath.density(x) - want) / want;
            double bound = 2.5e-7 + (double) x * x * 0x1p-24;
            assertTrue(rel <= bound, "φ(" + x + "): relative error " + rel + " > " + bound);
        }
        assertEquals(0f, ActivationMath.density(Math.nextUp(t0)), 0f);
        assertEquals(0f, ActivationMath.density(Float.NEGATIVE_INFINITY), 0f);
        assertTrue(Float.isNaN(ActivationMath.density(Float.NaN)));
    }

    @ParameterizedTest
    @EnumSource(value = Activation.class, names = {"GELU", "GELU_TANH", "SILU"})
    void gradientsMatchFiniteDifferences(Activation f) {
        // Central differences of the double formula, h = 1e-5: truncation ~h², rounding ~1e-16/h, both ≪ 1e-6.
        double h = 1e-5;
        float[] x = new float[401];
        for (int i = 0; i < x.length; i++) {
            x[i] = -8f + i * 0.04f;
        }
        float[] g = gradient(f, x);
        for (int i = 0; i < x.length; i++) {
            double fd = (value(f, x[i] + h) - value(f, x[i] - h)) / (2 * h);
            assertEquals(fd, g[i], 1e-6 * Math.max(1, Math.abs(fd)), f + "'(" + x[i] + ")");
        }
    }

    private float[] gradient(Activation f, float[] x) {
        float[] ones = new float[x.length];
        java.util.Arrays.fill(ones, 1f);
        DeviceTensor xt = backend.tensors().upload(x, Shape.of(x.length), DType.F32);
        DeviceTensor dy = backend.tensors().upload(ones, Shape.of(x.length), DType.F32);
        return backend.tensors().download(
                backend.activation().backward(new ActivationBackwardRequest(new ActivationRequest(f, xt), dy)));
    }

    @Test
    void reluBackwardPassesDyOnlyWherePositive() {
        float[] x = {-1f, -0f, 0f, 2f, Float.NaN};
        float[] dy = {3f, 3f, 3f, -3f, 3f};
        DeviceTensor xt = backend.tensors().upload(x, Shape.of(5), DType.F32);
        DeviceTensor dyt = backend.tensors().upload(dy, Shape.of(5), DType.F32);
        float[] dx = backend.tensors().download(backend.activation().backward(
                new ActivationBackwardRequest(new ActivationRequest(Activation.RELU, xt), dyt)));
        assertArrayEquals(new float[] {0f, 0f, 0f, -3f, 0f}, dx);
    }

    /** PyTorch 1.13's values at the special points (float32, CPU), for y and dy/dx. */
    @Test
    void specialValuesAsPyTorch() {
        float inf = Float.POSITIVE_INFINITY;
        float nan = Float.NaN;
        float[] x = {-inf, -100f, -0f, 0f, 100f, inf, nan};
        float[][] want = {
                {nan, 0f, 0f, 0f, 100f, inf, nan}, {nan, 0f, 0.5f, 0.5f, 1f, nan, nan},   // GELU
                {nan, -0f, -0f, 0f, 100f, inf, nan}, {nan, 0f, 0.5f, 0.5f, 1f, nan, nan},  // GELU_TANH
                {nan, -0f, -0f, 0f, 100f, inf, nan}, {nan, -0f, 0.5f, 0.5f, 1f, nan, nan}, // SILU
        };
        Activation[] fs = {Activation.GELU, Activation.GELU_TANH, Activation.SILU};
        DeviceTensor xt = backend.tensors().upload(x, Shape.of(x.length), DType.F32);
        for (int k = 0; k < fs.length; k++) {
            float[] y = backend.tensors().download(backend.activation().forward(new ActivationRequest(fs[k], xt)));
            float[] g = gradient(fs[k], x);
            for (int i = 0; i < x.length; i++) {
                // zeros compare by value: -0 and 0 are the same number (the pass rule compares values)
                assertEquals(want[2 * k][i], y[i], 0f, fs[k] + "(" + x[i] + ")");
                assertEquals(want[2 * k + 1][i], g[i], 0f, fs[k] + "'(" + x[i] + ")");
            }
        }
        float[] relu = backend.tensors().download(backend.activation().forward(new ActivationRequest(Activation.RELU, xt)));
        assertArrayEquals(new float[] {0f, 0f, -0f, 0f, 100f, inf, nan}, relu);
    }

    // ----------------------------------------------------------------------------------------------------- GLU

    @ParameterizedTest
    @EnumSource(Activation.class)
    void gluTakesTheValueHalfFirstAndTheGateSecond(Activation gate) {
        int rows = 3;
        int half = 5;
        SplittableRandom rnd = new SplittableRandom(gate.ordinal());
        float[] x = new float[rows * 2 * half];
        float[] dy = new float[rows * half];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) rnd.nextGaussian();
        }
        DeviceTensor xt = backend.tensors().upload(x, Shape.of(rows, 2 * half), DType.F32);
        GluRequest fwd = new GluRequest(gate, xt);
        float[] y = backend.tensors().download(backend.activation().glu(fwd));
        float[] dx = backend.tensors().download(backend.activation().gluBackward(
                new GluBackwardRequest(fwd, backend.tensors().upload(dy, Shape.of(rows, half), DType.F32))));
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < half; j++) {
                double a = x[r * 2 * half + j];
                double g = x[r * 2 * half + half + j];
                double d = dy[r * half + j];
                String at = gate + " row " + r + " j " + j;
                assertEquals(a * value(gate, g), y[r * half + j], 1e-6 * Math.max(1, Math.abs(a * value(gate, g))), at);
                assertEquals(d * value(gate, g), dx[r * 2 * half + j], 1e-6, at + " da");
                assertEquals(d * a * derivative(gate, g), dx[r * 2 * half + half + j], 1e-6, at + " dg");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void splitGluEqualsTheConcatenatedFormBitForBit(Activation gate) {
        // The same arithmetic on the same values, only laid out differently: [rows, 2F] against two [rows, F].
        int rows = 37;
        int half = 45;
        SplittableRandom rnd = new SplittableRandom(40 + gate.ordinal());
        float[] x = new float[rows * 2 * half];
        float[] dy = new float[rows * half];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * 3;
        }
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) rnd.nextGaussian();
        }
        float[] value = GluLayouts.half(x, rows, half, 0);
        float[] gateIn = GluLayouts.half(x, rows, half, 1);
        Shape rowShape = Shape.of(rows, half);
        GluRequest concatenated = new GluRequest(gate, backend.tensors().upload(x, Shape.of(rows, 2 * half), DType.F32));
        GluRequest split = GluRequest.split(gate, backend.tensors().upload(value, rowShape, DType.F32),
                backend.tensors().upload(gateIn, rowShape, DType.F32));
        DeviceTensor dyt = backend.tensors().upload(dy, rowShape, DType.F32);
        assertArrayEquals(backend.tensors().download(backend.activation().glu(concatenated)),
                backend.tensors().download(backend.activation().glu(split)), gate + " y");
        DeviceTensor dSplit = backend.activation().gluBackward(new GluBackwardRequest(split, dyt));
        assertEquals(Shape.of(2, rows, half), dSplit.shape());
        assertArrayEquals(backend.tensors().download(backend.activation().gluBackward(new GluBackwardRequest(concatenated,
                dyt))), GluLayouts.unstack(backend.tensors().download(dSplit), rows, half), gate + " dx");
    }

    @Test
    void splitGluRejectsMismatchedHalvesBeforeAnyKernel() {
        DeviceTensor a = backend.tensors().upload(new float[6], Shape.of(2, 3), DType.F32);
        DeviceTensor wider = backend.tensors().upload(new float[8], Shape.of(2, 4), DType.F32);
        DeviceTensor half = backend.tensors().upload(new float[6], Shape.of(2, 3), DType.BF16);
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, wider));
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, half));
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, a));
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, null));
    }

    @ParameterizedTest
    @EnumSource(value = Activation.class, names = {"GELU", "SILU"})
    void gluGradientMatchesFiniteDifferences(Activation gate) {
        // y = a·f(g): ∂y/∂a = f(g), ∂y/∂g = a·f'(g), checked by central differences in double.
        float[] x = {0.7f, -1.3f, 2.1f, 0.4f};   // one row: a = (0.7, -1.3), g = (2.1, 0.4)
        DeviceTensor xt = backend.tensors().upload(x, Shape.of(1, 4), DType.F32);
        float[] dx = backend.tensors().download(backend.activation().gluBackward(new GluBackwardRequest(
                new GluRequest(gate, xt), backend.tensors().upload(new float[] {1f, 1f}, Shape.of(1, 2), DType.F32))));
        double h = 1e-5;
        for (int j = 0; j < 2; j++) {
            double a = x[j];
            double g = x[2 + j];
            DoubleUnaryOperator byA = t -> t * value(gate, g);
            DoubleUnaryOperator byG = t -> a * value(gate, t);
            assertEquals((byA.applyAsDouble(a + h) - byA.applyAsDouble(a - h)) / (2 * h), dx[j], 1e-6);
            assertEquals((byG.applyAsDouble(g + h) - byG.applyAsDouble(g - h)) / (2 * h), dx[2 + j], 1e-6);
        }
    }

    // ------------------------------------------------------------------------------------- twins, threads, views

    @ParameterizedTest
    @EnumSource(Activation.class)
    void sameBitsForAnyThreadCountAndOnViews(Activation f) {
        float[] x = new float[3 * WorkerPool.RANGE + 1001];
        SplittableRandom rnd = new SplittableRandom(9);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * 3;
        }
        Shape glu = Shape.of(x.length / 26, 26);   // 2F = 26: rows of a fused projection
        float[][] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Backend b = Backend.of(new CpuEngine(threads))) {
                DeviceTensor xt = Views.floats(b, x, Shape.of(x.length), DType.F32);
                DeviceTensor xg = b.tensors().view(xt, 0, glu);
                ActivationRequest fwd = new ActivationRequest(f, xt);
                GluRequest g = new GluRequest(f, xg);
                DeviceTensor dyGlu = Views.floats(b, java.util.Arrays.copyOf(x, (int) g.outputShape().elementCount()),
                        g.outputShape(), DType.F32);
                float[][] got = {
                        b.tensors().download(b.activation().forward(fwd)),
                        b.tensors().download(b.activation().backward(new ActivationBackwardRequest(fwd, xt))),
                        b.tensors().download(b.activation().glu(g)),
                        b.tensors().download(b.activation().gluBackward(new GluBackwardRequest(g, dyGlu)))};
                if (first == null) {
                    first = got;
                    // the view run equals a run on a plain tensor
                    DeviceTensor plain = b.tensors().upload(x, Shape.of(x.length), DType.F32);
                    assertArrayEquals(got[0], b.tensors().download(b.activation().forward(new ActivationRequest(f, plain))));
                } else {
                    for (int k = 0; k < got.length; k++) {
                        assertArrayEquals(first[k], got[k], f + " output " + k + " with " + threads + " threads");
                    }
                }
            }
        }
    }
}
