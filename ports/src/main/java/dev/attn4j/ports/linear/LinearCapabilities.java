package dev.attn4j.ports.linear;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What a backend's linear port declares: the storage types it multiplies in (accumulating in fp32).
 *
 * <pre>{@code
 * new LinearCapabilities(EnumSet.of(DType.F32))
 * }</pre>
 *
 * @param dtypes floating storage types of the operands
 */
public record LinearCapabilities(Set<DType> dtypes) implements PortCapabilities {

    /** Defensive copy. */
    public LinearCapabilities {
        dtypes = Set.copyOf(dtypes);
    }

    @Override
    public String port() {
        return "linear";
    }

    @Override
    public List<String> featureNames() {
        return List.of();
    }
}
