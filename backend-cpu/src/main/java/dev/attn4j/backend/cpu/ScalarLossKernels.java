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
    public void expSum(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] out, int outOff, float[] sum,
                       int sumOff) {
        expSumFrom(z, zOff, n, shift, shiftOff, out, outOff, sum, sumOff, 0);
    }

    @Override
    public void expScale(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] factor, int factorOff) {
        expScaleFrom(z, zOff, n, shift, shiftOff, factor, factorOff, 0);
    }

    static void biasMaxFrom(float[] z, int zOff, int n, boolean addBias, float bias, float[] max, int maxOff, int i0) {
        for (int i = i0; i < n; i++) {
            float v = addBias ? z[zOff + i] + bias : z[zOff + i];
            z[zOff + i] = v;
            max[maxOff + i] = Math.max(max[maxOff + i], v);
        }
    }

    static void expSumFrom(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] out, int outOff,
                           float[] sum, int sumOff, int i0) {
        for (int i = i0; i < n; i++) {
            float e = Exp.exp(z[zOff + i] - shift[shiftOff + i]);
            out[outOff + i] = e;
            sum[sumOff + i] += e;
        }
    }

    static void expScaleFrom(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] factor, int factorOff,
                             int i0) {
        for (int i = i0; i < n; i++) {
            z[zOff + i] = Exp.exp(z[zOff + i] - shift[shiftOff + i]) * factor[factorOff + i];
        }
    }
}
