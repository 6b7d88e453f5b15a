package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What a backend's element-wise port declares: the storage types it works in.
 *
 * <pre>{@code
 * new ElementwiseCapabilities(EnumSet.of(DType.F32))
 * }</pre>
 *
 * @param dtypes floating storage types
 */
public record ElementwiseCapabilities(Set<DType> dtypes) implements PortCapabilities {

    /** Defensive copy. */
    public ElementwiseCapabilities {
        dtypes = Set.copyOf(dtypes);
    }

    @Override
    public String port() {
        return "elementwise";
    }

    @Override
    public List<String> featureNames() {
        return List.of();
    }
}
