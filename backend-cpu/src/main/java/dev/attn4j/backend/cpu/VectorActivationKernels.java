package dev.attn4j.backend.cpu;

import dev.attn4j.ports.activation.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static dev.attn4j.backend.cpu.ActivationMath.EXP2_C1;
import static dev.attn4j.backend.cpu.ActivationMath.EXP2_C2;
import static dev.attn4j.backend.cpu.ActivationMath.EXP2_C3;
import static dev.attn4j.backend.cpu.ActivationMath.EXP2_C4;
import static dev.attn4j.backend.cpu.ActivationMath.EXP2_C5;
import static dev.attn4j.backend.cpu.ActivationMath.KAPPA;
import static dev.attn4j.backend.cpu.ActivationMath.NEG_HALF_LOG2E;
import static dev.attn4j.backend.cpu.ActivationMath.NEG_LOG2_SQRT_2PI;
import static dev.attn4j.backend.cpu.ActivationMath.TAIL_SLOTS;
import static dev.attn4j.backend.cpu.ActivationMath.TAIL_T0;
import static dev.attn4j.backend.cpu.ActivationMath.THREE_KAPPA;
import static dev.attn4j.backend.cpu.ActivationMath.TWO_SQRT_2_OVER_PI;

/**
 * Vector API twin of {@link ScalarActivationKernels}; only loaded when {@link Simd#available()}. Each function is
 * {@link ActivationMath}'s sequence of operations lane by lane (branches become blends of both sides), and tails
 * run {@link ActivationMath} itself, so results match the scalar twin bit for bit.
 *
 * <p><b>Why the loops are called through method handles.</b> C2 inlines into one compilation only up to a node
 * count ({@code NodeCountInliningCutoff}), and a Vector API operation costs hundreds of nodes while parsing. Past
 * the cutoff it stops inlining our helpers, and every vector passed to a helper that was not inlined is boxed: a
 * loop then runs up to five times slower. One activation's loop fits; two do not — and they would meet whenever a
 * caller that serves several functions (this class's dispatch, a pool task) had them inlined, which depended on
 * which functions ran first. So every loop is a method of its own called through a {@link MethodHandle} read from
 * an array: not a compile-time constant, so never inlined, and each loop is compiled alone, whatever else runs.
 * The exact and tanh GELU gradients (and the GLU gradients) are too big even alone; they run as two loops over
 * {@link #STAGE}-element blocks that stay in L1, the first leaving {@code Φ(x)} or {@code e = exp(−z)} in the output
 * itself, the second finishing with the scalar twin's operations. A call costs a few nanoseconds, against about
 * a microsecond of work per block.
 *
 * <p><b>Exact GELU's tables.</b> {@link ActivationMath#normalTail} reads each coefficient from a table of
 * {@link ActivationMath#TAIL_SLOTS 16} entries at an index kept in the low bits of a float; here a lane permute
 * ({@code selectFrom}) does it, with no gather: one permute for 16 lanes, two or four and blends on the index's
 * high bits for 8 or 4. For any other width (no such platform is known) exact GELU runs the scalar twin.
 */
final class VectorActivationKernels implements ActivationKernels {
    private static final VectorSpecies<Float> F = VectorTileMath.species();
    private static final int L = F.length();
    /** Whether {@link Table} can look up {@link ActivationMath#TAIL_SLOTS} entries in vectors of this width. */
    private static final boolean TABLES = L == 16 || L == 8 || L == 4;

    private VectorActivationKernels() {
    }

    /** A new instance, typed as the interface so callers never link this class unless they run it. */
    static ActivationKernels create() {
        return new VectorActivationKernels();
    }

    private static FloatVector expOrInf(FloatVector z) {
        return VectorTileMath.exp(z).blend(Float.POSITIVE_INFINITY, z.compare(VectorOperators.GT, Exp.MAX_ARG));
    }

    /**
     * A {@link ActivationMath#TAIL_SLOTS}-entry table as float bits in {@code 16/L} vectors (the unused ones
     * null). Record components are trusted finals, so C2 folds a static table to constants.
     */
    private record Table(IntVector a, IntVector b, IntVector c, IntVector d) {
        static Table of(float[] entries) {
            if (!TABLES) {
                return new Table(null, null, null, null);
            }
            IntVector[] parts = new IntVector[4];
            for (int i = 0; i * L < TAIL_SLOTS; i++) {
                parts[i] = FloatVector.fromArray(F, entries, i * L).reinterpretAsInts();
            }
            return new Table(parts[0], parts[1], parts[2], parts[3]);
        }

        /** Entry {@code index & 15} in each lane: {@code selectFrom} wraps an index to its low bits. */
        FloatVector at(IntVector index) {
            IntVector v;
            if (L == 16) {
                v = index.selectFrom(a);
            } else if (L == 8) {
                v = index.selectFrom(a).blend(index.selectFrom(b), bit(index, 8));
            } else {
                VectorMask<Integer> two = bit(index, 4);
                v = index.selectFrom(a).blend(index.selectFrom(b), two)
                        .blend(index.selectFrom(c).blend(index.selectFrom(d), two), bit(index, 8));
            }
            return v.reinterpretAsFloats();
        }

        private static VectorMask<Integer> bit(IntVector index, int bit) {
            return index.and(bit).compare(VectorOperators.NE, 0);
        }
    }

    private static final Table TAIL_C0 = Table.of(ActivationMath.TAIL_C0);
    private static final Table TAIL_C1 = Table.of(ActivationMath.TAIL_C1);
    private static final Table TAIL_C2 = Table.of(ActivationMath.TAIL_C2);
    private static final Table TAIL_C3 = Table.of(ActivationMath.TAIL_C3);
    private static final Table TAIL_C4 = Table.of(ActivationMath.TAIL_C4);
    private static final Table TAIL_C5 = Table.of(ActivationMath.TAIL_C5);
    private static final Table TAIL_BIAS = Table.of(ActivationMath.TAIL_BIAS);

    /** {@link ActivationMath#pow2}. */
    private static FloatVector pow2(FloatVector p, FloatVector bias) {
        FloatVector m = p.add(bias);
        FloatVector r = p.sub(m.sub(bias));
        FloatVector e = r.fma(EXP2_C5, EXP2_C4);
        e = e.fma(r, FloatVector.broadcast(F, EXP2_C3));
        e = e.fma(r, FloatVector.broadcast(F, EXP2_C2));
        e = e.fma(r, FloatVector.broadcast(F, EXP2_C1));
        e = e.fma(r, FloatVector.broadcast(F, 1f));
        IntVector bits = m.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23);
        return e.mul(bits.reinterpretAsFloats());
    }

    private static FloatVector normalTail(FloatVector t) {
        VectorMask<Float> far = t.compare(VectorOperators.GT, TAIL_T0);
        FloatVector tc = t.blend(TAIL_T0, far);
        FloatVector k = tc.add(Exp.ROUNDER);
        IntVector j = k.reinterpretAsInts();
        FloatVector u = tc.sub(k.sub(Exp.ROUNDER));
        FloatVector p = TAIL_C5.at(j).fma(u, TAIL_C4.at(j));
        p = p.fma(u, TAIL_C3.at(j));
        p = p.fma(u, TAIL_C2.at(j));
        p = p.fma(u, TAIL_C1.at(j));
        p = p.fma(u, TAIL_C0.at(j));
        return pow2(p, TAIL_BIAS.at(j)).blend(0f, far);
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

    // The functions, lane-wise: small methods, inlined into the one loop that calls them.

    /** {@link ActivationMath#density}: {@code φ(x) = exp(−x²/2)/√(2π)}. */
    private static FloatVector density(FloatVector x) {
        FloatVector t = x.abs();
        VectorMask<Float> far = t.compare(VectorOperators.GT, TAIL_T0);
        FloatVector tc = t.blend(TAIL_T0, far);
        FloatVector h = tc.mul(NEG_HALF_LOG2E).fma(tc, FloatVector.broadcast(F, NEG_LOG2_SQRT_2PI));
        return pow2(h, FloatVector.broadcast(F, Exp.ROUNDER)).blend(0f, far);
    }

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

    // ------------------------------------------------------------------------------------------- the loops

    /** Elements per block of a two-loop gradient. */
    private static final int STAGE = 1024;

    /** {@code (x, xOff, y, yOff, i0, i1)}: y from x. */
    private static final MethodType UNARY = MethodType.methodType(void.class, float[].class, int.class, float[].class,
            int.class, int.class, int.class);
    /** {@code (x, xOff, dy, dyOff, dx, dxOff, i0, i1)}: dx from x and dy (and dx itself, in a second loop). */
    private static final MethodType BINARY = MethodType.methodType(void.class, float[].class, int.class, float[].class,
            int.class, float[].class, int.class, int.class, int.class);
    /** {@code (a, aOff, g, gOff, y, yOff, i0, i1)}: a GLU forward. */
    private static final MethodType GLU = MethodType.methodType(void.class, float[].class, int.class, float[].class,
            int.class, float[].class, int.class, int.class, int.class);
    /** {@code (a, aOff, g, gOff, dy, dyOff, dx, daOff, dgOff, i0, i1)}: a GLU backward. */
    private static final MethodType GLU_BACKWARD = MethodType.methodType(void.class, float[].class, int.class,
            float[].class, int.class, float[].class, int.class, float[].class, int.class, int.class, int.class, int.class);

    // By Activation ordinal (GELU, GELU_TANH, SILU, RELU). Array elements are not constants to C2: see the class doc.
    private static final MethodHandle[] FORWARD = loops(UNARY, "geluForward", "geluTanhForward", "siluForward",
            "reluForward");
    /** One loop, or the first of two (leaving Φ or e in dx). */
    private static final MethodHandle[] BACKWARD_FIRST = loops(UNARY, "normalCdfInto", "geluTanhExpInto", null, null);
    private static final MethodHandle[] BACKWARD = loops(BINARY, "geluGradFromCdf", "geluTanhGradFromExp",
            "siluBackward", "reluBackward");
    private static final MethodHandle[] GLU_FORWARD = loops(GLU, "geluGlu", "geluTanhGlu", "siluGlu", "reluGlu");
    /** The first of two loops of a GLU backward (leaving Φ(g) or e in the dg half), where there are two. */
    private static final MethodHandle[] GLU_BACKWARD_FIRST = loops(UNARY, "normalCdfInto", "geluTanhExpInto",
            "siluExpInto", null);
    private static final MethodHandle[] GLU_BACKWARD_LOOP = loops(GLU_BACKWARD, "geluGluFromCdf", "geluTanhGluFromExp",
            "siluGluFromExp", "reluGluBackward");

    private static MethodHandle[] loops(MethodType type, String... names) {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle[] handles = new MethodHandle[names.length];
        try {
            for (int i = 0; i < names.length; i++) {
                handles[i] = names[i] == null ? null : lookup.findStatic(VectorActivationKernels.class, names[i], type);
            }
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        return handles;
    }

    /** A loop threw (it cannot, short of a bug or an error): pass it on unchanged. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    /** Exact GELU where {@link Table} cannot look up its tables: all of it in the scalar twin (a bound of 0). */
    private static boolean scalarGelu(Activation f) {
        return f == Activation.GELU && !TABLES;
    }

    @Override
    public void forward(Activation f, float[] x, int xOff, float[] y, int yOff, int n) {
        int bound = scalarGelu(f) ? 0 : F.loopBound(n);
        try {
            FORWARD[f.ordinal()].invokeExact(x, xOff, y, yOff, 0, bound);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        ScalarActivationKernels.forwardFrom(f, x, xOff, y, yOff, bound, n);
    }

    @Override
    public void backward(Activation f, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int n) {
        int bound = scalarGelu(f) ? 0 : F.loopBound(n);
        MethodHandle first = BACKWARD_FIRST[f.ordinal()];
        MethodHandle loop = BACKWARD[f.ordinal()];
        try {
            if (first == null) {
                loop.invokeExact(x, xOff, dy, dyOff, dx, dxOff, 0, bound);
            } else {
                for (int i0 = 0; i0 < bound; i0 += STAGE) {
                    int i1 = Math.min(bound, i0 + STAGE);
                    first.invokeExact(x, xOff, dx, dxOff, i0, i1);
                    loop.invokeExact(x, xOff, dy, dyOff, dx, dxOff, i0, i1);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        ScalarActivationKernels.backwardFrom(f, x, xOff, dy, dyOff, dx, dxOff, bound, n);
    }

    @Override
    public void glu(Activation f, float[] a, int aOff, float[] g, int gOff, float[] y, int yOff, int n) {
        int bound = scalarGelu(f) ? 0 : F.loopBound(n);
        try {
            GLU_FORWARD[f.ordinal()].invokeExact(a, aOff, g, gOff, y, yOff, 0, bound);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        ScalarActivationKernels.gluFrom(f, a, aOff, g, gOff, y, yOff, bound, n);
    }

    @Override
    public void gluBackward(Activation f, float[] a, int aOff, float[] g, int gOff, float[] dy, int dyOff, float[] dx,
                            int daOff, int dgOff, int n) {
        int bound = scalarGelu(f) ? 0 : F.loopBound(n);
        MethodHandle first = GLU_BACKWARD_FIRST[f.ordinal()];
        MethodHandle loop = GLU_BACKWARD_LOOP[f.ordinal()];
        try {
            if (first == null) {
                loop.invokeExact(a, aOff, g, gOff, dy, dyOff, dx, daOff, dgOff, 0, bound);
            } else {
                for (int i0 = 0; i0 < bound; i0 += STAGE) {
                    int i1 = Math.min(bound, i0 + STAGE);
                    first.invokeExact(g, gOff, dx, dgOff, i0, i1);
                    loop.invokeExact(a, aOff, g, gOff, dy, dyOff, dx, daOff, dgOff, i0, i1);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        ScalarActivationKernels.gluBackwardFrom(f, a, aOff, g, gOff, dy, dyOff, dx, daOff, dgOff, bound, n);
    }

    // Forward loops: y = f(x).

    private static void geluForward(float[] x, int xOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            gelu(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    private static void geluTanhForward(float[] x, int xOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            geluTanh(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    private static void siluForward(float[] x, int xOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            silu(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    private static void reluForward(float[] x, int xOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            relu(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
    }

    // First loops of two: an intermediate value into the output.

    /** {@code out[i] = Φ(x[i])}. */
    private static void normalCdfInto(float[] x, int xOff, float[] out, int outOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            normalCdf(FloatVector.fromArray(F, x, xOff + i)).intoArray(out, outOff + i);
        }
    }

    /** {@code out[i] = e = expOrInf(−z)}, {@code z} tanh-GELU's logistic argument. */
    private static void geluTanhExpInto(float[] x, int xOff, float[] out, int outOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            expOrInf(geluTanhArg(FloatVector.fromArray(F, x, xOff + i)).neg()).intoArray(out, outOff + i);
        }
    }

    /** {@code out[i] = e = expOrInf(−x[i])}. */
    private static void siluExpInto(float[] x, int xOff, float[] out, int outOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            expOrInf(FloatVector.fromArray(F, x, xOff + i).neg()).intoArray(out, outOff + i);
        }
    }

    // Backward loops: dx = dy·f'(x).

    /** {@code dx[i] = dy[i]·(Φ + x·φ(x))} with {@code Φ} read from {@code dx[i]}. */
    private static void geluGradFromCdf(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int i0,
                                        int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            FloatVector grad = v.fma(density(v), FloatVector.fromArray(F, dx, dxOff + i));
            FloatVector.fromArray(F, dy, dyOff + i).mul(grad).intoArray(dx, dxOff + i);
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

    private static void siluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            FloatVector.fromArray(F, dy, dyOff + i).mul(siluGrad(v, expOrInf(v.neg()))).intoArray(dx, dxOff + i);
        }
    }

    private static void reluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            reluBackward(FloatVector.fromArray(F, x, xOff + i), FloatVector.fromArray(F, dy, dyOff + i))
                    .intoArray(dx, dxOff + i);
        }
    }

    // GLU forward loops: y = a·f(g).

    private static void geluGlu(float[] value, int aOff, float[] gate, int gOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector a = FloatVector.fromArray(F, value, aOff + i);
            a.mul(gelu(FloatVector.fromArray(F, gate, gOff + i))).intoArray(y, yOff + i);
        }
    }

    private static void geluTanhGlu(float[] value, int aOff, float[] gate, int gOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector a = FloatVector.fromArray(F, value, aOff + i);
            a.mul(geluTanh(FloatVector.fromArray(F, gate, gOff + i))).intoArray(y, yOff + i);
        }
    }

    private static void siluGlu(float[] value, int aOff, float[] gate, int gOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector a = FloatVector.fromArray(F, value, aOff + i);
            a.mul(silu(FloatVector.fromArray(F, gate, gOff + i))).intoArray(y, yOff + i);
        }
    }

    private static void reluGlu(float[] value, int aOff, float[] gate, int gOff, float[] y, int yOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector a = FloatVector.fromArray(F, value, aOff + i);
            a.mul(relu(FloatVector.fromArray(F, gate, gOff + i))).intoArray(y, yOff + i);
        }
    }

    // GLU backward loops: da = dy·f(g) and dg = (dy·a)·f'(g), as the scalar twin's value and gradient, with Φ(g) or
    // e read from the dg half where a first loop left it.

    private static void geluGluFromCdf(float[] value, int aOff, float[] gate, int gOff, float[] dy, int dyOff,
                                       float[] dx, int daOff, int dgOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            FloatVector cdf = FloatVector.fromArray(F, dx, dgOff + i);
            d.mul(g.mul(cdf)).intoArray(dx, daOff + i);
            d.mul(FloatVector.fromArray(F, value, aOff + i)).mul(g.fma(density(g), cdf)).intoArray(dx, dgOff + i);
        }
    }

    private static void geluTanhGluFromExp(float[] value, int aOff, float[] gate, int gOff, float[] dy, int dyOff,
                                           float[] dx, int daOff, int dgOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            FloatVector e = FloatVector.fromArray(F, dx, dgOff + i);
            d.mul(g.div(e.add(1f))).intoArray(dx, daOff + i);
            d.mul(FloatVector.fromArray(F, value, aOff + i)).mul(geluTanhGrad(g, e)).intoArray(dx, dgOff + i);
        }
    }

    private static void siluGluFromExp(float[] value, int aOff, float[] gate, int gOff, float[] dy, int dyOff,
                                       float[] dx, int daOff, int dgOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            FloatVector e = FloatVector.fromArray(F, dx, dgOff + i);
            d.mul(g.div(e.add(1f))).intoArray(dx, daOff + i);
            d.mul(FloatVector.fromArray(F, value, aOff + i)).mul(siluGrad(g, e)).intoArray(dx, dgOff + i);
        }
    }

    private static void reluGluBackward(float[] value, int aOff, float[] gate, int gOff, float[] dy, int dyOff,
                                        float[] dx, int daOff, int dgOff, int i0, int i1) {
        for (int i = i0; i < i1; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
            d.mul(relu(g)).intoArray(dx, daOff + i);
            reluBackward(g, d.mul(FloatVector.fromArray(F, value, aOff + i))).intoArray(dx, dgOff + i);
        }
    }
}
