package dev.attn4j.ports;

import dev.attn4j.ports.tensor.DType;

import java.util.EnumSet;
import java.util.Set;

/**
 * What a backend declares it can do. Requests outside the declaration are rejected with an
 * {@link UnsupportedCapabilityException} before any kernel runs.
 *
 * <pre>{@code
 * Capabilities caps = new Capabilities(EnumSet.of(DType.F32), EnumSet.allOf(Capability.class), 1, 256);
 * caps.require("cpu", Capability.DROPOUT);
 * }</pre>
 *
 * @param dtypes      floating storage types the backend computes in
 * @param features    supported features
 * @param minHeadDim  smallest head dimension accepted
 * @param maxHeadDim  largest head dimension accepted
 */
public record Capabilities(Set<DType> dtypes, Set<Capability> features, int minHeadDim, int maxHeadDim) {

    /** Defensive copies; both sets become immutable. */
    public Capabilities {
        dtypes = Set.copyOf(dtypes);
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
        if (minHeadDim < 1 || maxHeadDim < minHeadDim) {
            throw new IllegalArgumentException("head dim range [" + minHeadDim + ", " + maxHeadDim + "] is empty");
        }
    }

    /**
     * {@return whether the feature is declared}
     *
     * @param feature the feature
     */
    public boolean supports(Capability feature) {
        return features.contains(feature);
    }

    /**
     * {@return whether the storage type is declared}
     *
     * @param dtype storage dtype
     */
    public boolean supports(DType dtype) {
        return dtypes.contains(dtype);
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the feature is declared.
     *
     * @param backend the backend's name, for the error
     * @param feature the feature
     */
    public void require(String backend, Capability feature) {
        if (!supports(feature)) {
            throw new UnsupportedCapabilityException(backend, feature.name());
        }
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the dtype is declared.
     *
     * @param backend the backend's name, for the error
     * @param dtype storage dtype
     */
    public void require(String backend, DType dtype) {
        if (!supports(dtype)) {
            throw new UnsupportedCapabilityException(backend, "dtype " + dtype);
        }
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the head dim is in range.
     *
     * @param backend the backend's name, for the error
     * @param headDim D, the head dimension
     */
    public void requireHeadDim(String backend, int headDim) {
        if (headDim < minHeadDim || headDim > maxHeadDim) {
            throw new UnsupportedCapabilityException(backend,
                    "head dim " + headDim + " (supported: " + minHeadDim + ".." + maxHeadDim + ")");
        }
    }
}
