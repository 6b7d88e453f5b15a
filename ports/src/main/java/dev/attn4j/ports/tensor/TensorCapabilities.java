package dev.attn4j.ports.tensor;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.UnsupportedCapabilityException;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a backend's tensor port declares: the floating storage types it holds ({@link DType#I32} and
 * {@link DType#BOOL} are always held), its optional operations, and the element alignment a
 * {@link TensorPort#view view}'s offset needs (1 when any offset works; OpenCL sub-buffers need their
 * device's base-address alignment).
 *
 * <pre>{@code
 * var caps = new TensorCapabilities(EnumSet.of(DType.F32), EnumSet.allOf(TensorFeature.class), 1);
 * }</pre>
 *
 * @param dtypes        floating storage types
 * @param features      optional operations
 * @param viewAlignment a view's offset must be a multiple of this many elements ({@code >= 1})
 */
public record TensorCapabilities(Set<DType> dtypes, Set<TensorFeature> features, int viewAlignment)
        implements PortCapabilities {

    /** Defensive copies; checks the alignment. */
    public TensorCapabilities {
        dtypes = Set.copyOf(dtypes);
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
        if (viewAlignment < 1) {
            throw new IllegalArgumentException("view alignment must be >= 1, got " + viewAlignment);
        }
    }

    /**
     * {@return a declaration of transfers only: the given floating dtypes, no optional operation}
     *
     * @param dtypes the floating storage types held
     */
    public static TensorCapabilities transfers(Set<DType> dtypes) {
        return new TensorCapabilities(dtypes, Set.of(), 1);
    }

    @Override
    public String port() {
        return "tensors";
    }

    @Override
    public List<String> featureNames() {
        return features.stream().sorted().map(Enum::name).toList();
    }

    /**
     * {@return whether the operation is declared}
     *
     * @param feature an optional tensor operation
     */
    public boolean supports(TensorFeature feature) {
        return features.contains(feature);
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the operation is declared.
     *
     * @param backend the backend's name, for the message
     * @param feature the operation a caller is about to use
     * @throws UnsupportedCapabilityException naming the operation when it is not declared
     */
    public void require(String backend, TensorFeature feature) {
        if (!supports(feature)) {
            throw new UnsupportedCapabilityException(backend, "tensor " + feature.name().toLowerCase(java.util.Locale.ROOT));
        }
    }
}
