package dev.attn4j.ports.optim;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What a backend's optimizer port declares: the storage types {@code sumOfSquares} reads (AdamW's state is
 * always F32).
 *
 * <pre>{@code
 * new OptimizerCapabilities(EnumSet.of(DType.F32))
 * }</pre>
 *
 * @param dtypes floating storage types
 */
public record OptimizerCapabilities(Set<DType> dtypes) implements PortCapabilities {

    /** Defensive copy. */
    public OptimizerCapabilities {
        dtypes = Set.copyOf(dtypes);
    }

    @Override
    public String port() {
        return "optimizer";
    }

    @Override
    public List<String> featureNames() {
        return List.of();
    }
}
