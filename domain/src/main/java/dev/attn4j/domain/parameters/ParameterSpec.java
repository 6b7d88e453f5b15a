package dev.attn4j.domain.parameters;

import dev.attn4j.ports.tensor.Shape;

import java.util.Objects;

/**
 * A parameter a model declares before any storage exists: its name (as the reference implementation's
 * {@code state_dict} names it, so weights saved there load here as they are), shape, role and initialiser.
 *
 * <pre>{@code
 * var spec = new ParameterSpec("to_logits.weight", Shape.of(vocab, dim), ParameterRole.WEIGHT, Init.uniformFanIn(dim));
 * }</pre>
 *
 * @param name  the state-dict name
 * @param shape the shape
 * @param role  what the parameter is, which decides its default optimizer group (no decay on norms and biases)
 * @param init  how a fresh model fills it
 */
public record ParameterSpec(String name, Shape shape, ParameterRole role, Init init) {

    /** Checks the arguments. */
    public ParameterSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(init, "init");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a parameter needs a name");
        }
    }

    /** {@return number of elements} */
    public long size() {
        return shape.elementCount();
    }
}
