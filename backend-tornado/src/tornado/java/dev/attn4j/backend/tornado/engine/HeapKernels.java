package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Moves data between the device heaps and the staging arrays that TornadoVM transfers ({@link DeviceHeap}):
 * one work item per element of a block starting at {@code meta[AT]} and {@code meta[COUNT]} long. The float and
 * int kernels are twins because a TornadoVM kernel takes concrete array types.
 */
final class HeapKernels {
    /** {@code meta} slots. */
    static final int AT = 0, COUNT = 1, INTS = 2, META_SIZE = 3;

    private HeapKernels() {
    }

    /**
     * The heaps' first graph: it makes TornadoVM allocate both heaps on the device (each later graph takes them
     * over from the graph run before it), and writes nothing. The guarded stores never run ({@code COUNT} stays
     * 0); they are there so that TornadoVM sees both heaps written by the kernel, as outputs it must allocate.
     */
    static void allocate(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        if (ctx.globalIdx < meta.get(COUNT)) {
            heap.set(0, 0.0f);
            ints.set(0, 0);
        }
    }

    static void uploadFloats(KernelContext ctx, FloatArray stage, FloatArray heap, IntArray ints, IntArray meta) {
        int e = ctx.globalIdx;
        if (e < meta.get(COUNT)) {
            heap.set(meta.get(AT) + e, stage.get(e));
        }
    }

    static void downloadFloats(KernelContext ctx, FloatArray stage, FloatArray heap, IntArray ints, IntArray meta) {
        int e = ctx.globalIdx;
        if (e < meta.get(COUNT)) {
            stage.set(e, heap.get(meta.get(AT) + e));
        }
    }

    static void uploadInts(KernelContext ctx, IntArray stage, FloatArray heap, IntArray ints, IntArray meta) {
        int e = ctx.globalIdx;
        if (e < meta.get(COUNT)) {
            ints.set(meta.get(AT) + e, stage.get(e));
        }
    }

    static void downloadInts(KernelContext ctx, IntArray stage, FloatArray heap, IntArray ints, IntArray meta) {
        int e = ctx.globalIdx;
        if (e < meta.get(COUNT)) {
            stage.set(e, ints.get(meta.get(AT) + e));
        }
    }

    /** Zeroes a block of the float heap, or of the int heap when {@code meta[INTS]} is 1. */
    static void zero(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int e = ctx.globalIdx;
        if (e < meta.get(COUNT)) {
            if (meta.get(INTS) != 0) {
                ints.set(meta.get(AT) + e, 0);
            } else {
                heap.set(meta.get(AT) + e, 0.0f);
            }
        }
    }
}
