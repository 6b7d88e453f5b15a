package dev.attn4j.oracle;

import dev.attn4j.ports.tensor.DType;

/**
 * The pass rule of docs/design.md §7 (PyTorch's): a tested tensor passes when
 * {@code max|golden − test| ≤ max(atol(dtype), FUDGE · max|golden − ref|)}, where golden is the float64
 * oracle and ref the same oracle in the tested dtype. NaN never passes; an infinite golden value (the
 * {@code lse = −∞} of a fully masked row) must be matched exactly, and then counts as no error.
 *
 * <p>Absolute floors, after PyTorch's {@code assert_close} defaults: F32 uses its {@code atol} 1e-5; F16 and
 * BF16 use their {@code rtol} (1e-3 and 1.6e-2) as an absolute floor, since the suite's values are of
 * order one and the rule has no relative term. The floor only matters where the ref is (nearly) exact;
 * elsewhere {@code 5 · max|golden − ref|} decides. The floor is that of the <em>case's</em> storage type for every
 * output, including those held in F32 ({@code lse}, statistics, γ/β and bias-table gradients): in a BF16 case they
 * are computed from BF16-stored values, and an honest kernel may round at other points than the ref does (for
 * example, normalising the fp32 residual sum while saving it in BF16), which the ref cannot foresee.
 *
 * <pre>{@code
 * PassRule.Check c = PassRule.check("o", golden.o(), ref.o(), testO, DType.F32);
 * if (!c.passed()) System.err.println(c.describe());
 * PassRule.check("dq", golden.dq(), ref.dq(), testDq, DType.F32).requirePassed();   // in a test
 * }</pre>
 */
public final class PassRule {
    /** The fudge factor on the ref's error, for outputs and gradients alike. */
    public static final double FUDGE = 5.0;

    private PassRule() {
    }

    /**
     * {@return the absolute floor for a storage type}
     *
     * @param dtype storage dtype
     */
    public static double atol(DType dtype) {
        return switch (dtype) {
            case F32 -> 1e-5;
            case F16 -> 1e-3;
            case BF16 -> 1.6e-2;
            default -> throw new IllegalArgumentException("dtype: expected F32, F16 or BF16, got " + dtype);
        };
    }

    /**
     * The verdict on one tensor.
     *
     * @param name       the tensor's name ({@code o}, {@code dq}, ...)
     * @param maxError   {@code max|golden − test|} (+∞ on NaN or an unmatched infinity)
     * @param refError   {@code max|golden − ref|}
     * @param tolerance  {@code max(atol, FUDGE · refError)}
     * @param worstIndex where {@code maxError} was found (−1 when nothing differs)
     * @param golden     golden value there
     * @param test       tested value there
     * @param nan        whether the tested tensor holds a NaN
     */
    public record Check(String name, double maxError, double refError, double tolerance, int worstIndex,
                        double golden, double test, boolean nan) {

        /** {@return {@code maxError / tolerance}; ≤ 1 passes (0 when nothing differs, even for an {@link #exact} check)} */
        public double ratio() {
            return maxError == 0 ? 0 : maxError / tolerance;
        }

        /** {@return whether the tensor passes} */
        public boolean passed() {
            return !nan && maxError <= tolerance;
        }

        /**
         * This check, when it passed.
         *
         * @return this check
         * @throws AssertionError with {@link #describe()} when it did not (test frameworks report it as a failure)
         */
        public Check requirePassed() {
            if (!passed()) {
                throw new AssertionError(describe());
            }
            return this;
        }

        /** {@return one line for a report} */
        public String describe() {
            String where = worstIndex < 0 ? "" : " at [" + worstIndex + "] (golden " + golden + ", test " + test + ")";
            if (tolerance == 0) {
                return String.format("%s: max|golden-test| = %.3g%s, bit-exact expected%s", name, maxError, where,
                        nan ? ", NaN found" : "");
            }
            return String.format("%s: max|golden-test| = %.3g%s %s tolerance %.3g (5*max|golden-ref| = %.3g)%s",
                    name, maxError, where, passed() ? "<=" : ">", tolerance, FUDGE * refError, nan ? ", NaN found" : "");
        }
    }

    /**
     * Checks {@code test} against {@code golden}, with {@code ref} setting the tolerance.
     *
     * @param name the tensor's name ({@code o}, {@code dq}, ...)
     * @param golden golden value there
     * @param ref the same computation in the tested precision
     * @param test tested value there
     * @param dtype storage dtype
     * @return the verdict
     */
    public static Check check(String name, double[] golden, double[] ref, float[] test, DType dtype) {
        if (golden.length != ref.length || golden.length != test.length) {
            throw new IllegalArgumentException(name + ": lengths differ: golden " + golden.length + ", ref "
                    + ref.length + ", test " + test.length);
        }
        double maxError = 0;
        double refError = 0;
        int worst = -1;
        boolean nan = false;
        for (int n = 0; n < golden.length; n++) {
            refError = Math.max(refError, error(golden[n], ref[n]));
            if (Double.isNaN(test[n])) {
                nan = true;
            }
            double e = error(golden[n], test[n]);
            if (e > maxError || (Double.isNaN(test[n]) && worst < 0)) {
                maxError = Math.max(maxError, e);
                worst = n;
            }
        }
        if (Double.isNaN(refError) || Double.isInfinite(refError)) {
            // The ref disagreeing on an infinity would be an oracle fault; never let it widen the tolerance.
            refError = 0;
        }
        double tolerance = Math.max(atol(dtype), FUDGE * refError);
        return new Check(name, maxError, refError, tolerance, worst, worst < 0 ? 0 : golden[worst],
                worst < 0 ? 0 : test[worst], nan);
    }

    /**
     * Checks {@code test} against {@code expected} exactly, for ops whose result the design fixes bit for bit (the
     * Philox uniform fill, copies, casts, fills): tolerance 0, so any difference fails.
     *
     * @param name     the tensor's name
     * @param expected the values the design fixes
     * @param test     the tested values
     * @return the verdict
     */
    public static Check exact(String name, double[] expected, float[] test) {
        if (expected.length != test.length) {
            throw new IllegalArgumentException(name + ": lengths differ: expected " + expected.length + ", test "
                    + test.length);
        }
        double maxError = 0;
        int worst = -1;
        boolean nan = false;
        for (int n = 0; n < expected.length; n++) {
            nan |= Double.isNaN(test[n]) && !Double.isNaN(expected[n]);
            double e = Double.isNaN(expected[n]) && Double.isNaN(test[n]) ? 0 : error(expected[n], test[n]);
            if (e > maxError) {
                maxError = e;
                worst = n;
            }
        }
        return new Check(name, maxError, 0, 0, worst, worst < 0 ? 0 : expected[worst], worst < 0 ? 0 : test[worst], nan);
    }

    /** {@code |g − t|}, 0 for equal infinities, +∞ for NaN or an unmatched infinity. */
    static double error(double g, double t) {
        if (g == t) {
            return 0;
        }
        if (Double.isNaN(g) || Double.isNaN(t) || Double.isInfinite(g) || Double.isInfinite(t)) {
            return Double.POSITIVE_INFINITY;
        }
        return Math.abs(g - t);
    }
}
