package dev.attn4j.domain.data;

import dev.attn4j.ports.Attn4jException;

/**
 * A training data record that cannot be used, with where it is: the message reads
 * {@code train.jsonl:17: input_ids[3]: expected an id in [0, 259), got 300}.
 *
 * <pre>{@code
 * try { JsonlDataset.read(path, tokenizer, options); }
 * catch (DataException e) { System.err.println(e.file() + " line " + e.line() + ": " + e.problem()); }
 * }</pre>
 */
public final class DataException extends Attn4jException {
    private static final long serialVersionUID = 1L;
    /** The file name as given to the reader (part of the serialised form, as every field of an exception). */
    private final String file;
    /** The 1-based line number of the bad record. */
    private final long line;
    /** The kind of problem, for callers that count or branch on it. */
    private final RecordProblem problem;

    /**
     * A bad record.
     *
     * @param file    the file name as given to the reader
     * @param line    the 1-based line number
     * @param problem the kind of problem
     * @param detail  what is wrong, naming the field
     */
    public DataException(String file, long line, RecordProblem problem, String detail) {
        super(file + ":" + line + ": " + detail);
        this.file = file;
        this.line = line;
        this.problem = problem;
    }

    /** {@return the file, as given to the reader} */
    public String file() {
        return file;
    }

    /** {@return the 1-based line number} */
    public long line() {
        return line;
    }

    /** {@return the kind of problem} */
    public RecordProblem problem() {
        return problem;
    }
}
