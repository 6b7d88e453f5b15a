package dev.attn4j.ports.tensor;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;

/**
 * An immutable row-major tensor shape. Every dimension is at least 1; a tensor with no elements cannot
 * be expressed, because no op of attn4j has a meaningful empty input. The element count is exact: a shape
 * whose count does not fit a {@code long} cannot be made (it would otherwise wrap round to a small,
 * plausible count that a kernel would then index past).
 *
 * <p>Backends index tensors with {@code int} today, so a tensor holds at most {@link #MAX_TENSOR_ELEMENTS}
 * elements; larger shapes can be described (for planning, estimates) but no tensor of one can be made, and
 * requests check {@link #fitsTensor()} for every argument.
 *
 * <pre>{@code
 * Shape q = Shape.of(batch, seqQ, heads, headDim);
 * long n = q.elementCount();
 * }</pre>
 */
public final class Shape {
    /** The most elements one tensor may hold: every backend indexes its buffers with {@code int}. */
    public static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE;

    private final int[] dims;
    private final long count;

    private Shape(int[] dims, long count) {
        this.dims = dims;
        this.count = count;
    }

    /**
     * {@return a shape with the given dimensions}
     *
     * @param dims the sizes
     * @throws InvalidRequestException (argument {@code shape}) if there are no dimensions, one is below 1, or
     *                                 the element count overflows a {@code long}
     */
    public static Shape of(int... dims) {
        if (dims == null || dims.length == 0) {
            throw new InvalidRequestException("shape", "at least one dimension", dims == null ? "null" : "[]");
        }
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 1) {
                throw new InvalidRequestException("shape", "dimension " + i + " of " + Arrays.toString(dims)
                        + " to be >= 1 (a tensor has no empty dimension)", dims[i]);
            }
            try {
                n = Math.multiplyExact(n, dims[i]);
            } catch (ArithmeticException e) {
                throw new InvalidRequestException("shape", "an element count that fits in 64 bits",
                        Arrays.toString(dims) + ", whose count overflows");
            }
        }
        return new Shape(dims.clone(), n);
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

    /** {@return the product of all dimensions, exact} */
    public long elementCount() {
        return count;
    }

    /** {@return whether a tensor of this shape can exist: at most {@link #MAX_TENSOR_ELEMENTS} elements} */
    public boolean fitsTensor() {
        return count <= MAX_TENSOR_ELEMENTS;
    }

    /**
     * Throws unless {@link #fitsTensor()}, naming {@code argument}.
     *
     * @param argument the name of the argument this shape belongs to, for the error
     * @return this shape
     * @throws InvalidRequestException naming {@code argument}, with the count and the limit
     */
    public Shape requireFitsTensor(String argument) {
        InvalidRequestException.check(fitsTensor(), argument, "at most " + MAX_TENSOR_ELEMENTS
                + " elements (backends index tensors with int)", count + " elements in " + this);
        return this;
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
