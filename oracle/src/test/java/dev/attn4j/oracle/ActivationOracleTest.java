package dev.attn4j.oracle;

import dev.attn4j.ports.activation.Activation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static dev.attn4j.oracle.FiniteDifferences.assertGradient;
import static dev.attn4j.oracle.FiniteDifferences.dot;
import static dev.attn4j.oracle.FiniteDifferences.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** erf against published values; activations against PyTorch's values (float64); gradients by central differences. */
class ActivationOracleTest {

    @Test
    void erfMatchesPublishedValues() {
        // Python's math.erf (correctly rounded libm) at these points
        double[][] known = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
                {2, 0.9953222650189527}, {3, 0.9999779095030014}, {5, 0.9999999999984626}, {-1.5, -0.9661051464753108}};
        for (double[] k : known) {
            // 1e-15: a few ulps, from exp(-x²) and ~100 summed terms; a billion times finer than any fp32 check needs
            assertEquals(k[1], ActivationOracle.erf(k[0]), 1e-15, "erf(" + k[0] + ")");
        }
        assertEquals(0.0, ActivationOracle.erf(0));
        assertEquals(1.0, ActivationOracle.erf(7));
        assertEquals(-1.0, ActivationOracle.erf(-40));
    }

    @Test
    void valuesMatchPyTorch() {
        // torch.nn.functional.gelu / gelu(approximate='tanh') / silu in float64 at 1, -0.5, 2
        double[] x = {1, -0.5, 2};
        assertArrayEquals(new double[] {0.841344746068543, -0.15426876936299344, 1.9544997361036416},
                ActivationOracle.forward(Activation.GELU, x, Precision.FP64), 1e-15);
        assertArrayEquals(new double[] {0.8411919906082768, -0.15428599017485606, 1.954597694087775},
                ActivationOracle.forward(Activation.GELU_TANH, x, Precision.FP64), 1e-15);
        assertArrayEquals(new double[] {0.7310585786300049, -0.1887703343990727, 1.7615941559557646},
                ActivationOracle.forward(Activation.SILU, x, Precision.FP64), 1e-15);
        assertArrayEquals(new double[] {1, 0, 2}, ActivationOracle.forward(Activation.RELU, x, Precision.FP64));
        assertArrayEquals(new double[] {0, 0}, ActivationOracle.backward(Activation.RELU, new double[] {0, -1},
                new double[] {1, 1}, Precision.FP64), "ReLU's derivative is 0 at 0, as PyTorch's");
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void backwardMatchesCentralDifferences(Activation f) {
        Random r = new Random(f.ordinal());
        double[] x = gaussian(r, 12);
        for (int i = 0; i < x.length; i++) {
            x[i] = 2.5 * x[i] + (x[i] > 0 ? 0.1 : -0.1);   // away from ReLU's kink
        }
        double[] dy = gaussian(r, 12);
        assertGradient("dx", xs -> dot(dy, ActivationOracle.forward(f, xs, Precision.FP64)), x,
                ActivationOracle.backward(f, x, dy, Precision.FP64));
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void gluIsValueTimesActivatedGateAndItsBackwardMatchesCentralDifferences(Activation gate) {
        int rows = 3, half = 4;
        Random r = new Random(11 + gate.ordinal());
        double[] x = gaussian(r, rows * 2 * half);
        for (int i = 0; i < x.length; i++) {
            x[i] += x[i] > 0 ? 0.1 : -0.1;
        }
        double[] y = ActivationOracle.glu(gate, x, rows, half, Precision.FP64);
        for (int row = 0; row < rows; row++) {
            for (int j = 0; j < half; j++) {
                double g = ActivationOracle.forward(gate, new double[] {x[row * 2 * half + half + j]}, Precision.FP64)[0];
                assertEquals(x[row * 2 * half + j] * g, y[row * half + j], 1e-15);
            }
        }
        double[] dy = gaussian(r, rows * half);
        assertGradient("dx", xs -> dot(dy, ActivationOracle.glu(gate, xs, rows, half, Precision.FP64)), x,
                ActivationOracle.gluBackward(gate, x, dy, rows, half, Precision.FP64));
    }
}
