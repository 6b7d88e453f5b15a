package dev.attn4j.oracle;

import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Central differences of a scalar loss, compared with an analytic gradient. */
final class FiniteDifferences {
    private static final double STEP = 1e-5;

    private FiniteDifferences() {
    }

    /** Asserts {@code analytic ≈ ∂loss/∂x} at every index, within {@code 1e-7 + 1e-6·|numeric|}. */
    static void assertGradient(String name, ToDoubleFunction<double[]> loss, double[] x, double[] analytic) {
        assertEquals(x.length, analytic.length, name + " length");
        double worst = 0;
        for (int n = 0; n < x.length; n++) {
            double[] plus = x.clone();
            double[] minus = x.clone();
            plus[n] += STEP;
            minus[n] -= STEP;
            double numeric = (loss.applyAsDouble(plus) - loss.applyAsDouble(minus)) / (2 * STEP);
            double tol = 1e-7 + 1e-6 * Math.abs(numeric);
            assertTrue(Double.isFinite(analytic[n]), name + "[" + n + "] is " + analytic[n]);
            assertEquals(numeric, analytic[n], tol, name + "[" + n + "]");
            worst = Math.max(worst, Math.abs(numeric));
        }
        // A gradient check on an all-zero gradient proves nothing; every test case has signal.
        assertTrue(worst > 1e-3, name + ": the gradient is (nearly) zero everywhere, the check would be vacuous");
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int n = 0; n < a.length; n++) {
            s += a[n] * b[n];
        }
        return s;
    }

    static double[] gaussian(java.util.Random r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextGaussian();
        }
        return x;
    }
}
