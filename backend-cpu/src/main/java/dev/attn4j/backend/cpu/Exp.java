package dev.attn4j.backend.cpu;

/**
 * {@code exp} for the softmax, built only from operations IEEE-754 specifies exactly (add, multiply, fma,
 * conversions), in the same steps as {@link VectorTileMath}'s vector version. {@code Math.exp} and the
 * Vector API's {@code EXP} are allowed to differ between the interpreter and JIT-compiled code, which
 * would make results depend on when the JIT kicked in; these cannot.
 *
 * <p>Cody–Waite reduction {@code x = n·ln2 + r}, {@code |r| ≤ ln2/2}, a degree-7 Taylor polynomial of
 * {@code e^r} (truncation error below 1e-8 relative), and {@code 2^n} built in the exponent bits.
 * Arguments below {@link #MIN_ARG} (including −∞) give 0.
 */
final class Exp {
    static final float LOG2E = 1.44269504088896341f;
    static final float LN2_HI = 0.693145751953125f;
    static final float LN2_LO = 1.42860682030941723e-6f;
    /** Adding and subtracting this rounds a float of magnitude below 2^22 to the nearest integer. */
    static final float ROUNDER = 12582912f;
    /** Below this, {@code e^x} is under the smallest normal float; the result is flushed to 0. */
    static final float MIN_ARG = -87.3f;
    static final float MAX_ARG = 88.7f;
    static final float C2 = 1f / 2;
    static final float C3 = 1f / 6;
    static final float C4 = 1f / 24;
    static final float C5 = 1f / 120;
    static final float C6 = 1f / 720;
    static final float C7 = 1f / 5040;

    private Exp() {
    }

    static float exp(float x) {
        if (!(x >= MIN_ARG)) {
            return Float.isNaN(x) ? x : 0f;
        }
        float xc = Math.min(x, MAX_ARG);
        float n = Math.fma(xc, LOG2E, ROUNDER) - ROUNDER;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(C7, r, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }
}
