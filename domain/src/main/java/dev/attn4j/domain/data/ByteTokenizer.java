package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;

/**
 * The zero-setup tokenizer: one id per UTF-8 byte, plus three special ids after the bytes.
 *
 * <table>
 *   <caption>Ids</caption>
 *   <tr><th>id</th><th>meaning</th><th>rendered by {@link #decode(int[])}</th></tr>
 *   <tr><td>0–255</td><td>the UTF-8 byte of that value</td><td>the bytes, decoded as UTF-8</td></tr>
 *   <tr><td>256</td><td>{@code eos}, end of sequence</td><td>{@code <|eos|>}</td></tr>
 *   <tr><td>257</td><td>{@code pad}</td><td>{@code <|pad|>}</td></tr>
 *   <tr><td>258</td><td>{@code bos}, beginning of sequence</td><td>{@code <|bos|>}</td></tr>
 * </table>
 *
 * <p>{@link #vocabSize()} is 259. Encoding is lossless: {@code decode(encode(s)).equals(s)} for every
 * string without unpaired surrogates (which UTF-8 cannot carry; they encode as {@code ?}, as
 * {@link String#getBytes} does). Text never produces a special id: the characters {@code <|eos|>} in text
 * are seven byte ids, so data cannot inject control tokens. Byte runs that are not valid UTF-8 (a decode of
 * a partial generation) decode with U+FFFD replacement characters.
 *
 * <pre>{@code
 * int[] ids = ByteTokenizer.INSTANCE.encode("a€");   // [97, 226, 130, 172]
 * }</pre>
 */
public final class ByteTokenizer implements Tokenizer {

    /** The id of end-of-sequence. */
    public static final int EOS = 256;
    /** The id of padding. */
    public static final int PAD = 257;
    /** The id of beginning-of-sequence. */
    public static final int BOS = 258;
    /** The number of ids: 256 bytes and three specials. */
    public static final int VOCAB_SIZE = 259;

    /** The tokenizer (it has no state). */
    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private ByteTokenizer() {
    }

    @Override
    public int[] encode(String text) {
        InvalidRequestException.check(text != null, "text", "a string", "null");
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int k = 0; k < bytes.length; k++) {
            ids[k] = bytes[k] & 0xFF;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        InvalidRequestException.check(ids != null, "ids", "an int array", "null");
        StringBuilder out = new StringBuilder(ids.length);
        // Bytes are gathered in runs and decoded per run, so a multi-byte character is never split.
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (int k = 0; k < ids.length; k++) {
            int id = ids[k];
            InvalidRequestException.check(id >= 0 && id < VOCAB_SIZE, "ids[" + k + "]",
                    "an id in [0, " + VOCAB_SIZE + ")", id);
            if (id < 256) {
                run.write(id);
                continue;
            }
            flush(run, out);
            if (!skipSpecialTokens) {
                out.append(switch (id) {
                    case EOS -> "<|eos|>";
                    case PAD -> "<|pad|>";
                    default -> "<|bos|>";
                });
            }
        }
        flush(run, out);
        return out.toString();
    }

    private static void flush(ByteArrayOutputStream run, StringBuilder out) {
        if (run.size() > 0) {
            out.append(run.toString(StandardCharsets.UTF_8));
            run.reset();
        }
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    @Override
    public OptionalInt bos() {
        return OptionalInt.of(BOS);
    }

    @Override
    public OptionalInt eos() {
        return OptionalInt.of(EOS);
    }

    @Override
    public OptionalInt pad() {
        return OptionalInt.of(PAD);
    }

    @Override
    public String toString() {
        return "ByteTokenizer(vocab=" + VOCAB_SIZE + ")";
    }
}
