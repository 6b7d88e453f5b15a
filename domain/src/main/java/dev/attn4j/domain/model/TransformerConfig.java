package dev.attn4j.domain.model;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Objects;

/**
 * x-transformers' {@code TransformerWrapper(...)}: token embedding, optional learned absolute positions, an
 * encoder or decoder stack, and the logits layer (or the embedding, tied).
 *
 * <pre>{@code
 * TransformerConfig orca = ModelConfigs.orca();
 * TransformerConfig gpt = new TransformerConfig(50257, 1024, true, true, LayersConfig.decoder(768, 12, 12));
 * }</pre>
 *
 * @param numTokens    vocabulary V
 * @param maxSeqLen    longest sequence (rows of the absolute position table; generation crops to it)
 * @param useAbsPosEmb learned absolute positions, which x-transformers adds only when the layers have neither
 *                     rotary nor a relative bias ({@link #absolutePositions()})
 * @param tieEmbedding logits through the token embedding (no bias)
 * @param attnLayers   the stack
 */
public record TransformerConfig(int numTokens, int maxSeqLen, boolean useAbsPosEmb, boolean tieEmbedding,
                                LayersConfig attnLayers) implements ModelConfig {

    /** Checks ranges. */
    public TransformerConfig {
        InvalidRequestException.check(numTokens >= 1, "num_tokens", ">= 1", numTokens);
        InvalidRequestException.check(maxSeqLen >= 1, "max_seq_len", ">= 1", maxSeqLen);
        Objects.requireNonNull(attnLayers, "attn_layers");
    }

    /** {@return whether a learned absolute position embedding is added (x-transformers' {@code has_pos_emb} rule)} */
    public boolean absolutePositions() {
        return useAbsPosEmb && !attnLayers.hasRelativePositions();
    }

    /** The model width. */
    public int dim() {
        return attnLayers.dim();
    }
}
