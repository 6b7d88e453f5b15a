package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A new tensor {@code y = x ⊙ v}, with {@code x} viewed as {@code [rows, C]} ({@code C} its last dimension) and
 * {@code v} broadcast along {@code axis}: {@code y[r, c] = x[r, c]·v[c]} ({@link BroadcastAxis#COLUMNS}) or
 * {@code x[r, c]·v[r]} ({@link BroadcastAxis#ROWS}).
 *
 * <pre>{@code
 * try (DeviceTensor scaled = backend.elementwise().multiply(
 *         new BroadcastMultiplyRequest(x, residualScale, BroadcastAxis.COLUMNS))) { ... }
 * }</pre>
 *
 * @param x    any shape, floating
 * @param v    {@code [C]} or {@code [rows]}, dtype as {@code x}
 * @param axis how {@code v} is broadcast
 */
public record BroadcastMultiplyRequest(DeviceTensor x, DeviceTensor v, BroadcastAxis axis) {

    /** Checks shapes and dtypes. */
    public BroadcastMultiplyRequest {
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        if (v == null) throw new InvalidRequestException("v", "a tensor", "null");
        if (axis == null) throw new InvalidRequestException("axis", "COLUMNS or ROWS", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        InvalidRequestException.check(v.dtype() == x.dtype(), "v", "dtype " + x.dtype() + " (as x)", v.dtype());
        long cols = x.shape().dim(-1);
        long rows = x.shape().elementCount() / cols;
        long length = axis == BroadcastAxis.COLUMNS ? cols : rows;
        InvalidRequestException.check(v.shape().rank() == 1 && v.shape().dim(0) == length, "v",
                "shape [" + length + "] (" + (axis == BroadcastAxis.COLUMNS ? "last dim" : "rows") + " of x " + x.shape()
                        + ")", v.shape());
        InvalidRequestException.check(v != x, "v", "a tensor apart from x", "x");
    }

    /** {@return the vector's shape} */
    public Shape vectorShape() {
        return v.shape();
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        all.put("v", v);
        return all;
    }
}
