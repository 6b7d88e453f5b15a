package dev.attn4j.ports.activation;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.tensor.DType;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a backend's activation port declares: storage types and the functions it computes (plain and as a GLU
 * gate).
 *
 * <pre>{@code
 * new ActivationCapabilities(EnumSet.of(DType.F32), EnumSet.allOf(Activation.class))
 * }</pre>
 *
 * @param dtypes    floating storage types
 * @param functions the activations supported
 */
public record ActivationCapabilities(Set<DType> dtypes, Set<Activation> functions) implements PortCapabilities {

    /** Defensive copies. */
    public ActivationCapabilities {
        dtypes = Set.copyOf(dtypes);
        functions = functions.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(functions));
    }

    @Override
    public String port() {
        return "activation";
    }

    @Override
    public List<String> featureNames() {
        return functions.stream().sorted().map(Enum::name).toList();
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless {@code function} is declared.
     *
     * @param backend  the backend's name, for the message
     * @param function the activation a request applies
     * @throws UnsupportedCapabilityException naming the activation when it is not declared
     */
    public void require(String backend, Activation function) {
        if (!functions.contains(function)) {
            throw new UnsupportedCapabilityException(backend, "activation " + function);
        }
    }
}
