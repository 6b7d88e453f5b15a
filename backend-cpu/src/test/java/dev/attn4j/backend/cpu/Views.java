package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Arrays;

/**
 * Test inputs placed inside a larger tensor, as views at a nonzero offset, with junk on both sides: NaN around
 * floats (a kernel that indexes a view from 0 reads NaN and poisons its result), other valid values around ints
 * and booleans. The bases stay open until the backend closes.
 */
final class Views {
    /** Elements of junk before a view's first element; odd, so no vector alignment happens to line up. */
    static final int PAD = 37;
    private static final int TAIL = 11;

    private Views() {
    }

    /** {@code data} as a {@code dtype} view of {@code shape} inside a NaN-filled base. */
    static DeviceTensor floats(Backend backend, float[] data, Shape shape, DType dtype) {
        float[] all = new float[PAD + data.length + TAIL];
        Arrays.fill(all, Float.NaN);
        System.arraycopy(data, 0, all, PAD, data.length);
        DeviceTensor base = backend.tensors().upload(all, Shape.of(all.length), dtype);
        return backend.tensors().view(base, PAD, shape);
    }

    /** {@code data} as an I32 view inside a base whose other elements are {@code junk}. */
    static DeviceTensor ints(Backend backend, int[] data, Shape shape, int junk) {
        int[] all = new int[PAD + data.length + TAIL];
        Arrays.fill(all, junk);
        System.arraycopy(data, 0, all, PAD, data.length);
        DeviceTensor base = backend.tensors().uploadInts(all, Shape.of(all.length));
        return backend.tensors().view(base, PAD, shape);
    }

    /** {@code data} as a BOOL view inside a base whose other elements alternate. */
    static DeviceTensor bools(Backend backend, boolean[] data, Shape shape) {
        boolean[] all = new boolean[PAD + data.length + TAIL];
        for (int i = 0; i < all.length; i++) {
            all[i] = i % 2 == 0;
        }
        System.arraycopy(data, 0, all, PAD, data.length);
        DeviceTensor base = backend.tensors().uploadBools(all, Shape.of(all.length));
        return backend.tensors().view(base, PAD, shape);
    }

    /** The same values as {@code t} (any dtype), moved into a view inside a junk-filled base. */
    static DeviceTensor of(Backend backend, DeviceTensor t) {
        if (t == null) {
            return null;
        }
        return switch (t.dtype()) {
            case I32 -> ints(backend, backend.tensors().downloadInts(t), t.shape(), 3);
            case BOOL -> bools(backend, backend.tensors().downloadBools(t), t.shape());
            default -> floats(backend, backend.tensors().download(t), t.shape(), t.dtype());
        };
    }
}
