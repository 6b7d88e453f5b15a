package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A gated linear unit {@code y = a ⊙ f(g)}, {@code [..., F]}: SwiGLU is {@code gate = SILU}, GeGLU
 * {@code gate = GELU}. The value {@code a} and the gate's input {@code g} come in one of two forms:
 * <ul>
 *   <li><b>concatenated</b> ({@code gateInput == null}): {@code x [..., 2F]} holds {@code a = x[..., :F]} and
 *       {@code g = x[..., F:]} side by side — x-transformers' {@code GLU}
 *       ({@code x, gate = proj(x).chunk(2, dim=-1)});</li>
 *   <li><b>split</b>: {@code x} is the value {@code a [..., F]} and {@code gateInput} the gate's input
 *       {@code g [..., F]}, two tensors of one shape and dtype — what a model gets by running the two halves of the
 *       projection's weight as two GEMMs. Each is read as one unbroken stream, which the concatenated rows are not
 *       (on the cpu that halves the op's time; docs/design.md §9).</li>
 * </ul>
 * Both compute the same values; {@link GluBackwardRequest} says how each lays out its gradient.
 *
 * <pre>{@code
 * try (DeviceTensor h = backend.activation().glu(new GluRequest(Activation.SILU, upGate))) { ... }        // [.., 2F]
 * try (DeviceTensor h = backend.activation().glu(GluRequest.split(Activation.SILU, up, gate))) { ... }    // 2 x [.., F]
 * }</pre>
 *
 * @param gate      the gate's activation
 * @param x         {@code [..., 2F]} (concatenated), or the value {@code [..., F]} (split); floating
 * @param gateInput the gate's input {@code [..., F]} of {@code x}'s shape and dtype, another tensor than {@code x}
 *                  (split; the same tensor twice is a caller's slip, not a GLU), or {@code null} (concatenated)
 */
public record GluRequest(Activation gate, DeviceTensor x, DeviceTensor gateInput) {

    /** Checks the arguments. */
    public GluRequest {
        if (gate == null) throw new InvalidRequestException("gate", "an Activation", "null");
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        if (gateInput == null) {
            InvalidRequestException.check(x.shape().dim(-1) % 2 == 0, "x", "an even last dimension [..., 2F]", x.shape());
        } else {
            InvalidRequestException.check(gateInput.shape().equals(x.shape()) && gateInput.dtype() == x.dtype(),
                    "gateInput", x.dtype() + " " + x.shape() + " (as the value x)",
                    gateInput.dtype() + " " + gateInput.shape());
            InvalidRequestException.check(gateInput != x, "gateInput", "a tensor other than the value x", "x itself");
        }
    }

    /**
     * The concatenated form: {@code x [..., 2F]} holds the value and the gate's input side by side.
     *
     * @param gate the gate's activation
     * @param x    {@code [..., 2F]}, floating
     */
    public GluRequest(Activation gate, DeviceTensor x) {
        this(gate, x, null);
    }

    /**
     * {@return the split form: the value and the gate's input as two tensors of one shape}
     *
     * @param gate      the gate's activation
     * @param value     {@code a [..., F]}, floating
     * @param gateInput {@code g [..., F]}, as {@code value}
     */
    public static GluRequest split(Activation gate, DeviceTensor value, DeviceTensor gateInput) {
        if (gateInput == null) throw new InvalidRequestException("gateInput", "a tensor", "null");
        return new GluRequest(gate, value, gateInput);
    }

    /** {@return whether the value and the gate's input are two tensors} */
    public boolean isSplit() {
        return gateInput != null;
    }

    /** {@return {@code F}, the width of the output (of each half)} */
    public int halfWidth() {
        return isSplit() ? x.shape().dim(-1) : x.shape().dim(-1) / 2;
    }

    /** {@return the rows: the product of the leading dimensions} */
    public long rows() {
        return x.shape().elementCount() / x.shape().dim(-1);
    }

    // Where each input and gradient element lies, the same for every backend: row r, column c of the value is
    // element r·rowStride() + c of x; of the gate's input, gateOffset() + r·rowStride() + c of gateTensor(); the
    // backward writes the value's gradient at r·rowStride() + c and the gate's at gradientGateOffset() + r·rowStride()
    // + c of its output.

    /** {@return the tensor holding the gate's input}: {@code gateInput} (split) or {@code x} (concatenated) */
    public DeviceTensor gateTensor() {
        return isSplit() ? gateInput : x;
    }

    /** {@return elements from one row of the inputs (and of the gradient) to the next}: {@code 2F}, or {@code F} split */
    public int rowStride() {
        return x.shape().dim(-1);
    }

    /** {@return where the gate's input starts in {@link #gateTensor()}}: {@code F} (after the value half), or 0 split */
    public int gateOffset() {
        return isSplit() ? 0 : halfWidth();
    }

    /**
     * {@return where the gate's gradient starts in the backward's output}: {@code F} (beside the value's in each row),
     * or {@code rows·F} split (the block after all of the value's)
     */
    public long gradientGateOffset() {
        return isSplit() ? rows() * halfWidth() : halfWidth();
    }

    /** {@return the shape of {@code y}: {@code [..., F]}} */
    public Shape outputShape() {
        if (isSplit()) {
            return x.shape();
        }
        int[] dims = x.shape().dims();
        dims[dims.length - 1] /= 2;
        return Shape.of(dims);
    }

    /**
     * {@return the shape of the backward's gradient}: {@code x}'s when concatenated, {@code [2, ..., F]} (the value's
     * gradient stacked over the gate's) when split
     */
    public Shape gradientShape() {
        if (!isSplit()) {
            return x.shape();
        }
        int[] dims = x.shape().dims();
        int[] stacked = new int[dims.length + 1];
        stacked[0] = 2;
        System.arraycopy(dims, 0, stacked, 1, dims.length);
        return Shape.of(stacked);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        if (gateInput != null) all.put("gateInput", gateInput);
        return all;
    }
}
