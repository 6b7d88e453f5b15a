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
    public void interleaved(float[] x, int xOff, float[] y, int yOff, int r, float[] alpha, float[] beta) {
        interleavedFrom(x, xOff, y, yOff, 0, r, alpha, beta);
    }

    @Override
    public void splitHalf(float[] x, int xOff, float[] y, int yOff, int r, float[] alpha, float[] beta) {
        splitHalfFrom(x, xOff, y, yOff, 0, r, alpha, beta);
    }

    /** Interleaved pairs from feature {@code from} (even) on. */
    void interleavedFrom(float[] x, int xOff, float[] y, int yOff, int from, int r, float[] alpha, float[] beta) {
        for (int j = from; j < r; j += 2) {
            float x1 = x[xOff + j];
            float x2 = x[xOff + j + 1];
            y[yOff + j] = x1 * alpha[j] + x2 * beta[j];
            y[yOff + j + 1] = x2 * alpha[j + 1] + x1 * beta[j + 1];
        }
    }

    /** Split-half pairs from pair {@code from} on. */
    void splitHalfFrom(float[] x, int xOff, float[] y, int yOff, int from, int r, float[] alpha, float[] beta) {
        int half = r / 2;
        for (int p = from; p < half; p++) {
            float x1 = x[xOff + p];
            float x2 = x[xOff + half + p];
            y[yOff + p] = x1 * alpha[p] + x2 * beta[p];
            y[yOff + half + p] = x2 * alpha[half + p] + x1 * beta[half + p];
        }
    }
}
