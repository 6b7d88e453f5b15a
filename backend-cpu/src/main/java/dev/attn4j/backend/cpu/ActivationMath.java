package dev.attn4j.backend.cpu;

/**
 * The activation functions and their derivatives for one float, as {@code dev.attn4j.ports.activation.Activation}
 * defines them: the scalar twin ({@link ScalarActivationKernels}) runs these, and the vector twin
 * ({@link VectorActivationKernels}) runs the same steps lane-wise and these on its tails, so the twins agree bit
 * for bit. Only operations IEEE-754 specifies exactly are used (add, multiply, divide, fma) plus {@link Exp},
 * for the reason {@link Exp} gives: {@code Math.exp} and the Vector API's transcendental lane operations may
 * differ between the interpreter and compiled code.
 *
 * <p><b>Exact GELU.</b> {@code gelu(x) = x·Φ(x)} with the normal tail {@code Q(t) = 1 − Φ(t)} for {@code t ≥ 0}:
 * {@code Φ(x) = Q(−x)} for {@code x < 0}, {@code 1 − Q(x)} otherwise. {@code Q(t) = τ·exp(P(τ − ½) − t²/2)} with
 * {@code τ = k/(k + t)}, {@code k = 2√2}: Numerical Recipes' {@code erfcc} form, with a degree-11 polynomial fitted
 * afresh for float32 by {@code src/main/python/fit_normal_tail.py}. The relative error of {@code Q} stays below
 * {@code 4e-7 + t²/2·2⁻²⁴} for every {@code t} (the second term is the rounding of the exponent), tails included,
 * so {@code gelu} keeps its digits for negative {@code x}, where {@code 1 + erf(x/√2)} would cancel.
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
    /** 1/√(2π), the normal density's factor. */
    static final float INV_SQRT_2PI = 0.3989422804014327f;
    /** k of the tail's variable {@code τ = k/(k + t)}. */
    static final float TAIL_K = 2.8284271247461903f;

    // P(s), s = τ − ½: made by src/main/python/fit_normal_tail.py (max float32 error of P 1.5e-7).
    static final float P0 = -1.3649412f;
    static final float P1 = 1.3452863f;
    static final float P2 = 0.18937555f;
    static final float P3 = -0.37514913f;
    static final float P4 = -0.15808031f;
    static final float P5 = 0.28188238f;
    static final float P6 = 0.114820175f;
    static final float P7 = -0.29296163f;
    static final float P8 = -0.05834489f;
    static final float P9 = 0.29376698f;
    static final float P10 = 0.008192194f;
    static final float P11 = -0.178755f;

    private ActivationMath() {
    }

    /** {@code e^z}, as {@link Exp#exp}, but {@code +∞} above {@link Exp#MAX_ARG} (where float overflows). */
    static float expOrInf(float z) {
        float e = Exp.exp(z);
        return z > Exp.MAX_ARG ? Float.POSITIVE_INFINITY : e;
    }

    /** {@code Q(t) = P(N(0,1) > t)} for {@code t ≥ 0} (or NaN). */
    static float normalTail(float t) {
        float tau = TAIL_K / (TAIL_K + t);
        float s = tau - 0.5f;
        float p = Math.fma(P11, s, P10);
        p = Math.fma(p, s, P9);
        p = Math.fma(p, s, P8);
        p = Math.fma(p, s, P7);
        p = Math.fma(p, s, P6);
        p = Math.fma(p, s, P5);
        p = Math.fma(p, s, P4);
        p = Math.fma(p, s, P3);
        p = Math.fma(p, s, P2);
        p = Math.fma(p, s, P1);
        p = Math.fma(p, s, P0);
        // −t²/2 + P in one rounding: −t/2 is exact, the fma rounds once
        return tau * Exp.exp(Math.fma(-0.5f * t, t, p));
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
        float density = INV_SQRT_2PI * Exp.exp(-0.5f * x * x);
        return Math.fma(x, density, normalCdf(x));
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
