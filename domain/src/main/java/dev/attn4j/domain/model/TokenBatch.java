package dev.attn4j.domain.model;

import dev.attn4j.ports.InvalidRequestException;

/**
 * Token ids of a batch of rows, host side, with what says which tokens count: an optional keep mask (padding,
 * x-transformers' {@code mask}) or optional per-row document lengths (packed rows, whose documents attend only
 * within themselves; positions after the last document are padding).
 *
 * <pre>{@code
 * TokenBatch plain = TokenBatch.of(ids, 2, 128);
 * TokenBatch padded = TokenBatch.masked(ids, keep, 2, 128);
 * TokenBatch packed = TokenBatch.packed(ids, new int[][] {{50, 78}, {128}}, 2, 128);
 * }</pre>
 *
 * @param ids       row-major {@code [B, S]}
 * @param batch     B
 * @param seqLen    S
 * @param keep      row-major {@code [B, S]}, true = a real token, or {@code null} for none padded
 * @param documents per row, the lengths of its documents (sum at most S), or {@code null} for one document per row
 */
public record TokenBatch(int[] ids, int batch, int seqLen, boolean[] keep, int[][] documents) {

    /** Checks sizes and copies the arrays. */
    public TokenBatch {
        InvalidRequestException.check(batch >= 1, "batch", ">= 1", batch);
        InvalidRequestException.check(seqLen >= 1, "seqLen", ">= 1", seqLen);
        long n = (long) batch * seqLen;
        InvalidRequestException.check(ids != null && ids.length == n, "ids", n + " ids [B, S]",
                ids == null ? "null" : ids.length);
        InvalidRequestException.check(keep == null || keep.length == n, "keep", n + " flags [B, S]",
                keep == null ? "null" : keep.length);
        InvalidRequestException.check(keep == null || documents == null, "documents",
                "null with a keep mask (packed rows mark padding by their document lengths)", "both");
        if (documents != null) {
            InvalidRequestException.check(documents.length == batch, "documents", batch + " rows", documents.length);
            int[][] copy = new int[batch][];
            for (int b = 0; b < batch; b++) {
                long sum = 0;
                for (int len : documents[b]) {
                    InvalidRequestException.check(len >= 1, "documents[" + b + "]", "lengths >= 1", len);
                    sum += len;
                }
                InvalidRequestException.check(sum <= seqLen, "documents[" + b + "]", "lengths summing to at most " + seqLen,
                        sum);
                copy[b] = documents[b].clone();
            }
            documents = copy;
        }
        ids = ids.clone();
        keep = keep == null ? null : keep.clone();
    }

    /**
     * Unpadded rows.
     *
     * @param ids the token ids {@code [batch, seqLen]}, row-major
     * @param batch B, the rows
     * @param seqLen S, the tokens per row
     * @return a batch without padding
     */
    public static TokenBatch of(int[] ids, int batch, int seqLen) {
        return new TokenBatch(ids, batch, seqLen, null, null);
    }

    /**
     * Rows with a keep mask (true = real token).
     *
     * @param ids the token ids {@code [batch, seqLen]}, row-major (any id at padding)
     * @param keep {@code [batch, seqLen]}, row-major: {@code true} for a real token, {@code false} for padding
     * @param batch B, the rows
     * @param seqLen S, the tokens per row
     * @return a padded batch
     */
    public static TokenBatch masked(int[] ids, boolean[] keep, int batch, int seqLen) {
        return new TokenBatch(ids, batch, seqLen, keep, null);
    }

    /**
     * Packed rows: documents of the given lengths, one after another, then padding.
     *
     * @param ids the token ids {@code [batch, seqLen]}, row-major
     * @param documents per row, the lengths of its documents in order; positions after their sum are padding
     * @param batch B, the rows
     * @param seqLen S, the tokens per row
     * @return a packed batch (attention never crosses a document boundary)
     */
    public static TokenBatch packed(int[] ids, int[][] documents, int batch, int seqLen) {
        return new TokenBatch(ids, batch, seqLen, null, documents);
    }

    /** {@return whether any token is padding} */
    public boolean padded() {
        if (keep != null) {
            for (boolean k : keep) {
                if (!k) {
                    return true;
                }
            }
            return false;
        }
        if (documents != null) {
            for (int[] row : documents) {
                int sum = 0;
                for (int len : row) {
                    sum += len;
                }
                if (sum < seqLen) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Whether token {@code t} of row {@code b} is real (not padding).
     *
     * @param b the row, {@code 0 <= b < B}
     * @param t the position in the row, {@code 0 <= t < S}
     * @return {@code false} for padding
     */
    public boolean kept(int b, int t) {
        if (keep != null) {
            return keep[b * seqLen + t];
        }
        if (documents != null) {
            int sum = 0;
            for (int len : documents[b]) {
                sum += len;
            }
            return t < sum;
        }
        return true;
    }

    /** {@return a copy of the ids} */
    @Override
    public int[] ids() {
        return ids.clone();
    }

    /** {@return a copy of the keep mask, or {@code null}} */
    @Override
    public boolean[] keep() {
        return keep == null ? null : keep.clone();
    }

    /** {@return a copy of the document lengths, or {@code null}} */
    @Override
    public int[][] documents() {
        if (documents == null) {
            return null;
        }
        int[][] copy = new int[documents.length][];
        for (int b = 0; b < documents.length; b++) {
            copy[b] = documents[b].clone();
        }
        return copy;
    }

    /**
     * The position of every token: its index in the row, or with documents its index in its document (restarting at
     * 0); padding after the last document continues counting from there.
     *
     * @return {@code [B, S]} positions, row-major, a new array
     */
    public int[] positions() {
        int[] pos = new int[batch * seqLen];
        for (int b = 0; b < batch; b++) {
            if (documents == null) {
                for (int t = 0; t < seqLen; t++) {
                    pos[b * seqLen + t] = t;
                }
                continue;
            }
            int t = 0;
            for (int len : documents[b]) {
                for (int i = 0; i < len; i++) {
                    pos[b * seqLen + t++] = i;
                }
            }
            for (int i = 0; t < seqLen; i++) {
                pos[b * seqLen + t++] = i;
            }
        }
        return pos;
    }
}
