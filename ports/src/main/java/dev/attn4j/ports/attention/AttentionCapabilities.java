package dev.attn4j.ports.attention;

import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.tensor.DType;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a backend's attention port declares: storage types, features and the head dimensions it accepts.
 * A request outside the declaration is rejected with an {@link UnsupportedCapabilityException} before any
 * kernel runs; the conformance suite reports such cases as unsupported, never as passed.
 *
 * <pre>{@code
 * var caps = new AttentionCapabilities(EnumSet.of(DType.F32), EnumSet.allOf(AttentionFeature.class), 1, 256);
 * caps.require("cpu", AttentionFeature.DROPOUT);
 * }</pre>
 *
 * @param dtypes     floating storage types of q, k, v
 * @param features   supported features
 * @param minHeadDim smallest head dimension accepted
 * @param maxHeadDim largest head dimension accepted
 */
public record AttentionCapabilities(Set<DType> dtypes, Set<AttentionFeature> features, int minHeadDim, int maxHeadDim)
        implements PortCapabilities {

    /** Defensive copies; checks the head dimension range. */
    public AttentionCapabilities {
        dtypes = Set.copyOf(dtypes);
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
        if (minHeadDim < 1 || maxHeadDim < minHeadDim) {
            throw new IllegalArgumentException("head dim range [" + minHeadDim + ", " + maxHeadDim + "] is empty");
        }
    }

    @Override
    public String port() {
        return "attention";
    }

    @Override
    public List<String> featureNames() {
        return features.stream().sorted().map(Enum::name).toList();
    }

    /**
     * {@return whether the feature is declared}
     *
     * @param feature an optional attention feature
     */
    public boolean supports(AttentionFeature feature) {
        return features.contains(feature);
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the feature is declared.
     *
     * @param backend the backend's name, for the message
     * @param feature the feature a request needs
     * @throws UnsupportedCapabilityException naming the feature when it is not declared
     */
    public void require(String backend, AttentionFeature feature) {
        if (!supports(feature)) {
            throw new UnsupportedCapabilityException(backend, feature.name());
        }
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the head dim is in range.
     *
     * @param backend the backend's name, for the message
     * @param headDim the head dimension D of a request
     * @throws UnsupportedCapabilityException naming the head dim and the supported range when it is outside
     *                                        {@code [minHeadDim, maxHeadDim]}
     */
    public void requireHeadDim(String backend, int headDim) {
        if (headDim < minHeadDim || headDim > maxHeadDim) {
            throw new UnsupportedCapabilityException(backend,
                    "head dim " + headDim + " (supported: " + minHeadDim + ".." + maxHeadDim + ")");
        }
    }

    /**
     * The features an attention call with these options needs, forward or backward.
     *
     * <pre>{@code
     * Set<AttentionFeature> needed = AttentionCapabilities.required(shape, options, true);
     * }</pre>
     *
     * @param shape    the call's sizes ({@link AttentionFeature#GQA} when {@code kvHeads != heads})
     * @param o        the call's options
     * @param backward whether the call is the backward pass (which needs {@link AttentionFeature#BACKWARD}
     *                 and, with its options, the deterministic and bias-table-gradient features)
     * @return a new, mutable set of the features the call needs
     */
    public static Set<AttentionFeature> required(AttentionShape shape, AttentionOptions o, boolean backward) {
        EnumSet<AttentionFeature> need = EnumSet.noneOf(AttentionFeature.class);
        if (backward) need.add(AttentionFeature.BACKWARD);
        if (o.causal()) need.add(AttentionFeature.CAUSAL);
        if (shape.heads() != shape.kvHeads()) need.add(AttentionFeature.GQA);
        if (o.hasWindow()) need.add(AttentionFeature.SLIDING_WINDOW);
        if (o.softcap() > 0) need.add(AttentionFeature.SOFTCAP);
        if (o.alibiSlopes() != null) need.add(AttentionFeature.ALIBI);
        if (o.biasTable() != null) need.add(AttentionFeature.BIAS_TABLE);
        if (o.denseBias() != null) need.add(AttentionFeature.DENSE_BIAS);
        if (o.flashMask() != null) need.add(AttentionFeature.FLASH_MASK);
        if (o.denseMask() != null) need.add(AttentionFeature.DENSE_MASK);
        if (o.dropout().enabled()) need.add(AttentionFeature.DROPOUT);
        if (backward && o.deterministic()) need.add(AttentionFeature.DETERMINISTIC_BACKWARD);
        if (backward && o.biasTableGrad()) need.add(AttentionFeature.BIAS_TABLE_GRAD);
        if (o.layout() == AttentionLayout.BHSD) need.add(AttentionFeature.BHSD_LAYOUT);
        return need;
    }
}
