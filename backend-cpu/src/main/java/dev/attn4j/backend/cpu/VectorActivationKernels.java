package dev.attn4j.backend.cpu;

import dev.attn4j.ports.activation.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static dev.attn4j.backend.cpu.ActivationMath.INV_SQRT_2PI;
import static dev.attn4j.backend.cpu.ActivationMath.KAPPA;
import static dev.attn4j.backend.cpu.ActivationMath.TAIL_K;
import static dev.attn4j.backend.cpu.ActivationMath.THREE_KAPPA;
import static dev.attn4j.backend.cpu.ActivationMath.TWO_SQRT_2_OVER_PI;

/**
 * Vector API twin of {@link ScalarActivationKernels}; only loaded when {@link Simd#available()}. Each function is
 * {@link ActivationMath}'s sequence of operations lane by lane (branches become blends of both sides), and tails
 * run {@link ActivationMath} itself, so results match the scalar twin bit for bit.
 */
final class VectorActivationKernels implements ActivationKernels {
    private static final VectorSpecies<Float> F = VectorTileMath.species();
    private static final int L = F.length();

    private VectorActivationKernels() {
    }

    /** A new instance, typed as the interface so callers never link this class unless they run it. */
    static ActivationKernels create() {
        return new VectorActivationKernels();
    }

    private static FloatVector expOrInf(FloatVector z) {
        return VectorTileMath.exp(z).blend(Float.POSITIVE_INFINITY, z.compare(VectorOperators.GT, Exp.MAX_ARG));
    }

    private static FloatVector normalTail(FloatVector t) {
        FloatVector tau = FloatVector.broadcast(F, TAIL_K).div(t.add(TAIL_K));
        FloatVector s = tau.sub(0.5f);
        FloatVector p = s.fma(ActivationMath.P11, ActivationMath.P10);
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P9));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P8));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P7));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P6));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P5));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P4));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P3));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P2));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P1));
        p = p.fma(s, FloatVector.broadcast(F, ActivationMath.P0));
        return tau.mul(VectorTileMath.exp(t.mul(-0.5f).fma(t, p)));
    }

    private static FloatVector normalCdf(FloatVector x) {
        FloatVector q = normalTail(x.abs());
        return FloatVector.broadcast(F, 1f).sub(q).blend(q, x.compare(VectorOperators.LT, 0f));
    }

    private static FloatVector geluTanhArg(FloatVector x) {
        FloatVector x2 = x.mul(x);
        return x2.mul(KAPPA).fma(x, x).mul(TWO_SQRT_2_OVER_PI);
    }

    /** {@code 1 − σ}: {@code e·σ} where the logistic argument {@code z > 0}, else {@code 1 − σ}. */
    private static FloatVector rest(FloatVector z, FloatVector e, FloatVector sigma) {
        return FloatVector.broadcast(F, 1f).sub(sigma).blend(e.mul(sigma), z.compare(VectorOperators.GT, 0f));
    }

    // The functions, lane-wise. Small methods: C2 inlines each into the loop that calls it; a vector that is not
    // inlined is boxed, and that costs ten times the arithmetic.

    private static FloatVector gelu(FloatVector x) {
        return x.mul(normalCdf(x));
    }

    private static FloatVector geluTanh(FloatVector x) {
        return x.div(expOrInf(geluTanhArg(x).neg()).add(1f));
    }

    /** tanh-GELU's derivative given {@code e = expOrInf(−z)}. */
    private static FloatVector geluTanhGrad(FloatVector x, FloatVector e) {
        FloatVector z = geluTanhArg(x);
        FloatVector sigma = FloatVector.broadcast(F, 1f).div(e.add(1f));
        FloatVector slope = x.mul(x).fma(THREE_KAPPA, 1f).mul(TWO_SQRT_2_OVER_PI);
        return x.mul(sigma).mul(rest(z, e, sigma)).fma(slope, sigma);
    }

    private static FloatVector silu(FloatVector x) {
        return x.div(expOrInf(x.neg()).add(1f));
    }

    private static FloatVector siluGrad(FloatVector x) {
        return siluGrad(x, expOrInf(x.neg()));
    }

    /** SiLU's derivative given {@code e = expOrInf(−x)}. */
    private static FloatVector siluGrad(FloatVector x, FloatVector e) {
        FloatVector sigma = FloatVector.broadcast(F, 1f).div(e.add(1f));
        return sigma.mul(x.fma(rest(x, e, sigma), FloatVector.broadcast(F, 1f)));
    }

    private static FloatVector relu(FloatVector x) {
        return x.blend(0f, x.compare(VectorOperators.LT, 0f));
    }

    /** {@code dy} where {@code x > 0}, else 0. */
    private static FloatVector reluBackward(FloatVector x, FloatVector dy) {
        return FloatVector.zero(F).blend(dy, x.compare(VectorOperators.GT, 0f));
    }

    // One loop method per function and call: each is its own compilation with its own inlining budget (one
    // method holding every function's loop ran out of it, and the later loops boxed their vectors).

    @Override
    public void forward(Activation f, float[] x, int xOff, float[] y, int yOff, int n) {
        int bound = F.loopBound(n);
        switch (f) {
            case GELU -> geluForward(x, xOff, y, yOff, bound);
            case GELU_TANH -> geluTanhForward(x, xOff, y, yOff, bound);
            case SILU -> siluForward(x, xOff, y, yOff, bound);
            case RELU -> reluForward(x, xOff, y, yOff, bound);
        }
        ScalarActivationKernels.forwardFrom(f, x, xOff, y, yOff, bound, n);
    }

    private static void geluForward(float[] x, int xOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            gelu(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    private static void geluTanhForward(float[] x, int xOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            geluTanh(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    private static void siluForward(float[] x, int xOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            silu(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    private static void reluForward(float[] x, int xOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            relu(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    @Override
    public void backward(Activation f, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int n) {
        int bound = F.loopBound(n);
        switch (f) {
            case GELU -> geluBackward(x, xOff, dy, dyOff, dx, dxOff, bound);
            case GELU_TANH -> geluTanhBackward(x, xOff, dy, dyOff, dx, dxOff, bound);
            case SILU -> siluBackward(x, xOff, dy, dyOff, dx, dxOff, bound);
            case RELU -> reluBackward(x, xOff, dy, dyOff, dx, dxOff, bound);
        }
        ScalarActivationKernels.backwardFrom(f, x, xOff, dy, dyOff, dx, dxOff, bound, n);
    }

    // The exact and tanh GELU gradients are too much code for one loop: C2 stops inlining at its node-count cutoff
    // and the rest boxes. They run in two passes over blocks of STAGE elements that stay in L1, the first leaving an
    // intermediate value (Φ(x), or e = exp(−z)) in the output itself: the same operations as the scalar twin, so
    // the same bits, and no scratch memory.

    /** Elements per two-pass block. */
    private static final int STAGE = 1024;

    private static void geluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int bound) {
        for (int i0 = 0; i0 < bound; i0 += STAGE) {
            int i1 = Math.min(bound, i0 + STAGE);
            normalCdfInto(x, xOff, dx, dxOff, i0, i1);
            geluGradFromCdf(x, xOff, dy, dyOff, dx, dxOff, i0, i1);
        }
    }

    /** {@code out[i] = Φ(x[i])}. */
    private static void normalCdfInto(float[] x, int xOff, float[] out, int outOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            normalCdf(FloatVector.fromArray(F, x, xOff + i)).intoArray(out, outOff + i);
        }
    }

    /** {@code dx[i] = dy[i]·(Φ + x·φ(x))} with {@code Φ} read from {@code dx[i]}. */
    private static void geluGradFromCdf(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            FloatVector density = VectorTileMath.exp(v.mul(-0.5f).mul(v)).mul(INV_SQRT_2PI);
            FloatVector grad = v.fma(density, FloatVector.fromArray(F, dx, dxOff + i));
            FloatVector.fromArray(F, dy, dyOff + i).mul(grad).intoArray(dx, dxOff + i);
        }
    }

    private static void geluTanhBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int bound) {
        for (int i0 = 0; i0 < bound; i0 += STAGE) {
            int i1 = Math.min(bound, i0 + STAGE);
            geluTanhExpInto(x, xOff, dx, dxOff, i0, i1);
            geluTanhGradFromExp(x, xOff, dy, dyOff, dx, dxOff, i0, i1);
        }
    }

    /** {@code out[i] = e = expOrInf(−z)}, {@code z} tanh-GELU's logistic argument. */
    private static void geluTanhExpInto(float[] x, int xOff, float[] out, int outOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            expOrInf(geluTanhArg(FloatVector.fromArray(F, x, xOff + i)).neg()).intoArray(out, outOff + i);
        }
    }

    /** tanh-GELU's gradient from {@code e} (read from {@code dx[i]}), times {@code dy}. */
    private static void geluTanhGradFromExp(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int i0,
                                            int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector.fromArray(F, dy, dyOff + i).mul(geluTanhGrad(FloatVector.fromArray(F, x, xOff + i),
                    FloatVector.fromArray(F, dx, dxOff + i))).intoArray(dx, dxOff + i);
        }
    }

    private static void siluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector g = siluGrad(FloatVector.fromArray(F, x, xOff + i));
            FloatVector.fromArray(F, dy, dyOff + i).mul(g).intoArray(dx, dxOff + i);
        }
    }

    private static void reluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            reluBackward(FloatVector.fromArray(F, x, xOff + i), FloatVector.fromArray(F, dy, dyOff + i))
                    .intoArray(dx, dxOff + i);
        }
    }

    @Override
    public void glu(Activation f, float[] x, int aOff, int gOff, float[] y, int yOff, int n) {
        int bound = F.loopBound(n);
        switch (f) {
            case GELU -> geluGlu(x, aOff, gOff, y, yOff, bound);
            case GELU_TANH -> geluTanhGlu(x, aOff, gOff, y, yOff, bound);
            case SILU -> siluGlu(x, aOff, gOff, y, yOff, bound);
            case RELU -> reluGlu(x, aOff, gOff, y, yOff, bound);
        }
        ScalarActivationKernels.gluFrom(f, x, aOff, gOff, y, yOff, bound, n);
    }

    private static void geluGlu(float[] x, int aOff, int gOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, aOff + i);
            a.mul(gelu(FloatVector.fromArray(F, x, gOff + i))).intoArray(y, yOff + i);
        }
    }

    private static void geluTanhGlu(float[] x, int aOff, int gOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, aOff + i);
            a.mul(geluTanh(FloatVector.fromArray(F, x, gOff + i))).intoArray(y, yOff + i);
        }
    }

    private static void siluGlu(float[] x, int aOff, int gOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, aOff + i);
            a.mul(silu(FloatVector.fromArray(F, x, gOff + i))).intoArray(y, yOff + i);
        }
    }

    private static void reluGlu(float[] x, int aOff, int gOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, aOff + i);
            a.mul(relu(FloatVector.fromArray(F, x, gOff + i))).intoArray(y, yOff + i);
        }
    }

    @Override
    public void gluBackward(Activation f, float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                            int dgOff, int n) {
        int bound = F.loopBound(n);
        switch (f) {
            case GELU -> geluGluBackward(x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, bound);
            case GELU_TANH -> geluTanhGluBackward(x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, bound);
            case SILU -> siluGluBackward(x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, bound);
            case RELU -> reluGluBackward(x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, bound);
        }
        ScalarActivationKernels.gluBackwardFrom(f, x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, bound, n);
    }

    // da = dy·f(g) and dg = (dy·a)·f'(g), as the scalar twin's value and gradient.

    // Two passes as the plain backward: Φ(g) (or e) is left in the dg half, then both halves are written.

    private static void geluGluBackward(float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                                        int dgOff, int bound) {
        for (int i0 = 0; i0 < bound; i0 += STAGE) {
            int i1 = Math.min(bound, i0 + STAGE);
            normalCdfInto(x, gOff, dx, dgOff, i0, i1);
            geluGluFromCdf(x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, i0, i1);
        }
    }

    private static void geluGluFromCdf(float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                                       int dgOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector g = FloatVector.fromArray(F, x, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            FloatVector cdf = FloatVector.fromArray(F, dx, dgOff + i);
            d.mul(g.mul(cdf)).intoArray(dx, daOff + i);
            FloatVector density = VectorTileMath.exp(g.mul(-0.5f).mul(g)).mul(INV_SQRT_2PI);
            d.mul(FloatVector.fromArray(F, x, aOff + i)).mul(g.fma(density, cdf)).intoArray(dx, dgOff + i);
        }
    }

    private static void geluTanhGluBackward(float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                                            int dgOff, int bound) {
        for (int i0 = 0; i0 < bound; i0 += STAGE) {
            int i1 = Math.min(bound, i0 + STAGE);
            geluTanhExpInto(x, gOff, dx, dgOff, i0, i1);
            geluTanhGluFromExp(x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, i0, i1);
        }
    }

    private static void geluTanhGluFromExp(float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                                           int dgOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector g = FloatVector.fromArray(F, x, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            FloatVector e = FloatVector.fromArray(F, dx, dgOff + i);
            d.mul(g.div(e.add(1f))).intoArray(dx, daOff + i);
            d.mul(FloatVector.fromArray(F, x, aOff + i)).mul(geluTanhGrad(g, e)).intoArray(dx, dgOff + i);
        }
    }

    private static void siluGluBackward(float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                                        int dgOff, int bound) {
        for (int i0 = 0; i0 < bound; i0 += STAGE) {
            int i1 = Math.min(bound, i0 + STAGE);
            siluExpInto(x, gOff, dx, dgOff, i0, i1);
            siluGluFromExp(x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, i0, i1);
        }
    }

    /** {@code out[i] = e = expOrInf(−x[i])}. */
    private static void siluExpInto(float[] x, int xOff, float[] out, int outOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            expOrInf(FloatVector.fromArray(F, x, xOff + i).neg()).intoArray(out, outOff + i);
        }
    }

    private static void siluGluFromExp(float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                                       int dgOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector g = FloatVector.fromArray(F, x, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            FloatVector e = FloatVector.fromArray(F, dx, dgOff + i);
            d.mul(g.div(e.add(1f))).intoArray(dx, daOff + i);
            d.mul(FloatVector.fromArray(F, x, aOff + i)).mul(siluGrad(g, e)).intoArray(dx, dgOff + i);
        }
    }

    private static void reluGluBackward(float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                                        int dgOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, x, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            d.mul(relu(g)).intoArray(dx, daOff + i);
            reluBackward(g, d.mul(FloatVector.fromArray(F, x, aOff + i))).intoArray(dx, dgOff + i);
        }
    }
}
