package dev.attn4j.domain.model;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Objects;

/**
 * x-transformers' {@code XTransformer(...)} encoder–decoder (T5-style): an encoder stack whose final-normed output
 * the decoder's cross-attention layers read. JSON is the constructor call with {@code enc_} / {@code dec_}
 * prefixed options ({@link ModelConfigs}).
 *
 * <pre>{@code
 * XTransformerConfig t5 = ModelConfigs.t5(32128, 512, 6, 8);
 * }</pre>
 *
 * @param encoder     the encoder wrapper (its logits are never used)
 * @param decoder     the decoder wrapper ({@code cross_attend} set)
 * @param tieTokenEmb whether the decoder uses the encoder's token embedding
 */
public record XTransformerConfig(TransformerConfig encoder, TransformerConfig decoder, boolean tieTokenEmb)
        implements ModelConfig {

    /** Checks that the stacks fit together. */
    public XTransformerConfig {
        Objects.requireNonNull(encoder, "encoder");
        Objects.requireNonNull(decoder, "decoder");
        InvalidRequestException.check(!encoder.attnLayers().causal(), "encoder", "an encoder (not causal)", "a decoder");
        InvalidRequestException.check(decoder.attnLayers().causal() && decoder.attnLayers().crossAttend(), "decoder",
                "a decoder with cross_attend", "not");
        InvalidRequestException.check(encoder.dim() == decoder.dim(), "dim", "one width for both stacks",
                encoder.dim() + " and " + decoder.dim());
        InvalidRequestException.check(!tieTokenEmb || encoder.numTokens() == decoder.numTokens(), "tie_token_emb",
                "equal vocabularies", encoder.numTokens() + " and " + decoder.numTokens());
    }

    /** The model width. */
    public int dim() {
        return encoder.dim();
    }
}
