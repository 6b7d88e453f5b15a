package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.MemorySegment;

/** Bulk copies between TornadoVM arrays (their payload segments, without the array header). */
final class Arrays {
    private Arrays() {
    }

    /** Copies all of {@code from} into the start of {@code to} (same element type, {@code to} at least as long). */
    static void copy(TornadoNativeArray from, TornadoNativeArray to) {
        MemorySegment.copy(from.getSegment(), 0, to.getSegment(), 0, from.getNumBytesOfSegment());
    }

    /** A new array holding a copy of {@code from}. */
    static FloatArray copyOf(FloatArray from) {
        return copyOf(from, from.getSize());
    }

    /** A new array holding a copy of the first {@code n} elements of {@code from}. */
    static FloatArray copyOf(FloatArray from, int n) {
        FloatArray to = new FloatArray(Math.max(1, n));
        MemorySegment.copy(from.getSegment(), 0, to.getSegment(), 0, (long) n * Float.BYTES);
        return to;
    }
}
