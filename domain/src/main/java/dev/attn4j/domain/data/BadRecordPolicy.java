package dev.attn4j.domain.data;

/**
 * What {@link JsonlDataset} does with a record it cannot use.
 *
 * <pre>{@code
 * var options = JsonlDataset.Options.defaults().badRecords(BadRecordPolicy.SKIP);
 * }</pre>
 */
public enum BadRecordPolicy {
    /** Stop at the first bad record with a {@link DataException} naming the file and line. */
    FAIL,
    /** Leave it out and count it ({@link JsonlDataset.ReadStats#skipped()}, by {@link RecordProblem}). */
    SKIP
}
