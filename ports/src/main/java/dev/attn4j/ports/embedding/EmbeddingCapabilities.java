package dev.attn4j.ports.embedding;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What a backend's embedding port declares: the storage types of the table.
 *
 * <pre>{@code
 * new EmbeddingCapabilities(EnumSet.of(DType.F32))
 * }</pre>
 *
 * @param dtypes floating storage types
 */
public record EmbeddingCapabilities(Set<DType> dtypes) implements PortCapabilities {

    /** Defensive copy. */
    public EmbeddingCapabilities {
        dtypes = Set.copyOf(dtypes);
    }

    @Override
    public String port() {
        return "embedding";
    }

    @Override
    public List<String> featureNames() {
        return List.of();
    }
}
