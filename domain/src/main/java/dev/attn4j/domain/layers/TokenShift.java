package dev.attn4j.domain.layers;

import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * x-transformers' {@code shift_tokens}: the features split into {@code shifts.length} chunks of
 * {@code D / shifts.length}; chunk {@code c} moves {@code shifts[c]} tokens forward (features past the last whole
 * chunk stay). A decoder with {@code shift_tokens = n} uses shifts {@code 0..n}, an encoder {@code −n..n}.
 *
 * <pre>{@code
 * TokenShift shift = TokenShift.causal(1, 512);            // features 256..511 from the previous token
 * DeviceTensor u = shift.forward(step, x, segments);
 * DeviceTensor dx = shift.backward(step, du, segments);
 * }</pre>
 *
 * @param shifts    tokens each chunk moves
 * @param dim       the feature count D
 */
public record TokenShift(int[] shifts, int dim) {

    /** Checks the arguments and copies {@code shifts}. */
    public TokenShift {
        if (shifts.length == 0 || dim / shifts.length < 1) {
            throw new IllegalArgumentException("token shift needs 1..D chunks, got " + shifts.length + " for D = " + dim);
        }
        shifts = shifts.clone();
    }

    /** {@return a copy of the shifts}, one per feature chunk. */
    @Override
    public int[] shifts() {
        return shifts.clone();
    }

    /**
     * A decoder's shifts {@code 0..n}.
     *
     * @param n x-transformers' {@code shift_tokens}: the farthest a chunk moves
     * @param dim the feature count D (at least {@code n + 1})
     * @return shifts {@code 0..n} over {@code dim} features
     */
    public static TokenShift causal(int n, int dim) {
        int[] s = new int[n + 1];
        for (int i = 0; i <= n; i++) {
            s[i] = i;
        }
        return new TokenShift(s, dim);
    }

    /**
     * An encoder's shifts {@code −n..n}.
     *
     * @param n x-transformers' {@code shift_tokens}: the farthest a chunk moves either way
     * @param dim the feature count D (at least {@code 2n + 1})
     * @return shifts {@code −n..n} over {@code dim} features
     */
    public static TokenShift bidirectional(int n, int dim) {
        int[] s = new int[2 * n + 1];
        for (int i = 0; i < s.length; i++) {
            s[i] = i - n;
        }
        return new TokenShift(s, dim);
    }

    /**
     * A new tensor: {@code x [B, S, D]} with its chunks shifted within the documents of {@code segments}.
     *
     * @param step the pass (it owns nothing of the result)
     * @param x F32 {@code [B, S, D]}
     * @param segments I32 {@code [B, S]} document ids (tokens never move across documents), or {@code null} for one
     *                 document per row
     * @return the shifted input F32 {@code [B, S, D]}; a chunk's first positions are zeros
     */
    public DeviceTensor forward(Step step, DeviceTensor x, DeviceTensor segments) {
        return apply(step, x, segments, 1);
    }

    /**
     * The shift of {@code x [B, n, D]}, the next {@code n} tokens after those {@code cache} has seen: the cache's
     * history (the last inputs, zeros at first) goes in front, the shift runs over both, and the history moves on.
     *
     * @param step an inference pass
     * @param x F32 {@code [B, n, D]} the new tokens
     * @param cache the layer's cache, whose token-shift history moves on by {@code n}
     * @return the shifted new tokens F32 {@code [B, n, D]}
     */
    public DeviceTensor forward(Step step, DeviceTensor x, KvCache.Layer cache) {
        var b = step.backend();
        for (int amount : shifts) {
            if (amount < 0) {
                throw new IllegalStateException("a cached pass shifts only forward (decoders); shifts include " + amount);
            }
        }
        int batch = x.shape().dim(0);
        int n = x.shape().dim(1);
        int m = reach();
        if (m == 0) {
            return step.own(b.tensors().view(x, 0, x.shape()));
        }
        DeviceTensor history = cache.history();
        try (DeviceTensor ext = b.tensors().zeros(Shape.of(batch, m + n, dim),
                DType.F32)) {
            long row = (long) (m + n) * dim;
            if (history != null) {
                b.tensors().copy(new CopyRequest(history, 0, (long) m * dim, ext, 0, row, batch,
                        (long) m * dim));
            }
            b.tensors().copy(new CopyRequest(x, 0, (long) n * dim, ext, (long) m * dim, row, batch,
                    (long) n * dim));
            DeviceTensor shifted = apply(step, ext, null, 1);
            DeviceTensor u = step.own(b.tensors().allocate(x.shape(), x.dtype()));
            b.tensors().copy(new CopyRequest(shifted, (long) m * dim, row, u, 0, (long) n * dim,
                    batch, (long) n * dim));
            shifted.close();
            DeviceTensor next = b.tensors().allocate(Shape.of(batch, m, dim), x.dtype());
            b.tensors().copy(new CopyRequest(ext, (long) n * dim, row, next, 0, (long) m * dim,
                    batch, (long) m * dim));
            cache.history(next);
            return u;
        }
    }

    /** How many earlier tokens a token reads: the largest forward shift. */
    int reach() {
        int m = 0;
        for (int s : shifts) {
            m = Math.max(m, s);
        }
        return m;
    }

    /**
     * The gradient of {@link #forward}: the same chunks of {@code dy} shifted back.
     *
     * @param step the training pass of the forward
     * @param dy F32 {@code [B, S, D]} the gradient of the shifted output
     * @param segments the forward's document ids, or {@code null}
     * @return {@code dx} F32 {@code [B, S, D]}, a new tensor
     */
    public DeviceTensor backward(Step step, DeviceTensor dy, DeviceTensor segments) {
        return apply(step, dy, segments, -1);
    }

    private DeviceTensor apply(Step step, DeviceTensor x, DeviceTensor segments, int direction) {
        int chunk = dim / shifts.length;
        DeviceTensor current = x;
        for (int c = 0; c < shifts.length; c++) {
            if (shifts[c] == 0) {
                continue;
            }
            DeviceTensor next = step.own(step.backend().elementwise().shiftTokens(
                    new TokenShiftRequest(current, c * chunk, chunk, direction * shifts[c], segments)));
            if (current != x) {
                current.close();
            }
            current = next;
        }
        // with no non-zero shift the caller still gets a tensor of its own to close
        return current == x ? step.own(step.backend().tensors().view(x, 0, x.shape())) : current;
    }
}
