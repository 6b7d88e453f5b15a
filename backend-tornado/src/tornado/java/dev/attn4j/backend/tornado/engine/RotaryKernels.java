package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.annotations.Parallel;
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
            META_SIZE = 8;

    private RotaryKernels() {
    }

    static void rotary(FloatArray x, FloatArray cos, FloatArray sin, FloatArray scale, FloatArray y, IntArray meta,
                       int capacity) {
        for (@Parallel int e = 0; e < capacity; e++) {
            if (e < meta.get(COUNT)) {
                int dim = meta.get(DIM);
                int pairs = meta.get(PAIRS);
                int d = e % dim;
                int n = (e / (dim * meta.get(HEADS))) % meta.get(SEQ);
                if (d >= 2 * pairs) {
                    y.set(e, x.get(e));
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
                    float x1 = x.get(e);
                    float x2 = x.get(partner);
                    if (first == 0) {
                        x1 = x.get(partner);
                        x2 = x.get(e);
                    }
                    int t = n * pairs + p;
                    float c = cos.get(t);
                    float s = sin.get(t);
                    if (meta.get(INVERSE) != 0) {
                        s = -s;
                    }
                    float zeta = 1.0f;
                    if (meta.get(HAS_SCALE) != 0) {
                        zeta = scale.get(t);
                    }
                    float r = x1 * s + x2 * c;
                    if (first == 1) {
                        r = x1 * c - x2 * s;
                    }
                    y.set(e, zeta * r);
                }
            }
        }
    }
}
