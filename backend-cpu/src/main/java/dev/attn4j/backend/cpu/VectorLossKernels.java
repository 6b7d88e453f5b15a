package dev.attn4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link ScalarLossKernels}; only loaded when {@link Simd#available()}. Lane {@code i} does what
 * the scalar loop does for element {@code i} (the exponential is {@link VectorTileMath#exp}, {@link Exp#exp}'s steps).
 */
final class VectorLossKernels implements LossKernels {
    private static final VectorSpecies<Float> F = VectorTileMath.species();
    private static final int L = F.length();

    private VectorLossKernels() {
    }

    /** A new instance, typed as the interface so callers never link this class unless they run it. */
    static LossKernels create() {
        return new VectorLossKernels();
    }

    @Override
    public void biasMax(float[] z, int zOff, int n, boolean addBias, float bias, float[] max, int maxOff) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, z, zOff + i);
            if (addBias) {
                v = v.add(bias);
                v.intoArray(z, zOff + i);
            }
            FloatVector.fromArray(F, max, maxOff + i).max(v).intoArray(max, maxOff + i);
        }
        ScalarLossKernels.biasMaxFrom(z, zOff, n, addBias, bias, max, maxOff, i);
    }

    @Override
    public void expSum(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] sum, int sumOff) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector e = VectorTileMath.exp(FloatVector.fromArray(F, z, zOff + i)
                    .sub(FloatVector.fromArray(F, shift, shiftOff + i)));
            e.intoArray(z, zOff + i);
            FloatVector.fromArray(F, sum, sumOff + i).add(e).intoArray(sum, sumOff + i);
        }
        ScalarLossKernels.expSumFrom(z, zOff, n, shift, shiftOff, sum, sumOff, i);
    }

    @Override
    public void scale(float[] z, int zOff, int n, float[] factor, int factorOff) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, z, zOff + i).mul(FloatVector.fromArray(F, factor, factorOff + i))
                    .intoArray(z, zOff + i);
        }
        ScalarLossKernels.scaleFrom(z, zOff, n, factor, factorOff, i);
    }
}
