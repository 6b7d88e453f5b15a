package dev.attn4j.domain.generation;

import dev.attn4j.ports.InvalidRequestException;

/**
 * How the next token is chosen from the logits: greedy (temperature 0), or sampled from
 * {@code softmax(logits / temperature)} restricted to the {@code topK} most likely tokens and then to the smallest
 * set whose probability reaches {@code topP} (the order Hugging Face's samplers apply them), from a seeded generator.
 *
 * <pre>{@code
 * Sampling greedy = Sampling.greedy();
 * Sampling nucleus = new Sampling(0.8, 0, 0.95, 42L);
 * }</pre>
 *
 * @param temperature 0 for greedy, else {@code > 0}
 * @param topK        keep the k most likely tokens (0 = all)
 * @param topP        keep the most likely tokens until their probability reaches p ({@code (0, 1]}, 1 = all)
 * @param seed        the generator's seed
 */
public record Sampling(double temperature, int topK, double topP, long seed) {

    /** Checks ranges. */
    public Sampling {
        InvalidRequestException.check(temperature >= 0 && Double.isFinite(temperature), "temperature", ">= 0", temperature);
        InvalidRequestException.check(topK >= 0, "topK", ">= 0 (0 = no limit)", topK);
        InvalidRequestException.check(topP > 0 && topP <= 1, "topP", "in (0, 1]", topP);
    }

    /** {@return greedy decoding}: always the most likely token. */
    public static Sampling greedy() {
        return new Sampling(0, 0, 1, 0L);
    }

    /** {@return whether this is greedy decoding} */
    public boolean greedyDecoding() {
        return temperature == 0;
    }
}
