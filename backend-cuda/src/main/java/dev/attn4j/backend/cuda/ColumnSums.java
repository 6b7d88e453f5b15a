package dev.attn4j.backend.cuda;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

/**
 * Column sums added into an accumulator, without atomics ({@code colsum_partials_*}, {@code colsum_totals_*} in
 * elementwise.cu): {@code acc[c] += Σ_r x[r, c]·y[r, c]} (or {@code Σ_r x[r, c]} without {@code y}) over a
 * {@code [rows, cols]} matrix. The rows are cut into at most {@link #MAX_CHUNKS} chunks of equal size; the first
 * pass sums each chunk's rows in order into fp32 partials, the second adds the chunks in order and the total into
 * the accumulator with one rounding. The order depends only on the sizes: bit-identical run to run. The bias
 * gradients of linear and cross-entropy and the column-vector gradient of a broadcast multiply use it.
 */
final class ColumnSums {
    /** Threads per block of both passes ({@code EW_COLUMN_THREADS} in elementwise.cu). */
    static final int THREADS = 128;
    /** The most row chunks of the first pass (a grid's y dimension). */
    static final int MAX_CHUNKS = 256;

    private ColumnSums() {
    }

    /** Rows per chunk for {@code rows} rows. */
    static long rowsPerChunk(long rows) {
        long chunks = Math.min(rows, MAX_CHUNKS);
        return (rows + chunks - 1) / chunks;
    }

    /** Chunks for {@code rows} rows. */
    static int chunks(long rows) {
        long per = rowsPerChunk(rows);
        return (int) ((rows + per - 1) / per);
    }

    /**
     * Launches both passes (called inside {@link CudaEngine#call}); the caller synchronises. The fp32 partials are
     * a temporary freed before returning.
     *
     * @param engine   the engine
     * @param xType    storage type of {@code x} (and {@code y})
     * @param x        {@code [rows, cols]}
     * @param y        {@code [rows, cols]} multiplied in, or {@code null}
     * @param rows     rows
     * @param cols     columns
     * @param accType  storage type of the accumulator
     * @param acc      {@code [cols]}, added to
     */
    static void accumulate(CudaEngine engine, DType xType, DevicePointer x, DevicePointer y, long rows, int cols,
                           DType accType, DevicePointer acc) {
        long per = rowsPerChunk(rows);
        int chunks = chunks(rows);
        int columnBlocks = (cols + THREADS - 1) / THREADS;
        CudaTensor partial = engine.allocate(Shape.of(chunks, cols), DType.F32);
        try {
            engine.launch(KernelCatalog.columnPartials(xType), columnBlocks, chunks, 1, THREADS,
                    partialArgs(x, y, rows, cols, per, partial.pointer()));
            engine.launch(KernelCatalog.columnTotals(accType), columnBlocks, 1, 1, THREADS, partial.pointer(), chunks,
                    cols, acc);
            // the partials may be freed only once the kernels reading them are done
            engine.synchronize("column sums " + rows + "x" + cols);
        } finally {
            partial.close();
        }
    }

    /** The first pass's arguments: x, y (x again when absent), the y flag, rows, cols, rows per chunk, partials. */
    static Object[] partialArgs(DevicePointer x, DevicePointer y, long rows, int cols, long rowsPerChunk,
                                DevicePointer partial) {
        return new Object[] {x, y != null ? y : x, y != null ? 1 : 0, rows, cols, rowsPerChunk, partial};
    }
}
