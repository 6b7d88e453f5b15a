package dev.attn4j.domain.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The only class that names DJL: {@link HuggingFaceTokenizer} reaches DJL through it after checking that
 * DJL is present, so a product without the optional dependency gets a clear error instead of a
 * {@code NoClassDefFoundError} while linking the public class.
 */
final class DjlTokenizer implements AutoCloseable {

    private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl;

    private DjlTokenizer(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl) {
        this.djl = djl;
    }

    static DjlTokenizer load(Path file) throws IOException {
        // DJL's defaults would truncate every encoding to 512 tokens, pad it, and add the post-processor's
        // special tokens; the data layer wants the raw ids and places bos/eos itself.
        Map<String, String> options = Map.of(
                "addSpecialTokens", "false",
                "truncation", "false",
                "padding", "false");
        return new DjlTokenizer(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(file, options));
    }

    long[] encode(String text) {
        return djl.encode(text, false, false).getIds();
    }

    String decode(long[] ids, boolean skipSpecialTokens) {
        return djl.decode(ids, skipSpecialTokens);
    }

    @Override
    public void close() {
        djl.close();
    }
}
