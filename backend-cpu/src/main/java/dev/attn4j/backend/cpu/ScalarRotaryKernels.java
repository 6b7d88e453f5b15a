package dev.attn4j.backend.cpu;

/**
 * The plain-Java twin of {@link VectorRotaryKernels}, used when the Vector API is not enabled; its
 * {@code ...From} forms also finish the vector twin's tails, so both evaluate one expression.
 */
final class ScalarRotaryKernels implements RotaryKernels {
    static final ScalarRotaryKernels INSTANCE = new ScalarRotaryKernels();

    private ScalarRotaryKernels() {
    }

    @Override
    public void interleaved(float[] x, float[] y, int off, int r, float[] alpha, float[] beta) {
        interleavedFrom(x, y, off, 0, r, alpha, beta);
    }

    @Override
    public void splitHalf(float[] x, float[] y, int off, int r, float[] alpha, float[] beta) {
        splitHalfFrom(x, y, off, 0, r, alpha, beta);
    }

    /** Interleaved pairs from feature {@code from} (even) on. */
    void interleavedFrom(float[] x, float[] y, int off, int from, int r, float[] alpha, float[] beta) {
        for (int j = from; j < r; j += 2) {
            float x1 = x[off + j];
            float x2 = x[off + j + 1];
            y[off + j] = x1 * alpha[j] + x2 * beta[j];
            y[off + j + 1] = x2 * alpha[j + 1] + x1 * beta[j + 1];
        }
    }

    /** Split-half pairs from pair {@code from} on. */
    void splitHalfFrom(float[] x, float[] y, int off, int from, int r, float[] alpha, float[] beta) {
        int half = r / 2;
        for (int p = from; p < half; p++) {
            float x1 = x[off + p];
            float x2 = x[off + half + p];
            y[off + p] = x1 * alpha[p] + x2 * beta[p];
            y[off + half + p] = x2 * alpha[half + p] + x1 * beta[half + p];
        }
    }
}
