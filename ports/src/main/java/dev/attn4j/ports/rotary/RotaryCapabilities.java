package dev.attn4j.ports.rotary;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What a backend's rotary port declares: the storage types of {@code x}; both pair layouts, the inverse
 * and the xPos scale table are part of the port.
 *
 * <pre>{@code
 * RotaryCapabilities caps = new RotaryCapabilities(EnumSet.of(DType.F32));
 * }</pre>
 *
 * @param dtypes floating storage types of {@code x}
 */
public record RotaryCapabilities(Set<DType> dtypes) implements PortCapabilities {

    /** Defensive copy. */
    public RotaryCapabilities {
        dtypes = Set.copyOf(dtypes);
    }

    @Override
    public String port() {
        return "rotary";
    }

    @Override
    public List<String> featureNames() {
        return List.of();
    }
}
