package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.lang.foreign.MemorySegment;

/** Bulk copies between TornadoVM arrays (their payload segments, without the array header). */
final class Arrays {
    private Arrays() {
    }

    /** Copies all of {@code from} into the start of {@code to}. */
    static void copy(FloatArray from, FloatArray to) {
        MemorySegment.copy(from.getSegment(), 0, to.getSegment(), 0, from.getNumBytesOfSegment());
    }

    /** A new array holding a copy of {@code from}. */
    static FloatArray copyOf(FloatArray from) {
        FloatArray to = new FloatArray(from.getSize());
        copy(from, to);
        return to;
    }
}
