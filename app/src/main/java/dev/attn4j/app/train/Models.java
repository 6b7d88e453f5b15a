package dev.attn4j.app.train;

import dev.attn4j.app.BackendChoice;
import dev.attn4j.domain.data.ByteTokenizer;
import dev.attn4j.domain.data.HuggingFaceTokenizer;
import dev.attn4j.domain.data.Tokenizer;
import dev.attn4j.domain.model.EncoderDecoder;
import dev.attn4j.domain.model.ModelConfig;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.model.XTransformerConfig;
import dev.attn4j.domain.safetensors.SafetensorsFormatException;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import picocli.CommandLine;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code train}, {@code generate} and {@code forward} share: the model configuration by preset name or JSON
 * file, the backend by name or by the default selection, weights from a safetensors file in x-transformers' names,
 * and the tokenizer ({@code byte} or a {@code tokenizer.json}).
 *
 * <pre>{@code
 * TransformerConfig config = Models.decoder("orca");
 * try (Backend b = Models.backend(selector, "cpu"); Transformer m = Models.create(b, config, weights, 42)) { ... }
 * }</pre>
 */
final class Models {
    /** The name of the built-in byte-level tokenizer for {@code --tokenizer}. */
    static final String BYTE = "byte";

    private Models() {
    }

    /**
     * A decoder-only configuration ({@code TransformerWrapper}) by preset name or JSON file.
     *
     * @throws InvalidRequestException for an unknown name, a bad file, or an encoder–decoder configuration
     */
    static TransformerConfig decoder(String presetOrPath) {
        ModelConfig c = ModelConfigs.load(presetOrPath);
        if (c instanceof TransformerConfig t) {
            return t;
        }
        throw new InvalidRequestException("--model", "a decoder-only TransformerWrapper configuration (orca, gpt or a "
                + "JSON file); encoder-decoder models (t5) are not supported by this command", presetOrPath);
    }

    /**
     * A configuration by preset name or JSON file, of either kind: a decoder-only {@link TransformerConfig} or an
     * encoder–decoder {@link XTransformerConfig}.
     *
     * @throws InvalidRequestException for an unknown name or a bad file
     */
    static ModelConfig config(String presetOrPath) {
        return ModelConfigs.load(presetOrPath);
    }

    /**
     * A fresh encoder–decoder initialised from {@code seed}, then overwritten by {@code weights} when given (names
     * under {@code encoder.} and {@code decoder.net.}, as x-transformers' {@code XTransformer} has them).
     */
    static EncoderDecoder create(Backend backend, XTransformerConfig config, Path weights, long seed) {
        EncoderDecoder model = EncoderDecoder.create(backend, config, seed);
        try {
            if (weights != null) {
                model.loadStateDict(readWeights(weights));
            }
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * The named backend, or the default selection when {@code name} is null; a name no provider has is bad input
     * ({@link BackendChoice#requireKnown}), one that cannot run is a failure.
     */
    static Backend backend(CommandLine cl, BackendSelector selector, String name) {
        BackendChoice.requireKnown(cl, selector, name);
        return name == null ? selector.open(BackendOptions.none()) : selector.open(name, BackendOptions.none());
    }

    /** A fresh model initialised from {@code seed}, then overwritten by {@code weights} when given. */
    static Transformer create(Backend backend, TransformerConfig config, Path weights, long seed) {
        return create(backend, config, weights, seed, true);
    }

    /** As {@link #create(Backend, TransformerConfig, Path, long)}, with every base parameter frozen unless {@code trainable}. */
    static Transformer create(Backend backend, TransformerConfig config, Path weights, long seed, boolean trainable) {
        Transformer model = Transformer.create(backend, config, seed, spec -> trainable);
        try {
            if (weights != null) {
                model.loadStateDict(readWeights(weights));
            }
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Every tensor of a safetensors file as floats, by name. */
    static Map<String, float[]> readWeights(Path file) {
        InvalidRequestException.check(Files.isRegularFile(file), "--weights", "an existing safetensors file", file);
        Map<String, float[]> out = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            r.entries().forEach(e -> out.put(e.name(), r.readFloats(e.name())));
        } catch (SafetensorsFormatException | IllegalArgumentException e) {
            // a malformed or hostile file, or a tensor that is not floating: bad input, one line
            throw new InvalidRequestException("--weights", "a safetensors file of floating tensors", e.getMessage());
        }
        return out;
    }

    /** {@code byte} (the default) or a Hugging Face {@code tokenizer.json}. */
    static Tokenizer tokenizer(String spec) {
        if (spec == null || spec.equals(BYTE)) {
            return ByteTokenizer.INSTANCE;
        }
        Path p = Path.of(spec);
        InvalidRequestException.check(Files.isRegularFile(p), "--tokenizer", "'byte' or a tokenizer.json file", spec);
        try {
            return HuggingFaceTokenizer.open(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    /** Requires a vocabulary large enough for every id the tokenizer makes. */
    static void requireVocabulary(TransformerConfig config, Tokenizer tokenizer) {
        InvalidRequestException.check(tokenizer.vocabSize() <= config.numTokens(), "--tokenizer",
                "at most the model's num_tokens = " + config.numTokens() + " ids", tokenizer.vocabSize() + " ids ("
                        + tokenizer + ")");
    }
}
