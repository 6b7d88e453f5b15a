package dev.attn4j.ports.linear;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A general matrix product written into an existing tensor, BLAS-style:
 * {@code C = alpha·op(A)·op(B) + beta·C} with {@code op(X) = X} or {@code Xᵀ}. Rank-2 operands are one
 * product; rank-3 operands {@code [batch, rows, cols]} are a strided batch, where an operand of batch 1 is
 * shared by every product. With {@code beta = 0}, {@code C} is not read (whatever it held is overwritten).
 *
 * <pre>{@code
 * // merge a LoRA adapter: W [out, in] += s · B [out, r] · A [r, in]
 * backend.linear().matmul(new MatmulRequest(loraB, false, loraA, false, w, s, 1f));
 * }</pre>
 *
 * @param a          {@code [M, K]} ({@code [K, M]} when transposed), optionally with a leading batch dimension
 * @param transposeA whether {@code op(A) = Aᵀ}
 * @param b          {@code [K, N]} ({@code [N, K]} when transposed), optionally batched
 * @param transposeB whether {@code op(B) = Bᵀ}
 * @param c          {@code [M, N]} or {@code [batch, M, N]}, written in place
 * @param alpha      scale of the product, finite as a float
 * @param beta       scale of {@code C}'s old value, finite as a float
 */
public record MatmulRequest(DeviceTensor a, boolean transposeA, DeviceTensor b, boolean transposeB, DeviceTensor c,
                            float alpha, float beta) {

    /** Checks ranks, matching sizes, batch broadcasting, dtypes and scalars. */
    public MatmulRequest {
        if (a == null) throw new InvalidRequestException("a", "a tensor", "null");
        if (b == null) throw new InvalidRequestException("b", "a tensor", "null");
        if (c == null) throw new InvalidRequestException("c", "a tensor", "null");
        InvalidRequestException.check(a.dtype().isFloating(), "a", "a floating dtype", a.dtype());
        InvalidRequestException.check(b.dtype() == a.dtype(), "b", "dtype " + a.dtype() + " (as a)", b.dtype());
        InvalidRequestException.check(c.dtype() == a.dtype(), "c", "dtype " + a.dtype() + " (as a)", c.dtype());
        int rank = c.shape().rank();
        InvalidRequestException.check(rank == 2 || rank == 3, "c", "rank 2 [M, N] or 3 [batch, M, N]", c.shape());
        InvalidRequestException.check(a.shape().rank() == rank, "a", "rank " + rank + " (as c)", a.shape());
        InvalidRequestException.check(b.shape().rank() == rank, "b", "rank " + rank + " (as c)", b.shape());
        int m = c.shape().dim(-2);
        int n = c.shape().dim(-1);
        int aRows = transposeA ? a.shape().dim(-1) : a.shape().dim(-2);
        int k = transposeA ? a.shape().dim(-2) : a.shape().dim(-1);
        int bRows = transposeB ? b.shape().dim(-1) : b.shape().dim(-2);
        int bCols = transposeB ? b.shape().dim(-2) : b.shape().dim(-1);
        InvalidRequestException.check(aRows == m, "a", "M = " + m + " rows of op(a) (as c " + c.shape() + ")",
                a.shape() + (transposeA ? " transposed" : ""));
        InvalidRequestException.check(bRows == k, "b", "K = " + k + " rows of op(b) (columns of op(a))",
                b.shape() + (transposeB ? " transposed" : ""));
        InvalidRequestException.check(bCols == n, "b", "N = " + n + " columns of op(b) (as c " + c.shape() + ")",
                b.shape() + (transposeB ? " transposed" : ""));
        if (rank == 3) {
            int batch = c.shape().dim(0);
            InvalidRequestException.check(a.shape().dim(0) == batch || a.shape().dim(0) == 1, "a",
                    "batch " + batch + " or 1", a.shape().dim(0));
            InvalidRequestException.check(b.shape().dim(0) == batch || b.shape().dim(0) == 1, "b",
                    "batch " + batch + " or 1", b.shape().dim(0));
        }
        InvalidRequestException.check(c != a && c != b, "c", "a tensor apart from a and b", "one of them");
        Scalars.requireFinite("alpha", alpha);
        Scalars.requireFinite("beta", beta);
    }

    /**
     * {@return the request for {@code C = A·B}} Neither operand is transposed, and {@code C}'s old value is
     * not read ({@code alpha = 1}, {@code beta = 0}).
     *
     * @param a {@code [M, K]}, optionally with a leading batch dimension
     * @param b {@code [K, N]}, optionally batched
     * @param c {@code [M, N]} or {@code [batch, M, N]}, overwritten
     */
    public static MatmulRequest of(DeviceTensor a, DeviceTensor b, DeviceTensor c) {
        return new MatmulRequest(a, false, b, false, c, 1f, 0f);
    }

    /** {@return the number of products in the batch (1 for rank-2 operands)} */
    public int batch() {
        return c.shape().rank() == 3 ? c.shape().dim(0) : 1;
    }

    /** {@return M, the rows of {@code C}} */
    public int m() {
        return c.shape().dim(-2);
    }

    /** {@return N, the columns of {@code C}} */
    public int n() {
        return c.shape().dim(-1);
    }

    /** {@return K, the reduced dimension} */
    public int k() {
        return transposeA ? a.shape().dim(-2) : a.shape().dim(-1);
    }

    /**
     * {@return whether {@code operand}'s batch dimension is 1 and so shared by every product}
     *
     * @param operand {@code a} or {@code b} of a request (false for a rank-2 operand)
     */
    public static boolean shared(DeviceTensor operand) {
        Shape s = operand.shape();
        return s.rank() == 3 && s.dim(0) == 1;
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("a", a);
        all.put("b", b);
        all.put("c", c);
        return all;
    }
}
