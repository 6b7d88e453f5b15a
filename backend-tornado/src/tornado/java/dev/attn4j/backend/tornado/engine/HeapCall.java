package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One launch of a heap kernel: clears the op's {@code meta}/{@code fmeta} (so no slot keeps a value from an earlier
 * call), sets the slots given, and runs. Make it after allocating the call's blocks: growing a heap replaces the
 * plan and its arrays. Callers hold the engine's lock.
 *
 * <pre>{@code
 * new HeapCall(heap, DeviceHeap.Op.AXPBY).set(ModelKernels.N, n).set(ModelKernels.C_AT, y.offset())
 *         .f(ModelKernels.F0, value).run(64, n);
 * }</pre>
 */
final class HeapCall {
    private final DeviceHeap heap;
    private final DeviceHeap.Op op;
    private final IntArray meta;
    private final FloatArray fmeta;

    HeapCall(DeviceHeap heap, DeviceHeap.Op op) {
        this.heap = heap;
        this.op = op;
        this.meta = heap.meta(op);
        this.fmeta = heap.fmeta(op);
        meta.init(0);
        fmeta.init(0.0f);
    }

    /** Sets integer slot {@code slot}. */
    HeapCall set(int slot, int value) {
        meta.set(slot, value);
        return this;
    }

    /** Sets float slot {@code slot}. */
    HeapCall f(int slot, float value) {
        fmeta.set(slot, value);
        return this;
    }

    /** Runs the kernel on {@code global} work items, in groups of {@code local} (the range is rounded up). */
    void run(int local, long global) {
        heap.run(op, local, Math.toIntExact(Math.max(1, global)));
    }
}
