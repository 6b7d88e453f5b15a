package dev.attn4j.domain.generation;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks tokens from logits by a {@link Sampling}, on the host: the logits of one row are {@code V} floats, and the
 * chosen id is what the next step uploads anyway.
 *
 * <pre>{@code
 * Sampler sampler = new Sampler(new Sampling(0.7, 50, 0.9, 1L));
 * int next = sampler.next(logitsRow);
 * }</pre>
 */
public final class Sampler {
    private final Sampling sampling;
    private final SplittableRandom random;

    /**
     * A sampler drawing from a generator seeded with {@code sampling.seed()}.
     *
     * @param sampling the rule and its seed: the same seed gives the same tokens for the same logits
     */
    public Sampler(Sampling sampling) {
        this.sampling = sampling;
        this.random = new SplittableRandom(sampling.seed());
    }

    /**
     * The next token of one row's logits.
     *
     * @param logits one row's logits, {@code V} floats
     * @return the chosen id in {@code [0, V)}
     */
    public int next(float[] logits) {
        return next(logits, 0, logits.length);
    }

    /**
     * The next token of the row {@code logits[offset .. offset + vocab)}.
     *
     * @param logits holds the row (e.g. a batch's logits {@code [B, V]}, row-major)
     * @param offset the row's first element
     * @param vocab V, the row's length
     * @return the chosen id in {@code [0, V)}
     */
    public int next(float[] logits, int offset, int vocab) {
        if (sampling.greedyDecoding()) {
            int best = 0;
            for (int i = 1; i < vocab; i++) {
                if (logits[offset + i] > logits[offset + best]) {
                    best = i;
                }
            }
            return best;
        }
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        // descending logits, ties by id, so the draw depends on the seed only
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[offset + b], logits[offset + a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int keep = sampling.topK() == 0 ? vocab : Math.min(sampling.topK(), vocab);
        double max = logits[offset + order[0]] / sampling.temperature();
        double[] p = new double[keep];
        double sum = 0;
        for (int r = 0; r < keep; r++) {
            p[r] = Math.exp(logits[offset + order[r]] / sampling.temperature() - max);
            sum += p[r];
        }
        if (sampling.topP() < 1) {
            double cumulative = 0;
            int cut = keep;
            for (int r = 0; r < keep; r++) {
                cumulative += p[r] / sum;
                if (cumulative >= sampling.topP()) {
                    cut = r + 1;
                    break;
                }
            }
            keep = cut;
            sum = 0;
            for (int r = 0; r < keep; r++) {
                sum += p[r];
            }
        }
        double u = random.nextDouble() * sum;
        for (int r = 0; r < keep; r++) {
            u -= p[r];
            if (u < 0) {
                return order[r];
            }
        }
        return order[keep - 1];
    }
}
