package dev.attn4j.ports.random;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What a backend's random port declares: the storage types it fills.
 *
 * <pre>{@code
 * new RandomCapabilities(EnumSet.of(DType.F32))
 * }</pre>
 *
 * @param dtypes floating storage types
 */
public record RandomCapabilities(Set<DType> dtypes) implements PortCapabilities {

    /** Defensive copy. */
    public RandomCapabilities {
        dtypes = Set.copyOf(dtypes);
    }

    @Override
    public String port() {
        return "random";
    }

    @Override
    public List<String> featureNames() {
        return List.of();
    }
}
