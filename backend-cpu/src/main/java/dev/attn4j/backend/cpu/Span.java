package dev.attn4j.backend.cpu;

/**
 * Where a tensor's elements lie: {@code length} elements of {@code array} starting at {@code offset}. A view
 * shares its base's array from a nonzero offset, so every kernel reads and writes a tensor through its span
 * and adds {@link #offset()} in its index math; {@link CpuTensor} has no accessor that hands out the bare array,
 * so no kernel can index a view from 0 by accident.
 *
 * <pre>{@code
 * Span<float[]> x = tensor.f32();
 * float first = x.array()[x.offset()];
 * }</pre>
 *
 * @param array  the storage, shared by a tensor and all its views
 * @param offset index of the tensor's first element in {@code array}
 * @param length number of elements (the tensor's element count)
 * @param <A>    the array type: {@code float[]}, {@code short[]} (F16/BF16 bits), {@code int[]} or {@code boolean[]}
 */
record Span<A>(A array, int offset, int length) {

    /** One past the tensor's last element in {@link #array()}. */
    int end() {
        return offset + length;
    }

    /** Whether this span and {@code other} share at least one element of the same array. */
    boolean overlaps(Span<?> other) {
        return array == other.array && offset < other.end() && other.offset < end();
    }

    /**
     * Whether the two spans share elements without being the same elements: an element-wise op that writes
     * one while reading the other would then read values it has already overwritten, in an order that
     * depends on vector width and thread split.
     */
    boolean overlapsPartly(Span<?> other) {
        return overlaps(other) && !(offset == other.offset && length == other.length);
    }
}
