package dev.attn4j.domain.data;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.InvalidRequestException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} (any model the Rust {@code tokenizers} library reads: BPE,
 * byte-level BPE, WordPiece, Unigram, WordLevel) through DJL's {@code ai.djl.huggingface:tokenizers}.
 *
 * <p><b>Dependency.</b> DJL is an optional dependency of {@code attn4j-domain} (it carries JNI natives for
 * linux-x86_64/aarch64, macOS aarch64 and Windows x86_64 inside its jar): a product that reads
 * {@code tokenizer.json} files adds {@code ai.djl.huggingface:tokenizers} itself (on the module path also
 * {@code --add-modules ai.djl.tokenizers}); without it {@link #open} throws an {@link Attn4jException}
 * saying so.
 *
 * <p><b>Offline.</b> Nothing is downloaded: the file is read from disk and the native library is
 * extracted from the jar into DJL's cache ({@code ~/.djl.ai/tokenizers}, or {@code $DJL_CACHE_DIR}). DJL
 * would otherwise probe the EC2 metadata endpoint for telemetry on first use (a network call with 1 s
 * timeouts): unless the environment or a system property already sets them, this class sets the system
 * properties {@code OPT_OUT_TRACKING=true} and {@code ai.djl.offline=true} before DJL loads.
 *
 * <p><b>Ids.</b> {@link #encode} adds no special tokens (DJL's default post-processing, truncation to 512
 * and padding are all turned off); {@link #decode} renders special tokens unless asked to skip them. As
 * in Hugging Face, the text of an added token in the input ({@code "<|endoftext|>"}) is encoded as that
 * token: clean data that must not contain control tokens before training ({@link ByteTokenizer} never
 * produces one from text).
 * {@link #vocabSize()} is the largest id in {@code model.vocab} and {@code added_tokens}, plus one.
 *
 * <p><b>Special tokens</b> are found, for each of bos, eos and pad, in this order: the name given to the
 * {@link Builder}; {@code bos_token}/{@code eos_token}/{@code pad_token} of a {@code tokenizer_config.json}
 * in the same directory (an explicit {@code null} there means none); otherwise the first special added
 * token named {@code <s>}, {@code <|begin_of_text|>}, {@code <bos>} (bos); {@code </s>},
 * {@code <|endoftext|>}, {@code <|end_of_text|>}, {@code <eos>} (eos); {@code <pad>}, {@code [PAD]},
 * {@code <|pad|>} (pad).
 *
 * <pre>{@code
 * try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(Path.of("tokenizer.json"))) {
 *     int[] ids = tok.encode("Hello world");
 *     String text = tok.decode(ids);
 * }
 * try (var tok = HuggingFaceTokenizer.builder(Path.of("tokenizer.json")).eosToken("<|im_end|>").build()) { ... }
 * }</pre>
 */
public final class HuggingFaceTokenizer implements Tokenizer, AutoCloseable {

    private static final String DJL_CLASS = "ai.djl.huggingface.tokenizers.HuggingFaceTokenizer";
    private static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>", "<bos>");
    private static final List<String> EOS_NAMES = List.of("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>");
    private static final List<String> PAD_NAMES = List.of("<pad>", "[PAD]", "<|pad|>");

    private final Path file;
    private final DjlTokenizer djl;
    private final int vocabSize;
    private final OptionalInt bos;
    private final OptionalInt eos;
    private final OptionalInt pad;

    private HuggingFaceTokenizer(Path file, DjlTokenizer djl, int vocabSize, OptionalInt bos, OptionalInt eos,
                                 OptionalInt pad) {
        this.file = file;
        this.djl = djl;
        this.vocabSize = vocabSize;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
    }

    /**
     * Opens {@code tokenizerJson} with the special tokens found as the class comment says.
     *
     * @param tokenizerJson a Hugging Face {@code tokenizer.json}
     * @return the tokenizer; close it to free the native one
     * @throws IOException when the file (or its {@code tokenizer_config.json}) cannot be read
     */
    public static HuggingFaceTokenizer open(Path tokenizerJson) throws IOException {
        return builder(tokenizerJson).build();
    }

    /**
     * A builder for {@code tokenizerJson}, to name special tokens explicitly.
     *
     * @param tokenizerJson a Hugging Face {@code tokenizer.json}
     * @return a builder; unnamed special tokens are found as the class comment says
     */
    public static Builder builder(Path tokenizerJson) {
        return new Builder(tokenizerJson);
    }

    /**
     * Options of {@link HuggingFaceTokenizer}: special token names that override {@code tokenizer_config.json}
     * and the built-in names. An empty name means "none".
     *
     * <pre>{@code
     * var tok = HuggingFaceTokenizer.builder(path).bosToken("").eosToken("<|im_end|>").build();
     * }</pre>
     */
    public static final class Builder {
        private final Path file;
        private String bosToken;
        private String eosToken;
        private String padToken;

        private Builder(Path file) {
            InvalidRequestException.check(file != null, "tokenizerJson", "a path", "null");
            this.file = file;
        }

        /**
         * The bos token's name ({@code ""}: none).
         *
         * @param name an added token's text, e.g. {@code "<s>"}, or {@code ""} for none
         * @return this builder
         */
        public Builder bosToken(String name) {
            this.bosToken = name;
            return this;
        }

        /**
         * The eos token's name ({@code ""}: none).
         *
         * @param name an added token's text, e.g. {@code "<|im_end|>"}, or {@code ""} for none
         * @return this builder
         */
        public Builder eosToken(String name) {
            this.eosToken = name;
            return this;
        }

        /**
         * The pad token's name ({@code ""}: none).
         *
         * @param name an added token's text, e.g. {@code "<pad>"}, or {@code ""} for none
         * @return this builder
         */
        public Builder padToken(String name) {
            this.padToken = name;
            return this;
        }

        /**
         * Reads the file and loads the native tokenizer; close the result.
         *
         * @return the tokenizer
         * @throws IOException when the file (or its {@code tokenizer_config.json}) cannot be read
         */
        public HuggingFaceTokenizer build() throws IOException {
            InvalidRequestException.check(Files.isRegularFile(file), "tokenizerJson", "an existing tokenizer.json file", file);
            requireDjl();
            TokenizerJson json = TokenizerJson.read(file);
            Map<String, String> config = TokenizerJson.configSpecialTokens(file);
            OptionalInt bos = special(json, "bosToken", bosToken, config.get("bos_token"), BOS_NAMES);
            OptionalInt eos = special(json, "eosToken", eosToken, config.get("eos_token"), EOS_NAMES);
            OptionalInt pad = special(json, "padToken", padToken, config.get("pad_token"), PAD_NAMES);
            DjlTokenizer djl;
            try {
                djl = DjlTokenizer.load(file);
            } catch (IOException e) {
                throw e;
            } catch (RuntimeException e) {
                // DJL reports both a native library that cannot load and a file the Rust parser rejects as
                // runtime exceptions of its own types.
                throw new Attn4jException("cannot load " + file + " with DJL's Hugging Face tokenizers: " + e.getMessage(), e);
            }
            return new HuggingFaceTokenizer(file, djl, json.vocabSize(), bos, eos, pad);
        }

        private OptionalInt special(TokenizerJson json, String argument, String explicit, String configured,
                                    List<String> wellKnown) {
            String name = explicit != null ? explicit : configured;
            if (name != null) {
                if (name.isEmpty()) {
                    return OptionalInt.empty();
                }
                Integer id = json.ids().get(name);
                InvalidRequestException.check(id != null, argument, "a token of " + file
                        + (explicit != null ? "" : " (named in tokenizer_config.json)"), name);
                return OptionalInt.of(id);
            }
            for (String candidate : wellKnown) {
                Integer id = json.ids().get(candidate);
                if (id != null && json.specialIds().contains(id)) {
                    return OptionalInt.of(id);
                }
            }
            return OptionalInt.empty();
        }
    }

    private static void requireDjl() {
        try {
            Class.forName(DJL_CLASS, false, HuggingFaceTokenizer.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new Attn4jException("HuggingFaceTokenizer needs DJL: add ai.djl.huggingface:tokenizers (an optional "
                    + "dependency of attn4j-domain) to the class path, or --add-modules ai.djl.tokenizers on the module path", e);
        }
        // Before DJL's classes initialise: no telemetry probe, no download.
        setIfUnset("OPT_OUT_TRACKING", "true");
        setIfUnset("ai.djl.offline", "true");
    }

    private static void setIfUnset(String key, String value) {
        if (System.getenv(key) == null && System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    @Override
    public int[] encode(String text) {
        InvalidRequestException.check(text != null, "text", "a string", "null");
        long[] ids = djl.encode(text);
        int[] out = new int[ids.length];
        for (int k = 0; k < ids.length; k++) {
            if (ids[k] < 0 || ids[k] >= vocabSize) {
                // The Rust model produced an id the file's vocabulary does not list: a broken file.
                throw new Attn4jException(file + ": the tokenizer produced id " + ids[k] + " outside its vocabulary [0, "
                        + vocabSize + ")");
            }
            out[k] = (int) ids[k];
        }
        return out;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        InvalidRequestException.check(ids != null, "ids", "an int array", "null");
        long[] wide = new long[ids.length];
        for (int k = 0; k < ids.length; k++) {
            InvalidRequestException.check(ids[k] >= 0 && ids[k] < vocabSize, "ids[" + k + "]",
                    "an id in [0, " + vocabSize + ")", ids[k]);
            wide[k] = ids[k];
        }
        return djl.decode(wide, skipSpecialTokens);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public OptionalInt bos() {
        return bos;
    }

    @Override
    public OptionalInt eos() {
        return eos;
    }

    @Override
    public OptionalInt pad() {
        return pad;
    }

    /** Frees the native tokenizer. */
    @Override
    public void close() {
        djl.close();
    }

    @Override
    public String toString() {
        return "HuggingFaceTokenizer(" + file + ", vocab=" + vocabSize + ")";
    }
}
