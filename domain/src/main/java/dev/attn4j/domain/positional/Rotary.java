package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;

/**
 * Rotary position embedding (RoPE, Su et al.): pair {@code k} of the first {@code R} features of a head
 * at position {@code n} is rotated by the angle {@code (n / interpolationFactor) · theta^(-2k/R)}. The tables
 * are the same for both pair layouts of {@link dev.attn4j.ports.rotary.RotaryLayout}: the layout only
 * says where pair {@code k}'s two features sit, and the rotary port applies the tables accordingly.
 * {@code interpolationFactor} is position interpolation (Chen et al.): positions are divided by it to
 * stretch a trained context window. Angles are computed in double precision and rounded to float only
 * as cos/sin values, so at long positions the tables are closer to exact than float32 references that
 * form the angle in float32.
 *
 * <pre>{@code
 * RotaryTables t = Rotary.of(64).tables(seqLen);                 // theta 10000, no interpolation
 * RotaryTables longer = new Rotary(64, 10000, 4.0).tables(4 * trainedLength);
 * DeviceTensor cos = t.uploadCos(backend.tensors()), sin = t.uploadSin(backend.tensors());
 * }</pre>
 *
 * @param rotaryDim           {@code R}, the rotated features per head (even, {@code >= 2})
 * @param theta               frequency base ({@code > 1}; 10000 in RoPE)
 * @param interpolationFactor positions are divided by it ({@code > 0}; 1 = none)
 */
public record Rotary(int rotaryDim, double theta, double interpolationFactor) {

    /** The default frequency base of RoPE. */
    public static final double DEFAULT_THETA = 10000.0;

    /** Validates the settings. */
    public Rotary {
        InvalidRequestException.check(rotaryDim >= 2 && rotaryDim % 2 == 0, "rotaryDim", "an even number >= 2", rotaryDim);
        InvalidRequestException.check(Double.isFinite(theta) && theta > 1, "theta", "a finite base > 1", theta);
        InvalidRequestException.check(Double.isFinite(interpolationFactor) && interpolationFactor > 0,
                "interpolationFactor", "a finite factor > 0 (1 = none)", interpolationFactor);
    }

    /**
     * {@return RoPE over {@code rotaryDim} features with theta 10000 and no interpolation}
     *
     * @param rotaryDim {@code R}, the rotated features per head (even, {@code >= 2})
     */
    public static Rotary of(int rotaryDim) {
        return new Rotary(rotaryDim, DEFAULT_THETA, 1.0);
    }

    /**
     * {@return the angular frequency of pair {@code k}: {@code theta^(-2k/R)}}
     *
     * @param k keys
     */
    public double inverseFrequency(int k) {
        return Math.pow(theta, -2.0 * k / rotaryDim);
    }

    /**
     * {@return the rotation angle of pair {@code k} at position {@code position}}
     *
     * @param position the position
     * @param k keys
     */
    public double angle(long position, int k) {
        return position / interpolationFactor * inverseFrequency(k);
    }

    /**
     * Tables for positions {@code 0 .. seqLen-1}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @return the tables
     */
    public RotaryTables tables(int seqLen) {
        return tables(0, seqLen);
    }

    /**
     * Tables for positions {@code start .. start+seqLen-1} (e.g. new queries after a KV cache of {@code start}).
     *
     * @param start the first index
     * @param seqLen sequence length (as many queries as keys)
     * @return the tables
     */
    public RotaryTables tables(long start, int seqLen) {
        InvalidRequestException.check(seqLen >= 1, "seqLen", ">= 1", seqLen);
        InvalidRequestException.check(start >= 0, "start", "a position >= 0", start);
        int half = rotaryDim / 2;
        float[] cos = new float[Math.multiplyExact(seqLen, half)];
        float[] sin = new float[cos.length];
        for (int n = 0; n < seqLen; n++) {
            for (int k = 0; k < half; k++) {
                double a = angle(start + n, k);
                cos[n * half + k] = (float) Math.cos(a);
                sin[n * half + k] = (float) Math.sin(a);
            }
        }
        return new RotaryTables(cos, sin, seqLen, rotaryDim);
    }
}
