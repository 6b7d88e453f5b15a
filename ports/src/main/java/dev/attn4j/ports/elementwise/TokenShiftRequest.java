package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token shift (x-transformers' {@code shift_tokens}), per document: a new tensor equal to {@code x [B, S, C]}
 * except in the features {@code [begin, begin + count)}, where token {@code t} takes token {@code t − amount}'s
 * values — or zeros when that token is outside the row or in another document. Documents are given by
 * {@code segments [B, S]} (equal ids = same document; a negative id marks padding, which neither gives nor
 * receives shifted values); {@code null} makes each row one document. With {@code amount = 1}, the causal
 * shift: each token sees the previous token's features and a document's first token sees zeros.
 *
 * <p>The rule is symmetric in the two tokens, so the backward is the same shift by {@code −amount} applied to
 * {@code dy}: {@link #backward(DeviceTensor)}.
 *
 * <pre>{@code
 * // x-transformers' shift_tokens=1 in a decoder: the second half of the features comes from the previous token
 * var shift = new TokenShiftRequest(x, dim / 2, dim / 2, 1, segments);
 * try (DeviceTensor shifted = backend.elementwise().shiftTokens(shift)) { ... }
 * }</pre>
 *
 * @param x        {@code [B, S, C]}, floating
 * @param begin    first shifted feature
 * @param count    number of shifted features ({@code >= 1}, {@code begin + count <= C})
 * @param amount   how many tokens the features move forward (negative: backward); {@code |amount| < 2^31}
 * @param segments I32 {@code [B, S]} document ids, or {@code null}
 */
public record TokenShiftRequest(DeviceTensor x, int begin, int count, int amount, DeviceTensor segments) {

    /** Checks shapes, ranges and dtypes. */
    public TokenShiftRequest {
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        InvalidRequestException.check(x.shape().rank() == 3, "x", "rank 3 [B, S, C]", x.shape());
        int c = x.shape().dim(2);
        InvalidRequestException.check(begin >= 0 && begin < c, "begin", "in [0, " + c + ")", begin);
        InvalidRequestException.check(count >= 1 && count <= c - begin, "count", "in [1, " + (c - begin) + "]", count);
        InvalidRequestException.check(amount != Integer.MIN_VALUE, "amount", "a shift whose negation fits an int", amount);
        if (segments != null) {
            Shape expected = Shape.of(x.shape().dim(0), x.shape().dim(1));
            InvalidRequestException.check(segments.dtype() == DType.I32 && segments.shape().equals(expected), "segments",
                    "I32 " + expected + " ([B, S] of x)", segments.dtype() + " " + segments.shape());
        }
    }

    /**
     * {@return the backward of this shift: the same features of {@code dy} moved by {@code −amount}}
     *
     * @param dy the gradient of the shifted tensor, shaped and typed as {@code x}
     * @throws InvalidRequestException when {@code dy} is null or differs from {@code x} in shape or dtype
     */
    public TokenShiftRequest backward(DeviceTensor dy) {
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        InvalidRequestException.check(dy.shape().equals(x.shape()) && dy.dtype() == x.dtype(), "dy",
                x.dtype() + " " + x.shape() + " (as x)", dy.dtype() + " " + dy.shape());
        return new TokenShiftRequest(dy, begin, count, -amount, segments);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        if (segments != null) all.put("segments", segments);
        return all;
    }
}
