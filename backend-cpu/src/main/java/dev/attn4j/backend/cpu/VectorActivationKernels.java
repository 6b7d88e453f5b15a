package dev.attn4j.backend.cpu;

import dev.attn4j.ports.activation.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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

    private static FloatVector value(Activation f, FloatVector x) {
        return switch (f) {
            case GELU -> x.mul(normalCdf(x));
            case GELU_TANH -> x.div(expOrInf(geluTanhArg(x).neg()).add(1f));
            case SILU -> x.div(expOrInf(x.neg()).add(1f));
            case RELU -> x.blend(0f, x.compare(VectorOperators.LT, 0f));
        };
    }

    private static FloatVector gradient(Activation f, FloatVector x, FloatVector dy) {
        switch (f) {
            case GELU -> {
                FloatVector density = VectorTileMath.exp(x.mul(-0.5f).mul(x)).mul(INV_SQRT_2PI);
                return dy.mul(x.fma(density, normalCdf(x)));
            }
            case GELU_TANH -> {
                FloatVector z = geluTanhArg(x);
                FloatVector e = expOrInf(z.neg());
                FloatVector sigma = FloatVector.broadcast(F, 1f).div(e.add(1f));
                FloatVector slope = x.mul(x).fma(THREE_KAPPA, 1f).mul(TWO_SQRT_2_OVER_PI);
                return dy.mul(x.mul(sigma).mul(rest(z, e, sigma)).fma(slope, sigma));
            }
            case SILU -> {
                FloatVector e = expOrInf(x.neg());
                FloatVector sigma = FloatVector.broadcast(F, 1f).div(e.add(1f));
                return dy.mul(sigma.mul(x.fma(rest(x, e, sigma), FloatVector.broadcast(F, 1f))));
            }
            case RELU -> {
                VectorMask<Float> positive = x.compare(VectorOperators.GT, 0f);
                return FloatVector.zero(F).blend(dy, positive);
            }
            default -> throw new IllegalArgumentException(f.name());
        }
    }

    @Override
    public void forward(Activation f, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        // One loop per function: C2 inlines a small loop body fully, and a vector that is not inlined is boxed.
        switch (f) {
            case GELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                    v.mul(normalCdf(v)).intoArray(y, yOff + i);
                }
            }
            case GELU_TANH -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                    v.div(expOrInf(geluTanhArg(v).neg()).add(1f)).intoArray(y, yOff + i);
                }
            }
            case SILU -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                    v.div(expOrInf(v.neg()).add(1f)).intoArray(y, yOff + i);
                }
            }
            case RELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                    v.blend(0f, v.compare(VectorOperators.LT, 0f)).intoArray(y, yOff + i);
                }
            }
        }
        ScalarActivationKernels.forwardFrom(f, x, xOff, y, yOff, i, n);
    }

    @Override
    public void backward(Activation f, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            gradient(f, FloatVector.fromArray(F, x, xOff + i), FloatVector.fromArray(F, dy, dyOff + i))
                    .intoArray(dx, dxOff + i);
        }
        ScalarActivationKernels.backwardFrom(f, x, xOff, dy, dyOff, dx, dxOff, i, n);
    }

    @Override
    public void glu(Activation f, float[] x, int aOff, int gOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, aOff + i);
            a.mul(value(f, FloatVector.fromArray(F, x, gOff + i))).intoArray(y, yOff + i);
        }
        ScalarActivationKernels.gluFrom(f, x, aOff, gOff, y, yOff, i, n);
    }

    @Override
    public void gluBackward(Activation f, float[] x, int aOff, int gOff, float[] dy, int dyOff, float[] dx, int daOff,
                            int dgOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, x, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            d.mul(value(f, g)).intoArray(dx, daOff + i);
            gradient(f, g, d.mul(FloatVector.fromArray(F, x, aOff + i))).intoArray(dx, dgOff + i);
        }
        ScalarActivationKernels.gluBackwardFrom(f, x, aOff, gOff, dy, dyOff, dx, daOff, dgOff, i, n);
    }
}
