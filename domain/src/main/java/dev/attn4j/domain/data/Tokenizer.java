package dev.attn4j.domain.data;

import java.util.OptionalInt;

/**
 * Text to token ids and back, for training data and generation. Implementations add no special tokens of
 * their own in {@link #encode}: the data layer decides where {@code bos}/{@code eos} go
 * ({@link JsonlDataset.Options}), so one rule holds for every tokenizer.
 *
 * <p>Ids lie in {@code [0, vocabSize())}; a model trained on a tokenizer's ids needs a vocabulary of at
 * least {@link #vocabSize()} rows.
 *
 * <pre>{@code
 * Tokenizer tok = ByteTokenizer.INSTANCE;
 * int[] ids = tok.encode("héllo");            // 6 UTF-8 bytes -> 6 ids
 * String back = tok.decode(ids);              // "héllo"
 * int eos = tok.eos().orElseThrow();          // 256
 * }</pre>
 */
public interface Tokenizer {

    /** The ids of {@code text}, without any special token added. */
    int[] encode(String text);

    /**
     * The text of {@code ids}; with {@code skipSpecialTokens}, special tokens ({@code bos}, {@code eos},
     * {@code pad} and the like) are left out instead of rendered.
     *
     * @throws dev.attn4j.ports.InvalidRequestException when an id is outside {@code [0, vocabSize())}
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** {@link #decode(int[], boolean)} rendering special tokens. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The number of ids: every id this tokenizer produces or accepts is below it. */
    int vocabSize();

    /** The beginning-of-sequence id, if the tokenizer has one. */
    OptionalInt bos();

    /** The end-of-sequence id, if the tokenizer has one (appended to each document by the data layer). */
    OptionalInt eos();

    /** The padding id, if the tokenizer has one. */
    OptionalInt pad();
}
