package dev.attn4j.domain.parameters;

import java.util.function.Function;

/**
 * Standard ways to split parameters into optimizer groups.
 *
 * <pre>{@code
 * ParameterStore.allocate(backend, specs, Grouping.decay(), s -> true, seed);
 * }</pre>
 */
public final class Grouping {
    /** The group of parameters AdamW decays. */
    public static final String DECAY = "decay";
    /** The group of parameters AdamW does not decay (biases, norms, scales, position biases). */
    public static final String NO_DECAY = "no_decay";

    private Grouping() {
    }

    /**
     * {@link #DECAY} for weights and embeddings, {@link #NO_DECAY} for the rest.
     *
     * @return the grouping AdamW's usual weight-decay split needs
     */
    public static Function<ParameterSpec, String> decay() {
        return s -> s.role().decayedByDefault() ? DECAY : NO_DECAY;
    }

    /**
     * Everything in one group named {@code name}.
     *
     * @param name the one group's name
     * @return a grouping that puts every parameter in {@code name}
     */
    public static Function<ParameterSpec, String> single(String name) {
        return s -> name;
    }
}
