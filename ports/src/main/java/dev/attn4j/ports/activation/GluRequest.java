package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A gated linear unit over a fused projection: {@code x [..., 2F]} splits into a value half
 * {@code a = x[..., :F]} and a gate half {@code g = x[..., F:]}, and {@code y = a ⊙ f(g)} is {@code [..., F]}
 * — x-transformers' {@code GLU} ({@code x, gate = proj(x).chunk(2, dim=-1)}). SwiGLU is
 * {@code gate = SILU}, GeGLU {@code gate = GELU}.
 *
 * <pre>{@code
 * try (DeviceTensor h = backend.activation().glu(new GluRequest(Activation.SILU, upGate))) { ... }   // SwiGLU
 * }</pre>
 *
 * @param gate the gate's activation
 * @param x    {@code [..., 2F]}, floating
 */
public record GluRequest(Activation gate, DeviceTensor x) {

    /** Checks the arguments. */
    public GluRequest {
        if (gate == null) throw new InvalidRequestException("gate", "an Activation", "null");
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        InvalidRequestException.check(x.shape().dim(-1) % 2 == 0, "x", "an even last dimension [..., 2F]", x.shape());
    }

    /** {@return {@code F}, the width of each half} */
    public int halfWidth() {
        return x.shape().dim(-1) / 2;
    }

    /** {@return the shape of {@code y}: {@code [..., F]}} */
    public Shape outputShape() {
        int[] dims = x.shape().dims();
        dims[dims.length - 1] /= 2;
        return Shape.of(dims);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        return all;
    }
}
