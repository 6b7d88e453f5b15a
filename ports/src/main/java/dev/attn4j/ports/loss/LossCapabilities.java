package dev.attn4j.ports.loss;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What a backend's loss port declares: the storage types of hidden states and weights.
 *
 * <pre>{@code
 * new LossCapabilities(EnumSet.of(DType.F32))
 * }</pre>
 *
 * @param dtypes floating storage types
 */
public record LossCapabilities(Set<DType> dtypes) implements PortCapabilities {

    /** Defensive copy. */
    public LossCapabilities {
        dtypes = Set.copyOf(dtypes);
    }

    @Override
    public String port() {
        return "loss";
    }

    @Override
    public List<String> featureNames() {
        return List.of();
    }
}
