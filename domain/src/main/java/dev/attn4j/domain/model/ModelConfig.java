package dev.attn4j.domain.model;

/**
 * A model configuration: a decoder-only or encoder-only {@link TransformerConfig}, or an encoder–decoder
 * {@link XTransformerConfig}. Read and written as JSON by {@link ModelConfigs}.
 *
 * <pre>{@code
 * ModelConfig config = ModelConfigs.parse(Files.readString(path));
 * }</pre>
 */
public sealed interface ModelConfig permits TransformerConfig, XTransformerConfig {

    /** {@return the model width} */
    int dim();
}
