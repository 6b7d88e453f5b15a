package dev.attn4j.backend.cpu;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The float arrays of closed tensors, kept for the next output of the same length that a kernel overwrites whole
 * ({@link CpuEngine#newOutput}). A training or decoding step allocates the same shapes every step; taking a
 * closed tensor's array back skips the JVM's clearing of a new array (a full extra pass over memory for a
 * memory-bound op) and the garbage it would become.
 *
 * <p>Only arrays of at least {@link #MIN_LENGTH} floats are kept (smaller ones are cheap to allocate), and at most
 * {@code budget} floats in all; beyond that, closed arrays are left to the garbage collector. Thread-safe. An
 * array is handed back only when the tensor owning it is closed, after its views (see {@link CpuTensor#close()}),
 * so no open tensor shares it.
 */
final class ArrayRecycler {
    /** Arrays shorter than this are not kept. */
    static final int MIN_LENGTH = 1 << 16;

    private final long budget;
    private final Map<Integer, ConcurrentLinkedDeque<float[]>> free = new ConcurrentHashMap<>();
    private final AtomicLong held = new AtomicLong();

    /** @param budget the most floats kept at once */
    ArrayRecycler(long budget) {
        this.budget = budget;
    }

    /** The default budget: an eighth of the maximum heap. */
    static ArrayRecycler forHeap() {
        return new ArrayRecycler(Runtime.getRuntime().maxMemory() / 8 / Float.BYTES);
    }

    /** A kept array of exactly {@code length} floats (old contents), or {@code null}. */
    float[] take(int length) {
        if (length < MIN_LENGTH) {
            return null;
        }
        ConcurrentLinkedDeque<float[]> arrays = free.get(length);
        float[] a = arrays == null ? null : arrays.pollFirst();
        if (a != null) {
            held.addAndGet(-length);
        }
        return a;
    }

    /** Keeps {@code array} for reuse if it is large enough and the budget allows. */
    void give(float[] array) {
        int length = array.length;
        if (length < MIN_LENGTH) {
            return;
        }
        if (held.addAndGet(length) > budget) {
            held.addAndGet(-length);
            return;
        }
        free.computeIfAbsent(length, k -> new ConcurrentLinkedDeque<>()).addFirst(array);
    }

    /** Floats currently kept. */
    long held() {
        return held.get();
    }

    /** Drops every kept array. */
    void clear() {
        free.clear();
        held.set(0);
    }
}
