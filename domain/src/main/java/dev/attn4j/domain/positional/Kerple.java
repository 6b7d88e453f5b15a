package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;

/**
 * KERPLE, logarithmic variant (Chi et al., "KERPLE: Kernelized Relative Positional Embedding for Length
 * Extrapolation"): head {@code h} adds {@code -r1_h · log(1 + r2_h · |i + off - j|)} with learned
 * {@code r1_h, r2_h > 0}.
 *
 * <pre>{@code
 * Kerple kerple = Kerple.of(r1, r2);                       // one pair per head
 * RelativeBiasTable table = RelativeBiasTable.of(kerple, seqQ, seqK);
 * }</pre>
 *
 * @param r1 per-head scale, {@code > 0}
 * @param r2 per-head distance scale, {@code > 0}
 */
public record Kerple(float[] r1, float[] r2) implements RelativeBias {

    /** Validates (same length, finite, positive) and copies. */
    public Kerple {
        InvalidRequestException.check(r1 != null && r1.length >= 1, "r1", "one value per head", r1 == null ? "null" : "none");
        InvalidRequestException.check(r2 != null && r2.length == r1.length, "r2", r1.length + " values (as r1)",
                r2 == null ? "null" : r2.length);
        r1 = r1.clone();
        r2 = r2.clone();
        for (int h = 0; h < r1.length; h++) {
            InvalidRequestException.check(Float.isFinite(r1[h]) && r1[h] > 0, "r1[" + h + "]", "a finite value > 0", r1[h]);
            InvalidRequestException.check(Float.isFinite(r2[h]) && r2[h] > 0, "r2[" + h + "]", "a finite value > 0", r2[h]);
        }
    }

    /** {@return the scheme with the given per-head parameters} */
    public static Kerple of(float[] r1, float[] r2) {
        return new Kerple(r1, r2);
    }

    @Override
    public int heads() {
        return r1.length;
    }

    @Override
    public double bias(int head, int relative) {
        return 0.0 - (double) r1[head] * Math.log1p((double) r2[head] * Math.abs(relative));  // no -0.0
    }

    /** {@return a copy of {@code r1}} */
    @Override
    public float[] r1() {
        return r1.clone();
    }

    /** {@return a copy of {@code r2}} */
    @Override
    public float[] r2() {
        return r2.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Kerple k && Arrays.equals(r1, k.r1) && Arrays.equals(r2, k.r2);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(r1) * 31 + Arrays.hashCode(r2);
    }

    @Override
    public String toString() {
        return "Kerple[r1=" + Arrays.toString(r1) + ", r2=" + Arrays.toString(r2) + "]";
    }
}
