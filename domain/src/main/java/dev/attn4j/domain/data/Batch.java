package dev.attn4j.domain.data;

import dev.attn4j.domain.masks.FlashMask;
import dev.attn4j.ports.InvalidRequestException;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code B} packed rows of {@code L} tokens as the host arrays a training step uploads: ids, labels and
 * positions {@code [B, L]} row-major, and the causal document mask {@code [B, 1, L, 1]}. The trainer
 * uploads them; nothing here touches a device.
 *
 * <pre>{@code
 * Batch batch = loader.batch(position);
 * int[] ids = batch.inputIds();                    // [B·L]
 * int[] targets = batch.nextTokenTargets();        // [B·L], shifted within each row
 * FlashMask mask = batch.causalDocumentMask();     // use with causal=true
 * }</pre>
 *
 * @param rows the rows, all of one length
 */
public record Batch(List<PackedRow> rows) {

    /** Validates that there is a row and that all rows have one length; copies the list. */
    public Batch {
        InvalidRequestException.check(rows != null && !rows.isEmpty(), "rows", "at least one row",
                rows == null ? "null" : 0);
        rows = List.copyOf(rows);
        int length = rows.getFirst().length();
        for (int r = 1; r < rows.size(); r++) {
            InvalidRequestException.check(rows.get(r).length() == length, "rows[" + r + "]",
                    "length " + length + " (as rows[0])", rows.get(r).length());
        }
    }

    /** {@return B, the rows} */
    public int size() {
        return rows.size();
    }

    /** {@return L, the tokens of each row} */
    public int length() {
        return rows.getFirst().length();
    }

    /** {@return the ids {@code [B, L]}, row-major} */
    public int[] inputIds() {
        return gather(0);
    }

    /** {@return the labels {@code [B, L]}, aligned with the ids} */
    public int[] labels() {
        return gather(1);
    }

    /** {@return the per-document positions {@code [B, L]}} */
    public int[] positions() {
        return gather(2);
    }

    /** {@return the next-token targets {@code [B, L]} for the fused cross-entropy (shifted within each row)} */
    public int[] nextTokenTargets() {
        return Labels.nextTokenTargets(labels(), size(), length());
    }

    /** {@return the causal document mask of every row, stacked: {@code [B, 1, L, 1]}, {@code causal=true}} */
    public FlashMask causalDocumentMask() {
        List<FlashMask> masks = new ArrayList<>(rows.size());
        for (PackedRow row : rows) {
            masks.add(row.causalDocumentMask());
        }
        return FlashMask.concatBatch(masks);
    }

    /** {@return real tokens in the batch} */
    public long tokens() {
        long n = 0;
        for (PackedRow row : rows) {
            n += row.tokens();
        }
        return n;
    }

    /** {@return padding positions in the batch} */
    public long padTokens() {
        return (long) size() * length() - tokens();
    }

    /** {@return positions with a label other than −100 (the loss's denominator for a mean over tokens)} */
    public long trainedTokens() {
        return Labels.countTrained(labels());
    }

    private int[] gather(int which) {
        int length = length();
        int[] out = new int[Math.multiplyExact(size(), length)];
        for (int r = 0; r < rows.size(); r++) {
            System.arraycopy(rows.get(r).view(which), 0, out, r * length, length);
        }
        return out;
    }
}
