package dev.attn4j.domain.data;

/**
 * Why a JSONL record was rejected ({@link DataException#problem()}, and the keys of
 * {@link JsonlDataset.ReadStats#skippedByProblem()}).
 *
 * <pre>{@code
 * catch (DataException e) { if (e.problem() == RecordProblem.INVALID_JSON) ... }
 * }</pre>
 */
public enum RecordProblem {
    /** The line is not valid JSON (or not valid UTF-8). */
    INVALID_JSON,
    /** The line is JSON but not an object. */
    NOT_AN_OBJECT,
    /** None of the known fields: {@code text}, {@code src}/{@code tgt}, {@code prompt}/{@code completion}, {@code input_ids}. */
    UNKNOWN_SHAPE,
    /** Fields of two shapes in one record (e.g. {@code text} and {@code input_ids}). */
    AMBIGUOUS_SHAPE,
    /** One field of a pair without the other ({@code src} without {@code tgt}, ...). */
    MISSING_FIELD,
    /** A field of the wrong JSON type (a number for {@code text}, a string among {@code input_ids}, ...). */
    WRONG_TYPE,
    /** An id outside the tokenizer's vocabulary, or a label that is neither such an id nor −100. */
    ID_OUT_OF_RANGE,
    /** {@code labels} and {@code input_ids} of different lengths. */
    LABELS_LENGTH,
    /** No token at all (an empty {@code input_ids}, or empty text with no eos to append). */
    EMPTY
}
