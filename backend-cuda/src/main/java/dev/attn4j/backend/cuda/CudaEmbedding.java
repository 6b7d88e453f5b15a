package dev.attn4j.backend.cuda;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * Launches {@code embedding.cu}. The backward is deterministic without atomics: keys {@code id << 32 | token} are
 * bitonic-sorted on the device ({@link #sortLaunches}), then each id's run of tokens is summed in token order by the
 * first position of the run and added into {@code tableGrad} once.
 */
final class CudaEmbedding implements EmbeddingPort {
    /** Threads per block of the gather and the key kernel ({@code EMB_THREADS} in embedding.cu). */
    static final int THREADS = 256;
    /** Keys per shared-memory segment of the sort ({@code SORT_SEGMENT}). */
    static final int SORT_SEGMENT = 1024;
    /** Threads per block of the sort kernels ({@code SORT_THREADS}): one per compare-exchange of a segment. */
    static final int SORT_THREADS = 512;
    /** Threads per block of the scatter-add, one per column ({@code EMB_COLUMN_THREADS}). */
    static final int COLUMN_THREADS = 128;
    /** The most tokens a backward sorts: 2^30, so that the padded key count and its buffer fit an int shape. */
    static final long MAX_TOKENS = 1L << 30;

    private final CudaEngine engine;

    CudaEmbedding(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor forward(EmbeddingRequest r) {
        DType t = r.table().dtype();
        long tokens = r.ids().shape().elementCount();
        int width = r.width();
        return engine.call(() -> {
            CudaTensor y = null;
            try {
                y = engine.allocate(r.outputShape(), t);
                String kernel = KernelCatalog.embeddingForward(t);
                engine.launchItems(kernel, tokens * width, THREADS, ptr(r.table()), ptr(r.ids()), y.pointer(), tokens,
                        width, r.vocabulary());
                engine.synchronize(kernel);
                return y;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(y);
                throw e;
            }
        });
    }

    @Override
    public void backward(EmbeddingBackwardRequest b) {
        EmbeddingRequest r = b.forward();
        CudaEngine.requireApart("tableGrad", b.tableGrad(), "dy", b.dy(), false);
        CudaEngine.requireApart("tableGrad", b.tableGrad(), "table", r.table(), false);
        DType t = r.table().dtype();
        long tokens = r.ids().shape().elementCount();
        InvalidRequestException.check(tokens <= MAX_TOKENS, "ids", "at most " + MAX_TOKENS
                + " tokens on the cuda backend (the backward's sort keys)", tokens);
        long n = sortSize(tokens);
        int width = r.width();
        engine.run(() -> {
            // n 64-bit keys, held as 2n I32 elements (the registry's byte count is what matters)
            CudaTensor keys = engine.allocate(Shape.of(Math.toIntExact(2 * n)), DType.I32);
            try {
                engine.launchItems(KernelCatalog.EMBEDDING_KEYS, n, THREADS, ptr(r.ids()), keys.pointer(), tokens, n);
                for (Launch l : sortLaunches(n)) {
                    Object[] args = l.kernel().equals(KernelCatalog.SORT_BLOCK) ? new Object[] {keys.pointer(), n}
                            : l.kernel().equals(KernelCatalog.SORT_MERGE) ? new Object[] {keys.pointer(), l.k()}
                            : new Object[] {keys.pointer(), n, l.k(), l.j()};
                    engine.launch(l.kernel(), l.blocks(), 1, 1, SORT_THREADS, args);
                }
                engine.launch(KernelCatalog.embeddingBackward(t), Math.toIntExact(tokens),
                        (width + COLUMN_THREADS - 1) / COLUMN_THREADS, 1, COLUMN_THREADS, keys.pointer(), ptr(b.dy()),
                        ptr(b.tableGrad()), tokens, width);
                engine.synchronize("embedding backward " + r.ids().shape() + " " + t);
            } finally {
                keys.close();
            }
        });
    }

    /** The sorted length: the smallest power of two holding {@code tokens} keys. */
    static long sortSize(long tokens) {
        return Long.highestOneBit(Math.max(1, tokens - 1)) << (tokens > 1 ? 1 : 0);
    }

    /**
     * One launch of the bitonic network: {@code kernel} on {@code blocks} blocks, for merge size {@code k} and
     * stride {@code j} where the kernel takes them.
     */
    record Launch(String kernel, int blocks, long k, long j) {
    }

    /**
     * The launches sorting {@code n} keys (a power of two): every segment sorted in shared memory, then for each
     * merge size {@code k > SORT_SEGMENT} the global strides down to {@code SORT_SEGMENT} and the shared ones below.
     */
    static List<Launch> sortLaunches(long n) {
        List<Launch> launches = new ArrayList<>();
        int segments = Math.toIntExact(Math.max(1, n / SORT_SEGMENT));
        launches.add(new Launch(KernelCatalog.SORT_BLOCK, segments, 0, 0));
        for (long k = 2L * SORT_SEGMENT; k <= n; k *= 2) {
            for (long j = k / 2; j >= SORT_SEGMENT; j /= 2) {
                long blocks = Math.min((n / 2 + SORT_THREADS - 1) / SORT_THREADS, CudaEngine.MAX_GRID_BLOCKS);
                launches.add(new Launch(KernelCatalog.SORT_STEP, (int) blocks, k, j));
            }
            launches.add(new Launch(KernelCatalog.SORT_MERGE, segments, k, 0));
        }
        return launches;
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }
}
