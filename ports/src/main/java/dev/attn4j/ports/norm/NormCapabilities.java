package dev.attn4j.ports.norm;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.tensor.DType;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a backend's normalisation port declares.
 *
 * <pre>{@code
 * NormCapabilities caps = NormCapabilities.all(EnumSet.of(DType.F32));
 * caps.require("cpu", NormFeature.RMS_NORM);
 * }</pre>
 *
 * @param dtypes   floating storage types of the input
 * @param features the norm kinds and forms supported
 */
public record NormCapabilities(Set<DType> dtypes, Set<NormFeature> features) implements PortCapabilities {

    /** Defensive copies. */
    public NormCapabilities {
        dtypes = Set.copyOf(dtypes);
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
    }

    /**
     * {@return a declaration of every norm feature in the given dtypes}
     *
     * @param dtypes floating storage types of the input
     */
    public static NormCapabilities all(Set<DType> dtypes) {
        return new NormCapabilities(dtypes, EnumSet.allOf(NormFeature.class));
    }

    @Override
    public String port() {
        return "normalization";
    }

    @Override
    public List<String> featureNames() {
        return features.stream().sorted().map(Enum::name).toList();
    }

    /**
     * {@return whether the feature is declared}
     *
     * @param feature a norm kind or form
     */
    public boolean supports(NormFeature feature) {
        return features.contains(feature);
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the feature is declared.
     *
     * @param backend the backend's name, for the message
     * @param feature the norm kind or form a request needs
     * @throws UnsupportedCapabilityException naming the feature when it is not declared
     */
    public void require(String backend, NormFeature feature) {
        if (!supports(feature)) {
            throw new UnsupportedCapabilityException(backend, feature.name());
        }
    }
}
