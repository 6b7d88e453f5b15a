package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

/**
 * Where a {@link DataLoader} is: the epoch and the next row to read in that epoch's order, plus the
 * loader's fingerprint (its rows, batch size, shuffle and seed), so a checkpoint that records these three
 * numbers resumes exactly where it stopped, and resuming against other data or settings is an error
 * instead of a silent divergence.
 *
 * <pre>{@code
 * DataPosition at = loader.start();
 * Batch b = loader.batch(at);
 * at = loader.next(at);                 // save at.epoch(), at.row(), at.fingerprint() in the checkpoint
 * DataPosition resumed = new DataPosition(epoch, row, fingerprint);
 * }</pre>
 *
 * @param epoch       the epoch, from 0
 * @param row         the index, in the epoch's order, of the next row to read
 * @param fingerprint {@link DataLoader#fingerprint()} of the loader that produced it
 */
public record DataPosition(int epoch, int row, long fingerprint) {

    /** Validates the counters. */
    public DataPosition {
        InvalidRequestException.check(epoch >= 0, "epoch", ">= 0", epoch);
        InvalidRequestException.check(row >= 0, "row", ">= 0", row);
    }
}
