package dev.attn4j.backend.cpu;

import dev.attn4j.ports.activation.Activation;

/**
 * Element loops of the activation port over {@code n} consecutive floats, each array with its own offset (any
 * may be a view, {@link Span}). Two twins implement it, {@link ScalarActivationKernels} and
 * {@link VectorActivationKernels}; both evaluate {@link ActivationMath}'s steps, so their results are
 * bit-identical.
 */
interface ActivationKernels {

    /** The twin to use in this JVM ({@link CpuKernels} chooses it). */
    static ActivationKernels get() {
        return CpuKernels.selected().activation();
    }

    /** {@code y = f(x)}. */
    void forward(Activation f, float[] x, int xOff, float[] y, int yOff, int n);

    /** {@code dx = dy·f'(x)}. */
    void backward(Activation f, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int n);

    /**
     * {@code y = a·f(g)}: the value at {@code a[aOff..]}, the gate's input at {@code g[gOff..]} (one array for the
     * halves of a concatenated row, two for the split form).
     */
    void glu(Activation f, float[] a, int aOff, float[] g, int gOff, float[] y, int yOff, int n);

    /** {@code da = dy·f(g)} into {@code dx[daOff..]} and {@code dg = (dy·a)·f'(g)} into {@code dx[dgOff..]}. */
    void gluBackward(Activation f, float[] a, int aOff, float[] g, int gOff, float[] dy, int dyOff, float[] dx,
                     int daOff, int dgOff, int n);
}
