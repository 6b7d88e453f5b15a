package dev.attn4j.ports.tensor;

import dev.attn4j.ports.InvalidRequestException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strided block copy between two tensors of the same dtype, in elements of their flat row-major storage:
 * for every {@code r < rows} and {@code c < cols},
 * {@code dst[dstOffset + r·dstStride + c] = src[srcOffset + r·srcStride + c]}. One request covers a
 * contiguous copy ({@code rows = 1}), appending a token to every batch row of a KV cache
 * ({@code rows = B}, {@code dstStride = Smax·Hkv·D}), and splitting a fused QKV projection
 * ({@code srcStride = (H + 2·Hkv)·D}).
 *
 * <pre>{@code
 * // append k_t [B, 1, Hkv, D] at position t of the cache [B, Smax, Hkv, D]
 * int row = hkv * d;
 * backend.tensors().copy(new CopyRequest(kT, 0, row, cache, (long) t * row, (long) sMax * row, batch, row));
 * }</pre>
 *
 * @param src       the tensor read
 * @param srcOffset first element read
 * @param srcStride elements between the starts of consecutive rows in {@code src} ({@code >= cols} unless one row)
 * @param dst       the tensor written
 * @param dstOffset first element written
 * @param dstStride elements between the starts of consecutive rows in {@code dst} ({@code >= cols} unless one row)
 * @param rows      rows copied ({@code >= 1})
 * @param cols      elements per row ({@code >= 1})
 */
public record CopyRequest(DeviceTensor src, long srcOffset, long srcStride, DeviceTensor dst, long dstOffset,
                          long dstStride, long rows, long cols) {

    /** Checks dtypes, ranges (without overflow) and that a tensor is not copied onto itself overlapping. */
    public CopyRequest {
        if (src == null) throw new InvalidRequestException("src", "a tensor", "null");
        if (dst == null) throw new InvalidRequestException("dst", "a tensor", "null");
        InvalidRequestException.check(dst.dtype() == src.dtype(), "dst", "dtype " + src.dtype() + " (as src)",
                dst.dtype());
        InvalidRequestException.check(rows >= 1, "rows", ">= 1", rows);
        InvalidRequestException.check(cols >= 1, "cols", ">= 1", cols);
        checkRange("src", src, srcOffset, srcStride, rows, cols);
        checkRange("dst", dst, dstOffset, dstStride, rows, cols);
        if (src == dst) {
            long srcEnd = end(srcOffset, srcStride, rows, cols);
            long dstEnd = end(dstOffset, dstStride, rows, cols);
            InvalidRequestException.check(srcEnd <= dstOffset || dstEnd <= srcOffset, "dst",
                    "a range not overlapping src's [" + srcOffset + ", " + srcEnd + ")",
                    "[" + dstOffset + ", " + dstEnd + ")");
        }
    }

    /**
     * {@return a contiguous copy of all of {@code src} into {@code dst} starting at element {@code dstOffset}}
     *
     * @param src       the tensor read, whole
     * @param dst       the tensor written, of {@code src}'s dtype
     * @param dstOffset the flat index of the first element written in {@code dst}
     */
    public static CopyRequest into(DeviceTensor src, DeviceTensor dst, long dstOffset) {
        if (src == null) throw new InvalidRequestException("src", "a tensor", "null");
        long n = src.shape().elementCount();
        return new CopyRequest(src, 0, n, dst, dstOffset, n, 1, n);
    }

    private static void checkRange(String name, DeviceTensor t, long offset, long stride, long rows, long cols) {
        InvalidRequestException.check(offset >= 0, name + "Offset", ">= 0", offset);
        InvalidRequestException.check(rows == 1 || stride >= cols, name + "Stride", ">= cols = " + cols, stride);
        long count = t.shape().elementCount();
        long end;
        try {
            end = end(offset, stride, rows, cols);
        } catch (ArithmeticException e) {
            throw new InvalidRequestException(name, "a block within its " + count + " elements", "an overflowing range");
        }
        InvalidRequestException.check(end <= count, name, "a block within its " + count + " elements (shape "
                + t.shape() + ")", "a block ending at element " + end);
    }

    /** One past the last element touched. */
    private static long end(long offset, long stride, long rows, long cols) {
        return Math.addExact(Math.addExact(offset, Math.multiplyExact(rows - 1, stride)), cols);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("src", src);
        all.put("dst", dst);
        return all;
    }
}
