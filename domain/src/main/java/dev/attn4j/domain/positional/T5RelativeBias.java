package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;

/**
 * T5's bucketed relative position bias (Raffel et al.; the Mesh TensorFlow reference): the relative
 * position is mapped to one of {@code numBuckets} buckets (exact for small distances, logarithmic up to
 * {@code maxDistance}, the last bucket beyond), and each head adds a learned value per bucket.
 * Bidirectional: half the buckets for keys to the left, half for keys to the right; causal (decoder):
 * keys to the right all fall in bucket 0. The bucket arithmetic runs in float32 like the reference, so
 * bucket edges match it exactly.
 *
 * <pre>{@code
 * T5RelativeBias t5 = new T5RelativeBias(heads, 32, 128, true, learnedWeights);  // weights [32, heads]
 * RelativeBiasTable table = RelativeBiasTable.of(t5, seqQ, seqK);
 * float[] dWeights = t5.weightGradient(tableGradient, seqQ, seqK);
 * }</pre>
 *
 * @param heads         H
 * @param numBuckets    buckets (32 in T5)
 * @param maxDistance   distance at which the last bucket starts (128 in T5)
 * @param bidirectional encoder-style buckets (both directions) or decoder-style (keys to the left only)
 * @param weights       learned values, row-major {@code [numBuckets, H]} (as an embedding of buckets)
 */
public record T5RelativeBias(int heads, int numBuckets, int maxDistance, boolean bidirectional, float[] weights)
        implements RelativeBias {

    /** Validates sizes and copies the weights. */
    public T5RelativeBias {
        InvalidRequestException.check(heads >= 1, "heads", ">= 1", heads);
        checkBuckets(numBuckets, maxDistance, bidirectional);
        if (weights == null) {
            throw new InvalidRequestException("weights", "a float array [numBuckets, H]", "null");
        }
        InvalidRequestException.check(weights.length == (long) numBuckets * heads, "weights",
                numBuckets * heads + " values [numBuckets = " + numBuckets + ", H = " + heads + "]", weights.length);
        weights = weights.clone();
    }

    /**
     * The bucket of relative position {@code relative = j - i} (key minus query position), in
     * {@code [0, numBuckets)}.
     *
     * @param relative the relative position j - (i + Sk - Sq)
     * @param bidirectional encoder-style buckets (both directions) or decoder-style (keys to the left only)
     * @param numBuckets buckets (32 in T5)
     * @param maxDistance distance at which the last bucket starts (128 in T5)
     * @return the bucket
     */
    public static int bucket(int relative, boolean bidirectional, int numBuckets, int maxDistance) {
        checkBuckets(numBuckets, maxDistance, bidirectional);
        int distance = -relative;     // > 0: key to the left of the query
        int buckets = numBuckets;
        int base = 0;
        if (bidirectional) {
            buckets /= 2;
            if (distance < 0) {
                base = buckets;       // keys to the right use the upper half
            }
            distance = Math.abs(distance);
        } else {
            distance = Math.max(distance, 0);
        }
        int maxExact = buckets / 2;
        if (distance < maxExact) {
            return base + distance;
        }
        // float32 throughout, as the reference computes it, so that edges at powers of two agree.
        float logRatio = (float) Math.log((float) distance / maxExact);
        float logRange = (float) Math.log((double) maxDistance / maxExact);
        int large = maxExact + (int) (logRatio / logRange * (float) (buckets - maxExact));
        return base + Math.min(large, buckets - 1);
    }

    /**
     * {@return the bucket of relative position {@code relative} under this scheme's settings}
     *
     * @param relative the relative position j - (i + Sk - Sq)
     */
    public int bucket(int relative) {
        return bucket(relative, bidirectional, numBuckets, maxDistance);
    }

    @Override
    public double bias(int head, int relative) {
        return weights[bucket(relative) * heads + head];
    }

    /**
     * The gradient of {@link #weights()} from the gradient of the table this scheme produced for
     * {@code seqQ, seqK} ({@code [H, Sq + Sk - 1]}, as attention backward returns it): each table entry's
     * gradient flows to the weight of its bucket.
     *
     * @param tableGradient whether the table's gradient is asked for
     * @param seqQ Sq, the number of queries
     * @param seqK Sk, the number of keys
     * @return the gradient of the weights
     */
    public float[] weightGradient(float[] tableGradient, int seqQ, int seqK) {
        int width = seqQ + seqK - 1;
        InvalidRequestException.check(tableGradient != null && tableGradient.length == (long) heads * width,
                "tableGradient", heads * width + " values [H, Sq + Sk - 1]",
                tableGradient == null ? "null" : tableGradient.length);
        double[] sum = new double[numBuckets * heads];
        for (int r = 0; r < width; r++) {
            int b = bucket(RelativeBiasTable.relative(r, seqK));
            for (int h = 0; h < heads; h++) {
                sum[b * heads + h] += tableGradient[h * width + r];
            }
        }
        float[] out = new float[sum.length];
        for (int k = 0; k < sum.length; k++) {
            out[k] = (float) sum[k];
        }
        return out;
    }

    /** {@return a copy of the weights {@code [numBuckets, H]}} */
    @Override
    public float[] weights() {
        return weights.clone();
    }

    private static void checkBuckets(int numBuckets, int maxDistance, boolean bidirectional) {
        int minimum = bidirectional ? 4 : 2;
        InvalidRequestException.check(numBuckets >= minimum, "numBuckets",
                ">= " + minimum + (bidirectional ? " (bidirectional halves them)" : ""), numBuckets);
        int maxExact = (bidirectional ? numBuckets / 2 : numBuckets) / 2;
        InvalidRequestException.check(maxDistance > maxExact, "maxDistance",
                "> " + maxExact + " (the last exact distance)", maxDistance);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof T5RelativeBias t && heads == t.heads && numBuckets == t.numBuckets
                && maxDistance == t.maxDistance && bidirectional == t.bidirectional && Arrays.equals(weights, t.weights);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(weights) * 31 + numBuckets * 7 + maxDistance + (bidirectional ? 1 : 0);
    }

    @Override
    public String toString() {
        return "T5RelativeBias[heads=" + heads + ", numBuckets=" + numBuckets + ", maxDistance=" + maxDistance
                + ", bidirectional=" + bidirectional + "]";
    }
}
