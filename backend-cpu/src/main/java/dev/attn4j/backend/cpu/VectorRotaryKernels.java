package dev.attn4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link ScalarRotaryKernels}; only loaded when {@link Simd#available()}. Interleaved
 * pairs sit in adjacent lanes, so the partner of every lane is one fixed lane swap away; split-half
 * pairs sit one half apart, so both halves load straight. Tails run the scalar twin's expression.
 */
final class VectorRotaryKernels implements RotaryKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Lane {@code i} takes lane {@code i ^ 1}: swaps the two members of every interleaved pair. */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(S, i -> i ^ 1);

    private VectorRotaryKernels() {
    }

    /** A new instance, typed as the interface so callers never link this class unless they run it. */
    static RotaryKernels create() {
        return new VectorRotaryKernels();
    }

    @Override
    public void interleaved(float[] x, int xOff, float[] y, int yOff, int r, float[] alpha, float[] beta) {
        int j = 0;
        for (int bound = S.loopBound(r); j < bound; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + j);
            FloatVector own = v.mul(FloatVector.fromArray(S, alpha, j));
            own.add(v.rearrange(SWAP_PAIRS).mul(FloatVector.fromArray(S, beta, j))).intoArray(y, yOff + j);
        }
        // L is even, so the tail starts on a pair
        ScalarRotaryKernels.INSTANCE.interleavedFrom(x, xOff, y, yOff, j, r, alpha, beta);
    }

    @Override
    public void splitHalf(float[] x, int xOff, float[] y, int yOff, int r, float[] alpha, float[] beta) {
        int half = r / 2;
        int p = 0;
        for (int bound = S.loopBound(half); p < bound; p += L) {
            FloatVector x1 = FloatVector.fromArray(S, x, xOff + p);
            FloatVector x2 = FloatVector.fromArray(S, x, xOff + half + p);
            x1.mul(FloatVector.fromArray(S, alpha, p)).add(x2.mul(FloatVector.fromArray(S, beta, p)))
                    .intoArray(y, yOff + p);
            x2.mul(FloatVector.fromArray(S, alpha, half + p)).add(x1.mul(FloatVector.fromArray(S, beta, half + p)))
                    .intoArray(y, yOff + half + p);
        }
        ScalarRotaryKernels.INSTANCE.splitHalfFrom(x, xOff, y, yOff, p, r, alpha, beta);
    }
}
