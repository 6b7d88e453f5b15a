/**
 * Attention masks as the domain builds them: {@link dev.attn4j.domain.masks.FlashMask} (FlashMask's
 * column-sparse {@code startend_row_indices}, O(S) memory) built by
 * {@link dev.attn4j.domain.masks.FlashMasks}, and {@link dev.attn4j.domain.masks.DenseMask}, the dense
 * escape hatch.
 *
 * <pre>{@code
 * FlashMask mask = FlashMasks.document(4096, 1024, 3072);
 * DenseMask check = mask.toDense();   // O(S²), for tests
 * }</pre>
 */
package dev.attn4j.domain.masks;
