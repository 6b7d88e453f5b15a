package dev.attn4j.ports.attention;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * The sizes of an attention problem, read from and checked against {@code q [B, Sq, H, D]} and
 * {@code k, v [B, Sk, Hkv, D]} (docs/design.md §3), or {@code q [B, H, Sq, D]} and {@code k, v [B, Hkv, Sk, D]}
 * in the {@link AttentionLayout#BHSD BHSD} layout. The sizes are the same whatever the layout;
 * {@link #queryShape(AttentionLayout)} and {@link #keyShape(AttentionLayout)} give the tensors' shapes in one.
 *
 * <pre>{@code
 * AttentionShape s = AttentionShape.of(q, k, v);
 * int group = s.heads() / s.kvHeads();   // query heads per KV head
 * }</pre>
 *
 * @param batch   B
 * @param seqQ    Sq
 * @param seqK    Sk
 * @param heads   H (query heads)
 * @param kvHeads Hkv (key/value heads), {@code H % Hkv == 0}
 * @param headDim D
 */
public record AttentionShape(int batch, int seqQ, int seqK, int heads, int kvHeads, int headDim) {

    /**
     * Reads and checks the sizes of {@code [B, S, H, D]} tensors; every mismatch names the argument and both
     * values.
     *
     * @param q queries {@code [B, Sq, H, D]}
     * @param k keys {@code [B, Sk, Hkv, D]}
     * @param v values, shaped as {@code k}
     * @return the sizes
     * @throws InvalidRequestException for a missing tensor, a wrong rank, dtype or size
     */
    public static AttentionShape of(DeviceTensor q, DeviceTensor k, DeviceTensor v) {
        return of(q, k, v, AttentionLayout.BSHD);
    }

    /**
     * Reads and checks the sizes of tensors in {@code layout}. When they do not fit it but would fit the other
     * layout, the error says so (a PyTorch-shaped {@code [B, H, S, D]} tensor passed as the default layout).
     * Shapes that fit both layouts cannot be told apart: the layout then decides what they mean.
     *
     * @param q      queries
     * @param k      keys
     * @param v      values, shaped as {@code k}
     * @param layout how the tensors hold their dimensions
     * @return the sizes
     * @throws InvalidRequestException for a missing tensor, a wrong rank, dtype or size
     */
    public static AttentionShape of(DeviceTensor q, DeviceTensor k, DeviceTensor v, AttentionLayout layout) {
        try {
            return read(q, k, v, layout);
        } catch (InvalidRequestException e) {
            boolean fitsOther;
            try {
                read(q, k, v, layout.other());
                fitsOther = true;
            } catch (InvalidRequestException other) {
                fitsOther = false;
            }
            if (!fitsOther) {
                throw e;
            }
            throw e.withHint("the shapes fit " + layout.other() + " " + layout.other().describe("S", "H")
                    + ": pass layout " + layout.other() + " in AttentionOptions");
        }
    }

    private static AttentionShape read(DeviceTensor q, DeviceTensor k, DeviceTensor v, AttentionLayout layout) {
        requirePresent(q, "q");
        requirePresent(k, "k");
        requirePresent(v, "v");
        requireRank(q, "q", 4, layout.describe("Sq", "H"));
        requireRank(k, "k", 4, layout.describe("Sk", "Hkv"));
        requireRank(v, "v", 4, layout.describe("Sk", "Hkv"));
        InvalidRequestException.check(q.dtype().isFloating(), "q", "a floating dtype", q.dtype());
        InvalidRequestException.check(k.dtype() == q.dtype(), "k", "dtype " + q.dtype() + " (as q)", k.dtype());
        InvalidRequestException.check(v.dtype() == q.dtype(), "v", "dtype " + q.dtype() + " (as q)", v.dtype());
        q.shape().requireFitsTensor("q");
        k.shape().requireFitsTensor("k");
        v.shape().requireFitsTensor("v");
        Shape qs = q.shape();
        Shape ks = k.shape();
        int sd = layout.seqDim();
        int hd = layout.headsDim();
        InvalidRequestException.check(ks.dim(0) == qs.dim(0), "k", "batch " + qs.dim(0) + " (as q)", ks.dim(0));
        InvalidRequestException.check(ks.dim(3) == qs.dim(3), "k", "head dim " + qs.dim(3) + " (as q)", ks.dim(3));
        InvalidRequestException.check(v.shape().equals(ks), "v", "shape " + ks + " (as k)", v.shape());
        InvalidRequestException.check(qs.dim(hd) % ks.dim(hd) == 0, "k",
                "a KV head count dividing H = " + qs.dim(hd) + " (H % Hkv == 0)", ks.dim(hd) + " KV heads");
        // Relative positions j - (i + Sk - Sq) span Sq + Sk - 1 values; kernels index them (and the bias table)
        // with int, so the two lengths together must stay below 2^31.
        InvalidRequestException.check((long) qs.dim(sd) + ks.dim(sd) <= Integer.MAX_VALUE, "k",
                "Sq + Sk <= " + Integer.MAX_VALUE + " (relative positions are indexed with int)",
                "Sq = " + qs.dim(sd) + ", Sk = " + ks.dim(sd));
        return new AttentionShape(qs.dim(0), qs.dim(sd), ks.dim(sd), qs.dim(hd), ks.dim(hd), qs.dim(3));
    }

    /**
     * {@code options} with each window side that excludes no key stored as −1 (unbounded): a left window
     * {@code >= Sk - 1} or a right window {@code >= Sq - 1} masks nothing, and keeping it would only put
     * {@code i + off ± window} at risk of overflowing the kernels' int arithmetic (a window of
     * {@code Integer.MAX_VALUE} is a natural way to write "unbounded"). Every kernel thus sees windows below
     * {@code Sk} and {@code Sq}, so {@code i + off ± window} stays within ±(Sq + Sk).
     */
    AttentionOptions normalizeWindow(AttentionOptions options) {
        boolean leftUnbounded = options.windowLeft() >= (long) seqK - 1;
        boolean rightUnbounded = options.windowRight() >= (long) seqQ - 1;
        if (!(leftUnbounded && options.windowLeft() >= 0) && !(rightUnbounded && options.windowRight() >= 0)) {
            return options;
        }
        return options.toBuilder().window(leftUnbounded ? -1 : options.windowLeft(),
                rightUnbounded ? -1 : options.windowRight()).build();
    }

    /** {@return {@code Sk - Sq}: the bottom-right alignment offset of causal masks and relative positions} */
    public int offset() {
        return seqK - seqQ;
    }

    /** {@return query heads per KV head} */
    public int groupSize() {
        return heads / kvHeads;
    }

    /**
     * The shape of {@code q}, {@code o} and {@code dO} in the default layout.
     *
     * @return {@code [B, Sq, H, D]}
     */
    public Shape queryShape() {
        return queryShape(AttentionLayout.BSHD);
    }

    /**
     * The shape of {@code q}, {@code o} and {@code dO} in {@code layout}.
     *
     * @param layout the tensors' layout
     * @return {@code [B, Sq, H, D]} or {@code [B, H, Sq, D]}
     */
    public Shape queryShape(AttentionLayout layout) {
        return layout.shape(batch, seqQ, heads, headDim);
    }

    /**
     * The shape of {@code k} and {@code v} in the default layout.
     *
     * @return {@code [B, Sk, Hkv, D]}
     */
    public Shape keyShape() {
        return keyShape(AttentionLayout.BSHD);
    }

    /**
     * The shape of {@code k}, {@code v}, {@code dk} and {@code dv} in {@code layout}.
     *
     * @param layout the tensors' layout
     * @return {@code [B, Sk, Hkv, D]} or {@code [B, Hkv, Sk, D]}
     */
    public Shape keyShape(AttentionLayout layout) {
        return layout.shape(batch, seqK, kvHeads, headDim);
    }

    /** {@return the shape of {@code lse}: {@code [B, H, Sq]}} */
    public Shape lseShape() {
        return Shape.of(batch, heads, seqQ);
    }

    /** {@return the shape of the relative-position bias table: {@code [H, Sq + Sk - 1]}} */
    public Shape biasTableShape() {
        long width = (long) seqQ + seqK - 1;
        InvalidRequestException.check(width <= Integer.MAX_VALUE, "biasTable",
                "Sq + Sk - 1 <= " + Integer.MAX_VALUE + " columns", width);
        return Shape.of(heads, (int) width);
    }

    static void requirePresent(DeviceTensor t, String name) {
        if (t == null) {
            throw new InvalidRequestException(name, "a tensor", "null");
        }
    }

    static void requireRank(DeviceTensor t, String name, int rank, String layout) {
        InvalidRequestException.check(t.shape().rank() == rank, name, "rank " + rank + " " + layout, t.shape());
    }

    static void requireShape(DeviceTensor t, String name, Shape expected, String meaning) {
        InvalidRequestException.check(t.shape().equals(expected), name, "shape " + expected + " " + meaning, t.shape());
    }

    static void requireDType(DeviceTensor t, String name, DType expected) {
        InvalidRequestException.check(t.dtype() == expected, name, "dtype " + expected, t.dtype());
    }

    /** Checks the optional tensors of {@code options} against this problem's sizes. */
    void checkOptions(AttentionOptions options, DType dtype) {
        if (options.alibiSlopes() != null) {
            DeviceTensor s = options.alibiSlopes();
            requireDType(s, "alibiSlopes", DType.F32);
            boolean ok = s.shape().equals(Shape.of(heads)) || s.shape().equals(Shape.of(batch, heads));
            InvalidRequestException.check(ok, "alibiSlopes", "shape [" + heads + "] or [" + batch + ", " + heads + "]",
                    s.shape());
        }
        if (options.biasTable() != null) {
            requireDType(options.biasTable(), "biasTable", DType.F32);
            requireShape(options.biasTable(), "biasTable", biasTableShape(), "[H, Sq + Sk - 1]");
        }
        if (options.denseBias() != null) {
            DeviceTensor t = options.denseBias();
            InvalidRequestException.check(t.dtype() == dtype || t.dtype() == DType.F32, "denseBias",
                    "dtype F32 or " + dtype, t.dtype());
            requireBroadcastable(t, "denseBias");
        }
        if (options.denseMask() != null) {
            requireDType(options.denseMask(), "denseMask", DType.BOOL);
            requireBroadcastable(options.denseMask(), "denseMask");
        }
        if (options.flashMask() != null) {
            DeviceTensor m = options.flashMask();
            requireDType(m, "flashMask", DType.I32);
            requireRank(m, "flashMask", 4, "[B, Hm, Sk, n]");
            Shape ms = m.shape();
            InvalidRequestException.check(ms.dim(0) == batch, "flashMask", "batch " + batch + " (as q)", ms.dim(0));
            InvalidRequestException.check(heads % ms.dim(1) == 0, "flashMask",
                    "a mask head count dividing H = " + heads, ms.dim(1));
            InvalidRequestException.check(ms.dim(2) == seqK, "flashMask", "Sk = " + seqK + " columns", ms.dim(2));
            FlashMaskForm.requireFlag(options.causal(), ms.dim(3));
        }
    }

    private void requireBroadcastable(DeviceTensor t, String name) {
        Shape s = t.shape();
        String expected = "shape [" + batch + "|1, " + heads + "|1, " + seqQ + ", " + seqK + "]";
        InvalidRequestException.check(s.rank() == 4 && (s.dim(0) == batch || s.dim(0) == 1)
                && (s.dim(1) == heads || s.dim(1) == 1) && s.dim(2) == seqQ && s.dim(3) == seqK, name, expected, s);
    }
}
