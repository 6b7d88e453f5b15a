package dev.attn4j.ports.tensor;

import java.util.Arrays;

/**
 * An immutable row-major tensor shape. Every dimension is at least 1; a tensor with no elements cannot
 * be expressed, because no op of attn4j has a meaningful empty input.
 *
 * <pre>{@code
 * Shape q = Shape.of(batch, seqQ, heads, headDim);
 * long n = q.elementCount();
 * }</pre>
 */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    /**
     * {@return a shape with the given dimensions}
     *
     * @param dims the sizes
     * @throws IllegalArgumentException if there are no dimensions or one is below 1
     */
    public static Shape of(int... dims) {
        if (dims.length == 0) {
            throw new IllegalArgumentException("a shape needs at least one dimension");
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 1) {
                throw new IllegalArgumentException("dimension " + i + " of " + Arrays.toString(dims) + " must be >= 1");
            }
        }
        return new Shape(dims.clone());
    }

    /** {@return number of dimensions} */
    public int rank() {
        return dims.length;
    }

    /**
     * {@return size of dimension {@code i}; negative {@code i} counts from the end ({@code -1} is the last)}
     *
     * @param i query row index
     */
    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    /** {@return a copy of the dimensions} */
    public int[] dims() {
        return dims.clone();
    }

    /** {@return product of all dimensions} */
    public long elementCount() {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Formats as {@code [2, 128, 8, 64]}, the form every error message uses. */
    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
