package dev.attn4j.backend.cpu;

import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Embedding look-up and its scatter-add backward on the CPU (F32).
 *
 * <p>Backward without races and without sorting: the work is split over blocks of features × ranges of vocabulary
 * ids, and each work item walks all tokens in order, adding the rows whose id falls in its range into its feature
 * block. No two items write the same element, and every element of {@code tableGrad} receives its tokens' rows in
 * token order, whatever the split or thread count — so the result is deterministic, with no scratch memory. Each
 * item re-reads the ids (4 bytes per token against {@code 4·D} for the rows), cheap next to the rows themselves.
 */
final class CpuEmbedding implements EmbeddingPort {
    /** Features per block of the backward (a few KiB of each row, so every item streams long runs). */
    static final int FEATURE_BLOCK = 1024;
    /** Backward work items wanted per worker, to balance ids that are not spread evenly. */
    private static final int ITEMS_PER_THREAD = 4;

    private final CpuEngine engine;
    private final WorkerPool pool;
    private final ElementwiseKernels kernels;

    CpuEmbedding(CpuEngine engine, WorkerPool pool) {
        this(engine, pool, ElementwiseKernels.get());
    }

    CpuEmbedding(CpuEngine engine, WorkerPool pool, ElementwiseKernels kernels) {
        this.engine = engine;
        this.pool = pool;
        this.kernels = kernels;
    }

    @Override
    public DeviceTensor forward(EmbeddingRequest request) {
        Span<float[]> table = f32(request.table());
        Span<int[]> ids = ((CpuTensor) request.ids()).i32();
        int d = request.width();
        CpuTensor out = engine.newOutput(request.outputShape());
        try {
            Span<float[]> y = out.f32();
            RowChunks chunks = RowChunks.of(ids.length(), d);
            pool.forEach(chunks.count(), k -> {
                for (int t = chunks.start(k), end = chunks.end(k); t < end; t++) {
                    int id = ids.array()[ids.offset() + t];
                    System.arraycopy(table.array(), table.offset() + id * d, y.array(), y.offset() + t * d, d);
                }
            });
            return engine.handOut(out, "embedding forward");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void backward(EmbeddingBackwardRequest request) {
        EmbeddingRequest fwd = request.forward();
        Span<int[]> ids = ((CpuTensor) fwd.ids()).i32();
        Span<float[]> dy = f32(request.dy());
        Span<float[]> grad = f32(request.tableGrad());
        CpuElementwise.requireApart("tableGrad", grad, "dy", dy, false);
        int d = fwd.width();
        int vocabulary = fwd.vocabulary();
        int tokens = ids.length();
        int blocks = Math.ceilDiv(d, FEATURE_BLOCK);
        // Enough items to keep every worker busy when the work is large; one item (the calling thread) when small.
        long work = (long) tokens * d;
        int wanted = work < WorkerPool.RANGE ? 1 : ITEMS_PER_THREAD * pool.threads();
        int ranges = Math.max(1, Math.min(vocabulary, Math.ceilDiv(wanted, blocks)));
        int idsPerRange = Math.ceilDiv(vocabulary, ranges);
        int[] idArray = ids.array();
        int idOff = ids.offset();
        pool.forEach(Math.multiplyExact(blocks, ranges), item -> {
            int c0 = (item % blocks) * FEATURE_BLOCK;
            int width = Math.min(FEATURE_BLOCK, d - c0);
            int lo = (item / blocks) * idsPerRange;
            int hi = (int) Math.min(vocabulary, (long) lo + idsPerRange);
            for (int t = 0; t < tokens; t++) {
                int id = idArray[idOff + t];
                if (id >= lo && id < hi) {
                    kernels.axpy(1f, dy.array(), dy.offset() + t * d + c0, grad.array(), grad.offset() + id * d + c0,
                            width);
                }
            }
        });
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
