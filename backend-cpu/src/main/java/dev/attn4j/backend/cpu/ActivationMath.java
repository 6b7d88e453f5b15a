package dev.attn4j.backend.cpu;

/**
 * The activation functions and their derivatives for one float, as {@code dev.attn4j.ports.activation.Activation}
 * defines them: the scalar twin ({@link ScalarActivationKernels}) runs these, and the vector twin
 * ({@link VectorActivationKernels}) runs the same steps lane-wise and these on its tails, so the twins agree bit
 * for bit. Only operations IEEE-754 specifies exactly are used (add, multiply, divide, fma, comparisons and bit
 * moves) plus {@link Exp}, for the reason {@link Exp} gives: {@code Math.exp} and the Vector API's transcendental
 * lane operations may differ between the interpreter and compiled code.
 *
 * <p><b>Exact GELU.</b> {@code gelu(x) = x·Φ(x)} with the normal tail {@code Q(t) = 1 − Φ(t)} for {@code t ≥ 0}:
 * {@code Φ(x) = Q(−x)} for {@code x < 0}, {@code 1 − Q(x)} otherwise. {@code Q = 2^g}, {@code g = log₂Q}, piecewise
 * ({@link #normalTail}): for {@code j = round(t)} and {@code u = t − j} (exact, {@code |u| ≤ ½}),
 * {@code g = N_j + C_j(u)} with an integer {@code N_j} and a degree-5 polynomial {@code C_j}, one of 16 per unit
 * interval, fitted (minimax) by {@code src/main/python/fit_normal_tail_table.py}; then {@code 2^g} by {@link #pow2}.
 * No division and one short polynomial, where the previous form ({@code τ = k/(k + t)}, a degree-11 polynomial and
 * {@link Exp}) cost twice the time; the vector twin fetches the 16 coefficients of a term with one lane permute.
 * Taking {@code N_j} out keeps {@code |C_j| ≲ 10}, so its float rounding stays small even where {@code Q} is
 * {@code 2^−125}. The relative error of {@code Q} stays below {@code 2.5e−7 + t·2⁻²⁴} for {@code 0 ≤ t ≤}
 * {@link #TAIL_T0} (measured, against a float64 reference, by {@code CpuActivationTest} and the fitting script;
 * the second term is the rounding of the polynomial, whose slope grows with {@code t}), tails included, so
 * {@code gelu} keeps its digits for negative {@code x}, where {@code 1 + erf(x/√2)} would cancel. Beyond
 * {@link #TAIL_T0} ({@code Q < 1.4e−38}, near the smallest normal float) {@code Q} is 0. The density
 * {@code φ(x)} of the gradient is {@code 2^(−x²·log₂e/2 − log₂√(2π))} by the same {@link #pow2}.
 *
 * <p><b>Logistic forms.</b> SiLU and tanh-GELU are {@code x·σ(z)}: {@code ½(1 + tanh(u)) = σ(2u)}. With
 * {@code e = exp(−z)}, {@code σ = 1/(1 + e)} and {@code 1 − σ} is {@code e·σ} for {@code z > 0} and {@code 1 − σ}
 * otherwise, so neither side cancels; {@code e} overflows to {@code +∞} ({@link #expOrInf}) so that {@code σ}
 * reaches exactly 0 and {@code ±∞} inputs give PyTorch's results ({@code NaN} where it gives {@code NaN}).
 */
final class ActivationMath {
    /** √(2/π), tanh-GELU's inner scale. */
    static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    /** tanh-GELU's cubic coefficient. */
    static final float KAPPA = 0.044715f;
    /** 2·√(2/π). */
    static final float TWO_SQRT_2_OVER_PI = 1.5957691216057308f;
    /** 3·κ. */
    static final float THREE_KAPPA = 0.134145f;
    /** −log₂(e)/2: the density's exponent is {@code −x²·log₂e/2 − log₂√(2π)}. */
    static final float NEG_HALF_LOG2E = -0.7213475204444817f;
    /** −log₂√(2π). */
    static final float NEG_LOG2_SQRT_2PI = -1.3257480647361593f;
    /** Entries of each normal-tail table: one per unit interval of {@code t}, 16 floats (one 512-bit vector). */
    static final int TAIL_SLOTS = 16;

    // Made by src/main/python/fit_normal_tail_table.py. Beyond TAIL_T0, Q is flushed to 0 (2^g would leave the
    // normal floats). C0..C5: the polynomials C_j, by interval j (the two last slots repeat interval 13, never
    // used); TAIL_BIAS[j] = Exp.ROUNDER + N_j; EXP2_C1..C5: 2^r on [−½, ½], relative error 1.6e−7.
    static final float TAIL_T0 = 12.9375f;
    static final float[] TAIL_C0 = {0.000000007703387f, 0.3439672f, -0.45798126f, 0.46706617f, 0.053532973f,
            0.26580152f, 0.08316627f, 0.49279538f, 0.48628786f, 0.057885632f, 0.20348889f, -0.079915896f, 0.20539604f,
            0.05766719f, 0.05766719f, 0.05766719f};
    static final float[] TAIL_C1 = {-1.1511043f, -2.200305f, -3.4238262f, -4.7365103f, -6.0962625f, -7.4825435f,
            -8.884812f, -10.297301f, -11.716658f, -13.140821f, -14.568469f, -15.998716f, -17.43095f, -18.864737f,
            -18.864737f, -18.864737f};
    static final float[] TAIL_C2 = {-0.4592191f, -0.5777294f, -0.638914f, -0.67045057f, -0.68768054f, -0.6977622f,
            -0.70404416f, -0.70817435f, -0.71101433f, -0.71304137f, -0.7145341f, -0.71566284f, -0.7165356f, -0.7172237f,
            -0.7172237f, -0.7172237f};
    static final float[] TAIL_C3 = {-0.052465543f, -0.028117187f, -0.014271886f, -0.00756692f, -0.004293459f,
            -0.0026030107f, -0.001671957f, -0.0011273485f, -0.00079152564f, -0.0005748515f, -0.00042953758f,
            -0.00032879965f, -0.00025694433f, -0.00020442545f, -0.00020442545f, -0.00020442545f};
    static final float[] TAIL_C4 = {0.0070800995f, 0.004765138f, 0.0023851672f, 0.0011459959f, 0.0005750299f,
            0.0003074322f, 0.00017502155f, 0.00010540084f, 0.000066634406f, 0.000043914348f, 0.00002998846f,
            0.000021113507f, 0.000015262303f, 0.00001122598f, 0.00001122598f, 0.00001122598f};
    static final float[] TAIL_C5 = {-0.00030252067f, -0.0005783945f, -0.00035107826f, -0.00016444337f, -0.00007573236f,
            -0.000036504505f, -0.00001868604f, -0.000010149822f, -0.0000058183728f, -0.000003497526f, -0.0000021912726f,
            -0.0000014232394f, -0.0000009539128f, -0.00000072685674f, -0.00000072685674f, -0.00000072685674f};
    static final float[] TAIL_BIAS = {12582911.0f, 12582909.0f, 12582907.0f, 12582902.0f, 12582897.0f, 12582890.0f,
            12582882.0f, 12582872.0f, 12582861.0f, 12582849.0f, 12582835.0f, 12582820.0f, 12582803.0f, 12582785.0f,
            12582785.0f, 12582785.0f};
    static final float EXP2_C1 = 0.693147f;
    static final float EXP2_C2 = 0.24022242f;
    static final float EXP2_C3 = 0.055507336f;
    static final float EXP2_C4 = 0.009671517f;
    static final float EXP2_C5 = 0.0013264737f;

    private ActivationMath() {
    }

    /** {@code e^z}, as {@link Exp#exp}, but {@code +∞} above {@link Exp#MAX_ARG} (where float overflows). */
    static float expOrInf(float z) {
        float e = Exp.exp(z);
        return z > Exp.MAX_ARG ? Float.POSITIVE_INFINITY : e;
    }

    /**
     * {@code 2^(p + bias − ROUNDER)} for a {@code bias} of {@link Exp#ROUNDER} plus an integer, where the result is
     * a normal float: {@code m = p + bias} rounds {@code p} to an integer {@code n} and keeps
     * {@code bias − ROUNDER + n} in its low mantissa bits, which become the exponent of the scale; {@code r = p − n}
     * is exact ({@code |r| ≤ ½}) and {@code 2^r} a degree-5 polynomial. The integer part never passes through {@code p}'s
     * rounding.
     */
    static float pow2(float p, float bias) {
        float m = p + bias;
        float r = p - (m - bias);
        float e = Math.fma(EXP2_C5, r, EXP2_C4);
        e = Math.fma(e, r, EXP2_C3);
        e = Math.fma(e, r, EXP2_C2);
        e = Math.fma(e, r, EXP2_C1);
        e = Math.fma(e, r, 1f);
        // ROUNDER's low 9 bits are 0: (bits + 127) << 23 leaves the biased exponent of 2^(bias − ROUNDER + n)
        return e * Float.intBitsToFloat((Float.floatToRawIntBits(m) + 127) << 23);
    }

    /** {@code Q(t) = P(N(0,1) > t)} for {@code t ≥ 0} (or NaN): 0 beyond {@link #TAIL_T0}. */
    static float normalTail(float t) {
        boolean far = t > TAIL_T0;
        float tc = far ? TAIL_T0 : t;
        // k's low mantissa bits hold j = round(tc) (a NaN's hold anything: any slot gives NaN)
        float k = tc + Exp.ROUNDER;
        int j = Float.floatToRawIntBits(k) & (TAIL_SLOTS - 1);
        float u = tc - (k - Exp.ROUNDER);
        float p = Math.fma(TAIL_C5[j], u, TAIL_C4[j]);
        p = Math.fma(p, u, TAIL_C3[j]);
        p = Math.fma(p, u, TAIL_C2[j]);
        p = Math.fma(p, u, TAIL_C1[j]);
        p = Math.fma(p, u, TAIL_C0[j]);
        float q = pow2(p, TAIL_BIAS[j]);
        return far ? 0f : q;
    }

    /** {@code φ(x) = exp(−x²/2)/√(2π)}: 0 beyond {@link #TAIL_T0} ({@code φ < 1e−36}), NaN for NaN. */
    static float density(float x) {
        float t = Math.abs(x);
        boolean far = t > TAIL_T0;
        float tc = far ? TAIL_T0 : t;
        float e = pow2(Math.fma(tc * NEG_HALF_LOG2E, tc, NEG_LOG2_SQRT_2PI), Exp.ROUNDER);
        return far ? 0f : e;
    }

    /** {@code Φ(x)}, the standard normal distribution function. */
    static float normalCdf(float x) {
        float q = normalTail(Math.abs(x));
        return x < 0f ? q : 1f - q;
    }

    /** Exact GELU, {@code x·Φ(x)}. */
    static float gelu(float x) {
        return x * normalCdf(x);
    }

    /** {@code gelu'(x) = Φ(x) + x·φ(x)}. */
    static float geluGrad(float x) {
        return Math.fma(x, density(x), normalCdf(x));
    }

    /** {@code 2·√(2/π)·(x + κx³)}: the logistic argument of tanh-GELU ({@code 2u}). */
    static float geluTanhArg(float x) {
        float x2 = x * x;
        return TWO_SQRT_2_OVER_PI * Math.fma(KAPPA * x2, x, x);
    }

    /** tanh-GELU, {@code x·σ(2u)}. */
    static float geluTanh(float x) {
        return x / (1f + expOrInf(-geluTanhArg(x)));
    }

    /** tanh-GELU's derivative: {@code σ + x·σ·(1 − σ)·2√(2/π)·(1 + 3κx²)}. */
    static float geluTanhGrad(float x) {
        float z = geluTanhArg(x);
        float e = expOrInf(-z);
        float sigma = 1f / (1f + e);
        float rest = z > 0f ? e * sigma : 1f - sigma;
        float slope = TWO_SQRT_2_OVER_PI * Math.fma(THREE_KAPPA, x * x, 1f);
        return Math.fma(x * sigma * rest, slope, sigma);
    }

    /** SiLU, {@code x·σ(x)}. */
    static float silu(float x) {
        return x / (1f + expOrInf(-x));
    }

    /** {@code silu'(x) = σ·(1 + x·(1 − σ))}. */
    static float siluGrad(float x) {
        float e = expOrInf(-x);
        float sigma = 1f / (1f + e);
        float rest = x > 0f ? e * sigma : 1f - sigma;
        return sigma * Math.fma(x, rest, 1f);
    }

    /** ReLU: 0 below 0, else {@code x} ({@code −0} and NaN pass through, as in PyTorch). */
    static float relu(float x) {
        return x < 0f ? 0f : x;
    }

    /** {@code dy·relu'(x)}: {@code dy} where {@code x > 0}, else 0. */
    static float reluBackward(float x, float dy) {
        return x > 0f ? dy : 0f;
    }
}
