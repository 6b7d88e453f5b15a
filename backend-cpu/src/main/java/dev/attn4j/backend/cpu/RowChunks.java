package dev.attn4j.backend.cpu;

/**
 * Rows split into work items of consecutive rows. The split depends only on the problem's size, never
 * on the thread count, so per-chunk partial sums combined in chunk order give the same bits whatever
 * the number of workers.
 *
 * @param rows         number of rows
 * @param rowsPerChunk rows in every chunk but maybe the last
 * @param count        number of chunks
 */
record RowChunks(int rows, int rowsPerChunk, int count) {
    /** Elements per chunk aimed at: enough to amortise handing the chunk to a worker. */
    static final int TARGET_ELEMENTS = 1 << 14;
    /** At most this many chunks, which bounds the partial sums to {@code MAX_CHUNKS · C} floats. */
    static final int MAX_CHUNKS = 128;

    /** The split of {@code rows} rows of {@code c} elements. */
    static RowChunks of(int rows, int c) {
        long wanted = Math.ceilDiv((long) rows * c, TARGET_ELEMENTS);
        int chunks = (int) Math.max(1, Math.min(Math.min(wanted, MAX_CHUNKS), rows));
        int per = Math.ceilDiv(rows, chunks);
        return new RowChunks(rows, per, Math.ceilDiv(rows, per));
    }

    /** First row of chunk {@code k}. */
    int start(int k) {
        return k * rowsPerChunk;
    }

    /** One past the last row of chunk {@code k}. */
    int end(int k) {
        // in long: the last chunk's nominal end may pass Integer.MAX_VALUE when rows is close to it
        return (int) Math.min(rows, (k + 1L) * rowsPerChunk);
    }
}
