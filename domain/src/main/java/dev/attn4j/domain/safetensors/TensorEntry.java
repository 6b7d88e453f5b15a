package dev.attn4j.domain.safetensors;

import java.util.Arrays;

/**
 * One tensor of a safetensors header, checked: its dtype, shape and byte range {@code [begin, end)} relative to
 * the data buffer after the header, with {@code end − begin = elementCount · dtype.byteSize()} exactly.
 *
 * <pre>{@code
 * TensorEntry e = reader.entry("q");
 * long n = e.elementCount();   // product of the shape, 1 for a scalar, 0 for an empty tensor
 * }</pre>
 *
 * @param name  the tensor's name
 * @param dtype the element type
 * @param shape the dimensions (rank 0 for a scalar; zero-sized dimensions allowed, as the format allows them)
 * @param begin first byte in the data buffer
 * @param end   one past the last byte
 */
public record TensorEntry(String name, SafetensorsDType dtype, int[] shape, long begin, long end) {

    /** Copies the shape. */
    public TensorEntry {
        shape = shape.clone();
    }

    /** {@return a copy of the shape} */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** {@return number of dimensions} */
    public int rank() {
        return shape.length;
    }

    /** {@return product of the dimensions (exact: the reader checked it against the byte range)} */
    public long elementCount() {
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** {@return size in bytes} */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape)
                && begin == e.begin && end == e.end;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape);
    }

    /** {@code q: F32[1, 16, 2, 64] @ [0, 8192)}. */
    @Override
    public String toString() {
        return name + ": " + dtype + Arrays.toString(shape) + " @ [" + begin + ", " + end + ")";
    }
}
