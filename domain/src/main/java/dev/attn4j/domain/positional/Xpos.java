package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;

/**
 * xPos (Sun et al., "A Length-Extrapolatable Transformer"): on top of the rotation, pair {@code k} of a
 * query at position {@code n} is scaled by {@code ζ_k^((n - c)/scaleBase)} and of a key by
 * {@code ζ_k^(-(n - c)/scaleBase)}, with {@code ζ_k = (2k/R + γ)/(1 + γ)}, so that a score carries
 * {@code ζ_k^((n_q - n_k)/scaleBase)}: a decay that depends only on the relative position.
 *
 * <p>The centre {@code c} cancels in every score, as long as queries and keys use the same one; it only
 * keeps the powers near 1 so that long sequences neither overflow nor underflow. x-transformers centres on
 * {@code ⌊L/2⌋} for positions {@code 0..L-1}; {@link #scales(int)} does the same. When queries and keys have
 * different positions (decoding after a KV cache), compute both with {@link #scales(long, int, long)} and
 * one shared centre.
 *
 * <pre>{@code
 * Xpos xpos = Xpos.of(64);                                   // scaleBase 512, γ = 0.4
 * XposScales s = xpos.scales(seqLen);
 * DeviceTensor qScale = s.uploadQuery(tensors), kScale = s.uploadKey(tensors);
 * }</pre>
 *
 * @param rotaryDim {@code R}, even, {@code >= 2}
 * @param scaleBase positions per power of ζ ({@code > 0}; 512 in the paper)
 * @param gamma     {@code γ} ({@code >= 0}; 0.4 in the paper)
 */
public record Xpos(int rotaryDim, double scaleBase, double gamma) {

    /** The paper's scale base. */
    public static final double DEFAULT_SCALE_BASE = 512.0;
    /** The paper's γ. */
    public static final double DEFAULT_GAMMA = 0.4;

    /** Validates the settings. */
    public Xpos {
        InvalidRequestException.check(rotaryDim >= 2 && rotaryDim % 2 == 0, "rotaryDim", "an even number >= 2", rotaryDim);
        InvalidRequestException.check(Double.isFinite(scaleBase) && scaleBase > 0, "scaleBase", "a finite value > 0", scaleBase);
        InvalidRequestException.check(Double.isFinite(gamma) && gamma >= 0, "gamma", "a finite value >= 0", gamma);
    }

    /**
     * {@return xPos over {@code rotaryDim} features with scale base 512 and γ = 0.4}
     *
     * @param rotaryDim {@code R}, even, {@code >= 2}
     */
    public static Xpos of(int rotaryDim) {
        return new Xpos(rotaryDim, DEFAULT_SCALE_BASE, DEFAULT_GAMMA);
    }

    /**
     * {@return {@code ζ_k = (2k/R + γ)/(1 + γ)}}
     *
     * @param k keys
     */
    public double zeta(int k) {
        return (2.0 * k / rotaryDim + gamma) / (1 + gamma);
    }

    /**
     * Scales for positions {@code 0..seqLen-1}, centred on {@code ⌊seqLen/2⌋} as x-transformers does.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @return the scales
     */
    public XposScales scales(int seqLen) {
        return scales(0, seqLen, seqLen / 2);
    }

    /**
     * Scales for positions {@code start..start+seqLen-1} with centre {@code centre}.
     *
     * @param start the first index
     * @param seqLen sequence length (as many queries as keys)
     * @param centre the centre
     * @return the scales
     */
    public XposScales scales(long start, int seqLen, long centre) {
        InvalidRequestException.check(seqLen >= 1, "seqLen", ">= 1", seqLen);
        InvalidRequestException.check(start >= 0, "start", "a position >= 0", start);
        int half = rotaryDim / 2;
        float[] query = new float[Math.multiplyExact(seqLen, half)];
        float[] key = new float[query.length];
        for (int n = 0; n < seqLen; n++) {
            double power = (start + n - centre) / scaleBase;
            for (int k = 0; k < half; k++) {
                double z = zeta(k);
                query[n * half + k] = (float) Math.pow(z, power);
                key[n * half + k] = (float) Math.pow(z, -power);
            }
        }
        return new XposScales(query, key, seqLen, rotaryDim);
    }
}
