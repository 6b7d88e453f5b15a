package dev.attn4j.backend.cpu;

import dev.attn4j.ports.activation.Activation;

/** The plain-Java twin of {@link VectorActivationKernels}: {@link ActivationMath} element by element. */
final class ScalarActivationKernels implements ActivationKernels {
    static final ScalarActivationKernels INSTANCE = new ScalarActivationKernels();

    private ScalarActivationKernels() {
    }

    /** {@code f(x)}. */
    static float value(Activation f, float x) {
        return switch (f) {
            case GELU -> ActivationMath.gelu(x);
            case GELU_TANH -> ActivationMath.geluTanh(x);
            case SILU -> ActivationMath.silu(x);
            case RELU -> ActivationMath.relu(x);
        };
    }

    /** {@code dy·f'(x)}. */
    static float gradient(Activation f, float x, float dy) {
        return switch (f) {
            case GELU -> dy * ActivationMath.geluGrad(x);
            case GELU_TANH -> dy * ActivationMath.geluTanhGrad(x);
            case SILU -> dy * ActivationMath.siluGrad(x);
            case RELU -> ActivationMath.reluBackward(x, dy);
        };
    }

    @Override
    public void forward(Activation f, float[] x, int xOff, float[] y, int yOff, int n) {
        forwardFrom(f, x, xOff, y, yOff, 0, n);
    }

    @Override
    public void backward(Activation f, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int n) {
        backwardFrom(f, x, xOff, dy, dyOff, dx, dxOff, 0, n);
    }

    @Override
    public void glu(Activation f, float[] a, int aOff, float[] g, int gOff, float[] y, int yOff, int n) {
        gluFrom(f, a, aOff, g, gOff, y, yOff, 0, n);
    }

    @Override
    public void gluBackward(Activation f, float[] a, int aOff, float[] g, int gOff, float[] dy, int dyOff, float[] dx,
                            int daOff, int dgOff, int n) {
        gluBackwardFrom(f, a, aOff, g, gOff, dy, dyOff, dx, daOff, dgOff, 0, n);
    }

    // The ...From forms start at element i0: the vector twin finishes its tails with them.

    static void forwardFrom(Activation f, float[] x, int xOff, float[] y, int yOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            y[yOff + i] = value(f, x[xOff + i]);
        }
    }

    static void backwardFrom(Activation f, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int i0,
                             int n) {
        for (int i = i0; i < n; i++) {
            dx[dxOff + i] = gradient(f, x[xOff + i], dy[dyOff + i]);
        }
    }

    static void gluFrom(Activation f, float[] a, int aOff, float[] g, int gOff, float[] y, int yOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            y[yOff + i] = a[aOff + i] * value(f, g[gOff + i]);
        }
    }

    static void gluBackwardFrom(Activation f, float[] a, int aOff, float[] g, int gOff, float[] dy, int dyOff,
                                float[] dx, int daOff, int dgOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            float gi = g[gOff + i];
            float d = dy[dyOff + i];
            dx[daOff + i] = d * value(f, gi);
            dx[dgOff + i] = gradient(f, gi, d * a[aOff + i]);
        }
    }
}
