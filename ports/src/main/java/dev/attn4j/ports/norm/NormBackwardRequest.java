package dev.attn4j.ports.norm;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One normalisation backward call: the forward request, what its result saved, and the upstream
 * gradients. With a residual, {@code dSum} is the gradient reaching {@code h} from elsewhere (the
 * residual stream's other consumers); it may be {@code null}.
 *
 * <pre>{@code
 * try (NormGradients g = backend.normalization().backward(new NormBackwardRequest(req, fwd, dy, null))) {
 *     ... g.dInput() ... g.dGamma() ...
 * }
 * }</pre>
 *
 * @param forward the forward request
 * @param saved   the forward's result ({@code mean}, {@code rstd}, {@code sum} are read)
 * @param dy      gradient w.r.t. {@code y}
 * @param dSum    extra gradient w.r.t. {@code h}, or {@code null}
 */
public record NormBackwardRequest(NormRequest forward, NormResult saved, DeviceTensor dy, DeviceTensor dSum) {

    /** Checks the saved tensors and gradients against the forward request. */
    public NormBackwardRequest {
        if (forward == null) throw new InvalidRequestException("forward", "the forward request", "null");
        if (saved == null) throw new InvalidRequestException("saved", "the forward result", "null");
        if (dy == null) throw new InvalidRequestException("dy", "a tensor", "null");
        InvalidRequestException.check(dy.shape().equals(forward.input().shape()), "dy",
                "shape " + forward.input().shape() + " (as input)", dy.shape());
        InvalidRequestException.check(dy.dtype() == forward.input().dtype(), "dy",
                "dtype " + forward.input().dtype() + " (as input)", dy.dtype());
        // Every saved tensor backward reads is checked as the forward made it: engines read them as F32
        // statistics and input-typed rows, and a tensor of another dtype would be read with the wrong element
        // size (an out-of-bounds device read). saved.y is not read and not checked.
        Shape stats = forward.statsShape();
        requireSaved("saved.rstd", saved.rstd(), DType.F32, stats, true);
        requireSaved("saved.mean", saved.mean(), DType.F32, stats, forward.kind() == NormKind.LAYER_NORM);
        requireSaved("saved.sum", saved.sum(), forward.input().dtype(), forward.input().shape(), forward.residual() != null);
        if (dSum != null) {
            InvalidRequestException.check(forward.residual() != null, "dSum", "null without a residual", "a tensor");
            InvalidRequestException.check(dSum.shape().equals(forward.input().shape()) && dSum.dtype() == dy.dtype(),
                    "dSum", dy.dtype() + " " + forward.input().shape(), dSum.dtype() + " " + dSum.shape());
        }
    }

    /** A saved tensor of {@code dtype} and {@code shape}; {@code null} is allowed unless {@code required}. */
    private static void requireSaved(String name, DeviceTensor t, DType dtype, Shape shape, boolean required) {
        if (t == null) {
            InvalidRequestException.check(!required, name, dtype + " " + shape + " (saved by the forward)", "null");
            return;
        }
        InvalidRequestException.check(t.dtype() == dtype && t.shape().equals(shape), name,
                dtype + " " + shape + " (as the forward saved it)", t.dtype() + " " + t.shape());
    }

    /** {@return the tensor that was normalised: {@code saved.sum} with a residual, else {@code forward.input}} */
    public DeviceTensor normalizedInput() {
        return forward.residual() != null ? saved.sum() : forward.input();
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>(forward.tensors());
        if (saved.mean() != null) all.put("saved.mean", saved.mean());
        all.put("saved.rstd", saved.rstd());
        if (saved.sum() != null) all.put("saved.sum", saved.sum());
        all.put("dy", dy);
        if (dSum != null) all.put("dSum", dSum);
        return all;
    }
}
