package dev.attn4j.oracle;

import dev.attn4j.ports.activation.Activation;

/**
 * Element-wise activations and gated linear units, forward and backward, from the formulas of {@link Activation}
 * and {@link dev.attn4j.ports.activation.GluRequest}. Exact GELU needs {@code erf}, which the JDK lacks: it is
 * computed here from its everywhere-convergent series of positive terms (no cancellation, so to double precision).
 * In a reduced precision every intermediate is rounded to binary32 (constants included) and every stored output to
 * the storage type.
 *
 * <pre>{@code
 * double[] y = ActivationOracle.forward(Activation.GELU, x, Precision.FP64);
 * double[] dx = ActivationOracle.backward(Activation.GELU, x, dy, Precision.FP64);
 * }</pre>
 */
public final class ActivationOracle {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double INV_SQRT_2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double TANH_CUBIC = 0.044715;

    private ActivationOracle() {
    }

    /**
     * {@return {@code y = f(x)}, element by element}
     *
     * @param f         the activation
     * @param x         the input, as stored
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] forward(Activation f, double[] x, Precision precision) {
        Precision acc = precision.accumulator();
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = precision.round(value(f, x[i], acc));
        }
        return y;
    }

    /**
     * {@return {@code dx = dy ⊙ f'(x)}}
     *
     * @param f         the activation
     * @param x         the forward's input
     * @param dy        the gradient of {@code y}
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] backward(Activation f, double[] x, double[] dy, Precision precision) {
        Precision acc = precision.accumulator();
        double[] dx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            dx[i] = precision.round(acc.round(dy[i] * derivative(f, x[i], acc)));
        }
        return dx;
    }

    /**
     * {@return {@code y [rows, F] = a ⊙ f(g)}, with {@code x [rows, 2F]} split into {@code a = x[:, :F]} and
     * {@code g = x[:, F:]}}
     *
     * @param gate      the gate's activation
     * @param x         {@code [rows, 2F]}
     * @param rows      rows
     * @param half      {@code F}
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] glu(Activation gate, double[] x, int rows, int half, Precision precision) {
        Precision acc = precision.accumulator();
        double[] y = new double[rows * half];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < half; j++) {
                double a = x[r * 2 * half + j];
                double g = x[r * 2 * half + half + j];
                y[r * half + j] = precision.round(acc.round(a * value(gate, g, acc)));
            }
        }
        return y;
    }

    /**
     * {@return {@code dx [rows, 2F] = [dy ⊙ f(g), dy ⊙ a ⊙ f'(g)]}}
     *
     * @param gate      the gate's activation
     * @param x         the forward's input {@code [rows, 2F]}
     * @param dy        the gradient of {@code y [rows, F]}
     * @param rows      rows
     * @param half      {@code F}
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] gluBackward(Activation gate, double[] x, double[] dy, int rows, int half, Precision precision) {
        Precision acc = precision.accumulator();
        double[] dx = new double[rows * 2 * half];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < half; j++) {
                double a = x[r * 2 * half + j];
                double g = x[r * 2 * half + half + j];
                double up = dy[r * half + j];
                dx[r * 2 * half + j] = precision.round(acc.round(up * value(gate, g, acc)));
                dx[r * 2 * half + half + j] = precision.round(acc.round(acc.round(up * a) * derivative(gate, g, acc)));
            }
        }
        return dx;
    }

    /** {@code f(x)} with every step rounded by {@code a}. */
    static double value(Activation f, double x, Precision a) {
        return switch (f) {
            case GELU -> a.round(a.round(0.5 * x) * a.round(1 + a.round(erf(a.round(x * a.round(INV_SQRT_2))))));
            case GELU_TANH -> {
                double t = a.round(Math.tanh(tanhArgument(x, a)));
                yield a.round(a.round(0.5 * x) * a.round(1 + t));
            }
            case SILU -> a.round(x * sigmoid(x, a));
            case RELU -> x > 0 ? x : 0;
        };
    }

    /** {@code f'(x)} with every step rounded by {@code a}. */
    static double derivative(Activation f, double x, Precision a) {
        return switch (f) {
            case GELU -> {
                // Φ(x) + x·φ(x)
                double cdf = a.round(0.5 * a.round(1 + a.round(erf(a.round(x * a.round(INV_SQRT_2))))));
                double pdf = a.round(a.round(Math.exp(a.round(-0.5 * a.round(x * x)))) * a.round(INV_SQRT_2PI));
                yield a.round(cdf + a.round(x * pdf));
            }
            case GELU_TANH -> {
                // d/dx x/2·(1 + tanh u) = (1 + tanh u)/2 + x/2·(1 − tanh² u)·u', u' = √(2/π)·(1 + 3c·x²)
                double t = a.round(Math.tanh(tanhArgument(x, a)));
                double du = a.round(a.round(SQRT_2_OVER_PI) * a.round(1 + a.round(a.round(3 * TANH_CUBIC) * a.round(x * x))));
                yield a.round(a.round(0.5 * a.round(1 + t)) + a.round(a.round(0.5 * x) * a.round(a.round(1 - a.round(t * t)) * du)));
            }
            case SILU -> {
                double s = sigmoid(x, a);
                yield a.round(s * a.round(1 + a.round(x * a.round(1 - s))));
            }
            case RELU -> x > 0 ? 1 : 0;   // 0 at 0, as PyTorch
        };
    }

    /** {@code √(2/π)·(x + 0.044715·x³)}. */
    private static double tanhArgument(double x, Precision a) {
        double cube = a.round(x * a.round(x * x));
        return a.round(a.round(SQRT_2_OVER_PI) * a.round(x + a.round(a.round(TANH_CUBIC) * cube)));
    }

    private static double sigmoid(double x, Precision a) {
        return a.round(1 / a.round(1 + a.round(Math.exp(-x))));
    }

    /**
     * The error function, {@code erf(x) = 2/√π · exp(−x²) · Σ 2ⁿ·x²ⁿ⁺¹ / (1·3·…·(2n+1))} over {@code n ≥ 0}
     * (Abramowitz &amp; Stegun 7.1.6): every term has the sign of {@code x}, so the sum loses nothing to cancellation.
     * Beyond {@code |x| = 6}, {@code 1 − erf(|x|) < 2.2·10⁻¹⁷} is below half an ulp of 1.
     *
     * @param x the argument
     * @return {@code erf(x)}, within a few ulps
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (Math.abs(x) >= 6) {
            return Math.signum(x);
        }
        double twoX2 = 2 * x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 1000; n++) {
            term *= twoX2 / (2 * n + 1);
            sum += term;
            if (Math.abs(term) < 1e-17 * Math.abs(sum)) {
                break;
            }
        }
        return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
    }
}
