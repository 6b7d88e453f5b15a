package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

import java.util.ArrayList;
import java.util.List;

/**
 * Batches of packed rows, epoch after epoch, in a deterministic order: the rows as packed or, with a
 * seed, a fresh permutation each epoch (Fisher–Yates driven by SplitMix64 of {@code seed} and the epoch,
 * fully specified here so the order never depends on the JDK). As in PaddleNLP, packing happens once and
 * the shuffle moves whole rows. Positions ({@link DataPosition}) let a checkpoint resume exactly.
 *
 * <pre>{@code
 * DataLoader loader = DataLoader.shuffled(packed.rows(), 8, 1234L, false);
 * DataPosition at = loader.start();                 // or the position a checkpoint saved
 * for (int step = 0; step < steps; step++) {
 *     Batch batch = loader.batch(at);
 *     ... train ...
 *     at = loader.next(at);
 * }
 * }</pre>
 */
public final class DataLoader {

    private final List<PackedRow> rows;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final long fingerprint;
    private int cachedEpoch = -1;
    private int[] cachedOrder;

    private DataLoader(List<PackedRow> rows, int batchSize, boolean shuffle, long seed, boolean dropLast) {
        InvalidRequestException.check(rows != null && !rows.isEmpty(), "rows", "at least one row",
                rows == null ? "null" : 0);
        InvalidRequestException.check(batchSize >= 1, "batchSize", ">= 1", batchSize);
        InvalidRequestException.check(!dropLast || rows.size() >= batchSize, "batchSize",
                "at most the " + rows.size() + " rows when dropping the last partial batch", batchSize);
        // A packer's row list is immutable and builds rows on access: keep it as it is rather than copy
        // (which would build every row at once).
        this.rows = rows instanceof Packer.RowList ? rows : List.copyOf(rows);
        if (!(rows instanceof Packer.RowList)) {
            int length = this.rows.getFirst().length();
            for (int r = 1; r < this.rows.size(); r++) {
                InvalidRequestException.check(this.rows.get(r).length() == length, "rows[" + r + "]",
                        "length " + length + " (as rows[0])", this.rows.get(r).length());
            }
        }
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.dropLast = dropLast;
        this.fingerprint = fingerprint(this.rows, batchSize, shuffle, seed, dropLast);
    }

    /**
     * Rows in packing order every epoch.
     *
     * @param rows the packed rows, all of one length
     * @param batchSize B, rows per batch
     * @param dropLast whether to leave out each epoch's last batch when it is short
     * @return the loader
     */
    public static DataLoader inOrder(List<PackedRow> rows, int batchSize, boolean dropLast) {
        return new DataLoader(rows, batchSize, false, 0, dropLast);
    }

    /**
     * Rows in a new seeded permutation every epoch.
     *
     * @param rows the packed rows, all of one length
     * @param batchSize B, rows per batch
     * @param seed the shuffle's seed: the same seed gives the same order every run
     * @param dropLast whether to leave out each epoch's last batch when it is short
     * @return the loader
     */
    public static DataLoader shuffled(List<PackedRow> rows, int batchSize, long seed, boolean dropLast) {
        return new DataLoader(rows, batchSize, true, seed, dropLast);
    }

    /** {@return the position before the first batch} */
    public DataPosition start() {
        return new DataPosition(0, 0, fingerprint);
    }

    /** {@return the rows per epoch} */
    public int rowsPerEpoch() {
        return rows.size();
    }

    /** {@return the batches per epoch (the last one short unless dropped)} */
    public int batchesPerEpoch() {
        return dropLast ? rows.size() / batchSize : (rows.size() + batchSize - 1) / batchSize;
    }

    /** {@return a hash of the rows, batch size, shuffle, seed and drop-last; positions carry it} */
    public long fingerprint() {
        return fingerprint;
    }

    /**
     * The order of the rows in {@code epoch}: a permutation of {@code 0..rows-1}.
     *
     * @param epoch the epoch, from 0
     * @return a new array of row indices
     */
    public synchronized int[] order(int epoch) {
        InvalidRequestException.check(epoch >= 0, "epoch", ">= 0", epoch);
        if (epoch != cachedEpoch) {
            cachedOrder = permutation(rows.size(), shuffle, seed, epoch);
            cachedEpoch = epoch;
        }
        return cachedOrder.clone();
    }

    /**
     * The batch that starts at {@code at}.
     *
     * @param at a position of this loader ({@link #start()}, {@link #next}, or one a checkpoint saved)
     * @return up to B rows (fewer only for the last batch of an epoch)
     * @throws InvalidRequestException for a position of another loader (its fingerprint differs)
     */
    public Batch batch(DataPosition at) {
        DataPosition p = normalise(at);
        int[] order = order(p.epoch());
        int end = Math.min(order.length, p.row() + batchSize);
        List<PackedRow> out = new ArrayList<>(end - p.row());
        for (int k = p.row(); k < end; k++) {
            out.add(rows.get(order[k]));
        }
        return new Batch(out);
    }

    /**
     * The position after the batch that starts at {@code at} (the next epoch's start after the last).
     *
     * @param at a position of this loader
     * @return the position of the following batch
     * @throws InvalidRequestException for a position of another loader
     */
    public DataPosition next(DataPosition at) {
        DataPosition p = normalise(at);
        return normalise(new DataPosition(p.epoch(), Math.min(rows.size(), p.row() + batchSize), fingerprint));
    }

    /** Checks the fingerprint and moves a position at an epoch's end to the next epoch's start. */
    private DataPosition normalise(DataPosition at) {
        InvalidRequestException.check(at != null, "position", "a position", "null");
        InvalidRequestException.check(at.fingerprint() == fingerprint, "position",
                "a position of this loader (fingerprint " + Long.toHexString(fingerprint)
                        + "; same rows, batch size, shuffle and seed)", Long.toHexString(at.fingerprint()));
        InvalidRequestException.check(at.row() <= rows.size(), "position.row", "<= " + rows.size() + " rows", at.row());
        int remaining = rows.size() - at.row();
        if (remaining == 0 || (dropLast && remaining < batchSize)) {
            return new DataPosition(Math.addExact(at.epoch(), 1), 0, fingerprint);
        }
        return at;
    }

    static int[] permutation(int n, boolean shuffle, long seed, int epoch) {
        int[] order = new int[n];
        for (int k = 0; k < n; k++) {
            order[k] = k;
        }
        if (!shuffle) {
            return order;
        }
        long state = mix(seed ^ mix(0x9E3779B97F4A7C15L * (epoch + 1L)));
        for (int k = n - 1; k > 0; k--) {
            state += 0x9E3779B97F4A7C15L;
            // An index in [0, k] from the top bits of a 64-bit draw (Lemire's multiply-shift, unbiased
            // enough at these sizes and exactly reproducible).
            int j = (int) Math.unsignedMultiplyHigh(mix(state), k + 1L);
            int t = order[k];
            order[k] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** SplitMix64's output function. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static long fingerprint(List<PackedRow> rows, int batchSize, boolean shuffle, long seed, boolean dropLast) {
        long h = mix(rows.size() * 31L + batchSize);
        h = mix(h ^ (shuffle ? mix(seed) : 0x5DEECE66DL) ^ (dropLast ? 1 : 0));
        if (rows instanceof Packer.RowList packed) {
            // Folds the same values from the plan and the examples, without building the rows.
            return packed.fold(h);
        }
        for (PackedRow row : rows) {
            h = foldRow(h, row);
        }
        return h;
    }

    /**
     * Folds one row into the fingerprint: its real tokens' ids, then their labels, then the document
     * lengths (positions follow from the lengths; padding is never read by a loss).
     */
    static long foldRow(long h, PackedRow row) {
        int n = row.tokens();
        int[] ids = row.view(0);
        int[] labels = row.view(1);
        for (int t = 0; t < n; t++) {
            h = step(h, ids[t]);
        }
        for (int t = 0; t < n; t++) {
            h = step(h, labels[t]);
        }
        for (int d : row.docLengths()) {
            h = step(h, d);
        }
        return mix(h);
    }

    /** One FNV-1a step over an int. */
    static long step(long h, int v) {
        return (h ^ v) * 0x100000001B3L;
    }
}
