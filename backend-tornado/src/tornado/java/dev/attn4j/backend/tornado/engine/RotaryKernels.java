package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Rotary / xPos as {@code RotaryRequest} defines it, one work item per element of {@code x [B, S, H, D]}: each
 * item reads its pair and writes only its own output, so nothing races. The inverse flips the sine's sign,
 * the exact transpose of the forward rotation (its backward). Not named {@code rotate}: that is an OpenCL C
 * built-in, and TornadoVM names the kernel after the method (POCL then finds no such kernel, CL_INVALID_KERNEL_NAME).
 */
final class RotaryKernels {
    /** {@code meta} slots. */
    static final int COUNT = 0, SEQ = 1, HEADS = 2, DIM = 3, PAIRS = 4, SPLIT_HALF = 5, INVERSE = 6, HAS_SCALE = 7,
            X_AT = 8, COS_AT = 9, SIN_AT = 10, SCALE_AT = 11, Y_AT = 12, META_SIZE = 13;

    private RotaryKernels() {
    }

    /** Element {@code e = globalIdx} of {@code y}; the tensors are blocks of the float heap at the meta's offsets. */
    static void rotary(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int e = ctx.globalIdx;
        if (e < meta.get(COUNT)) {
            int xAt = meta.get(X_AT), yAt = meta.get(Y_AT);
            int cosAt = meta.get(COS_AT), sinAt = meta.get(SIN_AT), scaleAt = meta.get(SCALE_AT);
            int dim = meta.get(DIM);
            int pairs = meta.get(PAIRS);
            int d = e % dim;
            int n = (e / (dim * meta.get(HEADS))) % meta.get(SEQ);
            if (d >= 2 * pairs) {
                heap.set(yAt + e, heap.get(xAt + e));
            } else {
                // p: the pair; first: whether this element is its first component; partner: the other one.
                int p = d / 2;
                int first = 1 - d % 2;
                int partner = e + 1 - 2 * (d % 2);
                if (meta.get(SPLIT_HALF) != 0) {
                    p = d % pairs;
                    first = 1 - d / pairs;
                    partner = e + pairs - 2 * pairs * (d / pairs);
                }
                float x1 = heap.get(xAt + e);
                float x2 = heap.get(xAt + partner);
                if (first == 0) {
                    x1 = heap.get(xAt + partner);
                    x2 = heap.get(xAt + e);
                }
                int t = n * pairs + p;
                float c = heap.get(cosAt + t);
                float s = heap.get(sinAt + t);
                if (meta.get(INVERSE) != 0) {
                    s = -s;
                }
                float zeta = 1.0f;
                if (meta.get(HAS_SCALE) != 0) {
                    zeta = heap.get(scaleAt + t);
                }
                float r = x1 * s + x2 * c;
                if (first == 1) {
                    r = x1 * c - x2 * s;
                }
                heap.set(yAt + e, zeta * r);
            }
        }
    }
}
