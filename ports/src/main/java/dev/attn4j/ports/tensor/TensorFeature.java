package dev.attn4j.ports.tensor;

/** Optional operations of the {@link TensorPort}, declared in {@link TensorCapabilities}. */
public enum TensorFeature {
    /** {@link TensorPort#view}: a tensor over part of another's storage, without a copy. */
    VIEW,
    /** {@link TensorPort#copy}: strided copies between tensors (KV-cache appends, splitting a fused projection). */
    COPY,
    /** {@link TensorPort#cast}: a copy in another floating dtype. */
    CAST,
    /** {@link TensorPort#fill}: every element set to one value. */
    FILL
}
