package dev.attn4j.backend.cpu;

/** The plain-Java twin of {@link VectorLossKernels}; its {@code ...From} forms finish the vector twin's tails. */
final class ScalarLossKernels implements LossKernels {
    static final ScalarLossKernels INSTANCE = new ScalarLossKernels();

    private ScalarLossKernels() {
    }

    @Override
    public void biasMax(float[] z, int zOff, int n, boolean addBias, float bias, float[] max, int maxOff) {
        biasMaxFrom(z, zOff, n, addBias, bias, max, maxOff, 0);
    }

    @Override
    public void expSum(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] sum, int sumOff) {
        expSumFrom(z, zOff, n, shift, shiftOff, sum, sumOff, 0);
    }

    @Override
    public void scale(float[] z, int zOff, int n, float[] factor, int factorOff) {
        scaleFrom(z, zOff, n, factor, factorOff, 0);
    }

    static void biasMaxFrom(float[] z, int zOff, int n, boolean addBias, float bias, float[] max, int maxOff, int i0) {
        for (int i = i0; i < n; i++) {
            float v = addBias ? z[zOff + i] + bias : z[zOff + i];
            z[zOff + i] = v;
            max[maxOff + i] = Math.max(max[maxOff + i], v);
        }
    }

    static void expSumFrom(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] sum, int sumOff, int i0) {
        for (int i = i0; i < n; i++) {
            float e = Exp.exp(z[zOff + i] - shift[shiftOff + i]);
            z[zOff + i] = e;
            sum[sumOff + i] += e;
        }
    }

    static void scaleFrom(float[] z, int zOff, int n, float[] factor, int factorOff, int i0) {
        for (int i = i0; i < n; i++) {
            z[zOff + i] *= factor[factorOff + i];
        }
    }
}
