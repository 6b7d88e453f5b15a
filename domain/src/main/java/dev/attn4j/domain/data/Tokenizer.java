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

    /**
     * The ids of {@code text}, without any special token added.
     *
     * @param text any text
     * @return its ids, each in {@code [0, vocabSize())}
     */
    int[] encode(String text);

    /**
     * The text of {@code ids}; with {@code skipSpecialTokens}, special tokens ({@code bos}, {@code eos},
     * {@code pad} and the like) are left out instead of rendered.
     *
     * @param ids token ids
     * @param skipSpecialTokens whether to leave special tokens out
     * @return the decoded text
     * @throws dev.attn4j.ports.InvalidRequestException when an id is outside {@code [0, vocabSize())}
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /**
     * {@link #decode(int[], boolean)} rendering special tokens.
     *
     * @param ids token ids
     * @return the decoded text, special tokens rendered
     */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /** {@return the number of ids: every id this tokenizer produces or accepts is below it} */
    int vocabSize();

    /** {@return the beginning-of-sequence id, if the tokenizer has one} */
    OptionalInt bos();

    /** {@return the end-of-sequence id, if the tokenizer has one (appended to each document by the data layer)} */
    OptionalInt eos();

    /** {@return the padding id, if the tokenizer has one} */
    OptionalInt pad();
}
