package dev.attn4j.ports.rotary;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rotary position embedding (RoPE) with an optional per-pair scale (xPos), applied to the first
 * {@code R = 2·cos.shape[1]} features of every head of {@code x [B, S, H, D]}; the rest pass through.
 * For position {@code n} and pair {@code p = (x₁, x₂)} with angle table entries {@code c = cos[n][p]},
 * {@code s = sin[n][p]} and scale {@code ζ = scale[n][p]} (1 without a scale table):
 * <pre>
 *   forward:  (x₁, x₂) ↦ ζ·(x₁·c − x₂·s,  x₁·s + x₂·c)
 *   inverse:  (x₁, x₂) ↦ ζ·(x₁·c + x₂·s, −x₁·s + x₂·c)      (the backward of forward)
 * </pre>
 * The tables (angles, position interpolation, xPos's ζ^{n/scale_base} for q and ζ^{−n/scale_base} for k)
 * are computed by the domain, which owns those formulas.
 *
 * <pre>{@code
 * try (DeviceTensor qRot = backend.rotary().apply(new RotaryRequest(q, cos, sin, null, RotaryLayout.SPLIT_HALF, false))) {...}
 * }</pre>
 *
 * @param x       {@code [B, S, H, D]}
 * @param cos     {@code [S, R/2]}, F32
 * @param sin     {@code [S, R/2]}, F32
 * @param scale   {@code [S, R/2]}, F32, or {@code null}
 * @param layout  pair layout
 * @param inverse rotate by −θ (the backward)
 */
public record RotaryRequest(DeviceTensor x, DeviceTensor cos, DeviceTensor sin, DeviceTensor scale,
                            RotaryLayout layout, boolean inverse) {

    /** Checks shapes and dtypes. */
    public RotaryRequest {
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        if (cos == null) throw new InvalidRequestException("cos", "a tensor", "null");
        if (sin == null) throw new InvalidRequestException("sin", "a tensor", "null");
        if (layout == null) throw new InvalidRequestException("layout", "INTERLEAVED or SPLIT_HALF", "null");
        InvalidRequestException.check(x.shape().rank() == 4, "x", "rank 4 [B, S, H, D]", x.shape());
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        InvalidRequestException.check(cos.shape().rank() == 2, "cos", "rank 2 [S, R/2]", cos.shape());
        int s = x.shape().dim(1);
        int half = cos.shape().dim(1);
        InvalidRequestException.check(cos.shape().dim(0) == s, "cos", s + " rows (S of x)", cos.shape().dim(0));
        InvalidRequestException.check(2L * half <= x.shape().dim(3), "cos",
                "at most D/2 = " + x.shape().dim(3) / 2 + " columns", half);
        Shape table = Shape.of(s, half);
        InvalidRequestException.check(cos.dtype() == DType.F32, "cos", "dtype F32", cos.dtype());
        InvalidRequestException.check(sin.shape().equals(table) && sin.dtype() == DType.F32, "sin",
                "F32 " + table + " (as cos)", sin.dtype() + " " + sin.shape());
        if (scale != null) {
            InvalidRequestException.check(scale.shape().equals(table) && scale.dtype() == DType.F32, "scale",
                    "F32 " + table + " (as cos)", scale.dtype() + " " + scale.shape());
        }
    }

    /** {@return number of rotated features {@code R}} */
    public int rotaryDim() {
        return 2 * cos.shape().dim(1);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        all.put("cos", cos);
        all.put("sin", sin);
        if (scale != null) all.put("scale", scale);
        return all;
    }
}
