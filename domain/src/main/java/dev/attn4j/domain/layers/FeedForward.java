package dev.attn4j.domain.layers;

import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;

import java.util.List;
import java.util.Objects;

/**
 * The feed-forward branch: {@code act(u·W₁ᵀ + b₁)·W₂ᵀ + b₂}, or with a gated linear unit
 * {@code (value ⊙ act(gate))·W₂ᵀ + b₂} where {@code [value | gate] = u·Wₚᵀ + bₚ} (x-transformers' GLU: the first
 * half is the value). Only the pre-activation is kept for backward; the activation is recomputed there, which
 * costs one memory-bound pass and saves the largest activation of the model.
 *
 * <p>A GLU's projection stays one parameter {@code Wₚ [2F, D]} (x-transformers' name and layout), but runs as two
 * GEMMs over views of its two row halves, into a value and a gate tensor, and the gated unit reads them in the
 * port's split form: two unbroken streams instead of rows that alternate between halves, which on the cpu takes
 * half the time (docs/design.md §9, figures in docs/benchmarks.md). Each output is the same sum as in one GEMM over
 * the whole weight, so the two forms agree to rounding ({@code du} adds the two halves' products one after the
 * other). Under an adapter on {@code Wₚ} (whose update spans both halves), or where the backend's views cannot
 * start at the halves, it runs the projection whole and the concatenated form.
 *
 * <p>The halves are views of the parameter group's storage at the parameter's offset (as fused QKV's weight in
 * {@link Attention}): if parameters ever get working copies apart from their group, both places move together.
 *
 * <pre>{@code
 * FeedForward.Output out = ff.forward(step, u, true);
 * DeviceTensor du = ff.backward(step, out.saved(), u, dOut);
 * }</pre>
 */
public final class FeedForward {
    private final Linear in;
    private final Linear out;
    private final Activation activation;
    private final boolean glu;
    private boolean splitGlu = true;

    /**
     * Binds the two projections of one feed-forward branch (their parameters live in the model's store).
     *
     * @param in         {@code W₁} (or the fused value/gate projection {@code Wₚ} for a GLU)
     * @param out        {@code W₂}
     * @param activation the activation (the gate's, for a GLU)
     * @param glu        whether {@code in} is a fused GLU projection
     */
    public FeedForward(Linear in, Linear out, Activation activation, boolean glu) {
        this.in = Objects.requireNonNull(in);
        this.out = Objects.requireNonNull(out);
        this.activation = Objects.requireNonNull(activation);
        this.glu = glu;
    }

    /** {@return the two projections, in order} (in, then out): where adapters attach. */
    public List<Linear> linears() {
        return List.of(in, out);
    }

    /**
     * What backward needs: the input projection's output, as one tensor {@code [B, S, hidden]} (twice as wide for a
     * concatenated GLU), or a split GLU's value and gate {@code [B, S, F]} each.
     *
     * @param h    the pre-activation, or a split GLU's value
     * @param gate a split GLU's gate pre-activation, or {@code null}
     */
    public record Saved(DeviceTensor h, DeviceTensor gate) implements AutoCloseable {
        @Override
        public void close() {
            h.close();
            if (gate != null) gate.close();
        }
    }

    /**
     * The output and what backward needs ({@code null} in inference).
     *
     * @param y     the branch output F32 {@code [B, S, D]}, owned by the caller
     * @param saved the pre-activation (a split GLU's value and gate), or {@code null}
     */
    public record Output(DeviceTensor y, Saved saved) {
    }

    /**
     * Allows (the default) or stops the split GLU; off, the projection runs whole and the gated unit reads the
     * concatenated form (for comparing the two, or a backend whose split form is slower).
     *
     * @param on whether to split where {@link #splitsGlu} allows it
     */
    public void splitGlu(boolean on) {
        this.splitGlu = on;
    }

    /**
     * {@return whether this branch's GLU runs split for a training pass of {@code rows} tokens}: a gated branch with
     * splitting on, no adapter on its projection, on a backend whose views can start at the gate halves (of the
     * weight, the bias and the stacked gradient)
     *
     * @param b    the backend
     * @param rows the tokens of the pass ({@code B·S})
     */
    public boolean splitsGlu(Backend b, long rows) {
        return splitsGlu(b, rows, true);
    }

    /** As {@link #splitsGlu(Backend, long)}; without backward no view of the stacked gradient is taken. */
    private boolean splitsGlu(Backend b, long rows, boolean backward) {
        if (!glu || !splitGlu || in.adapter() != null) {
            return false;
        }
        // Views exist on every backend that holds parameters (ParameterStore requires them); 0 only guards the lookup.
        long align = b.capabilities().port(TensorCapabilities.class).map(TensorCapabilities::viewAlignment).orElse(0);
        long half = in.outFeatures() / 2;
        return align > 0 && (in.weight().offset() + half * in.inFeatures()) % align == 0
                && (in.bias() == null || (in.bias().offset() + half) % align == 0) && (!backward || rows * half % align == 0);
    }

    private static long rows(DeviceTensor u) {
        return u.shape().elementCount() / u.shape().dim(-1);
    }

    /** {@code u}'s shape with the last dimension {@code width}. */
    private static Shape withLastDim(DeviceTensor u, int width) {
        int[] dims = u.shape().dims();
        dims[dims.length - 1] = width;
        return Shape.of(dims);
    }

    /** Row half {@code k} (0 value, 1 gate) of a parameter's value or gradient, as a view. */
    private static DeviceTensor half(Backend b, Parameter p, boolean grad, int k) {
        Shape full = p.shape();
        int rows = full.dim(0) / 2;
        Shape shape = full.rank() == 1 ? Shape.of(rows) : Shape.of(rows, full.dim(1));
        DeviceTensor base = grad ? p.group().grads() : p.group().values();
        return b.tensors().view(base, p.offset() + k * shape.elementCount(), shape);
    }

    private static DeviceTensor halfOrNull(Backend b, Parameter p, boolean grad, int k) {
        if (p == null || (grad && p.grad() == null)) {
            return null;
        }
        return half(b, p, grad, k);
    }

    private DeviceTensor activate(Backend b, Step step, Saved s) {
        if (!glu) {
            return step.own(b.activation().forward(new ActivationRequest(activation, s.h())));
        }
        return step.own(b.activation().glu(gluRequest(s)));
    }

    private GluRequest gluRequest(Saved s) {
        return s.gate() == null ? new GluRequest(activation, s.h()) : GluRequest.split(activation, s.h(), s.gate());
    }

    /** The input projection: whole, or a split GLU's two halves. */
    private Saved project(Step step, DeviceTensor u, boolean save) {
        Backend b = step.backend();
        if (!splitsGlu(b, rows(u), save)) {
            return new Saved(in.forward(step, u), null);
        }
        DeviceTensor[] halves = new DeviceTensor[2];
        for (int k = 0; k < 2; k++) {
            try (DeviceTensor w = half(b, in.weight(), false, k); DeviceTensor bias = halfOrNull(b, in.bias(), false, k)) {
                halves[k] = step.own(b.linear().forward(LinearRequest.of(u, w, bias)));
            }
        }
        return new Saved(halves[0], halves[1]);
    }

    /**
     * {@code u [B, S, D]} to the branch output; with {@code save} false nothing is kept for backward.
     *
     * @param step the pass (it owns the output)
     * @param u F32 {@code [B, S, D]} the branch input
     * @param save whether to keep the pre-activation for backward
     * @return the output and, if saved, the pre-activation
     */
    public Output forward(Step step, DeviceTensor u, boolean save) {
        Backend b = step.backend();
        Saved s = project(step, u, save);
        DeviceTensor a = activate(b, step, s);
        DeviceTensor y = out.forward(step, a);
        a.close();
        if (!save) {
            s.close();
            return new Output(y, null);
        }
        return new Output(y, s);
    }

    /**
     * Accumulates both projections' gradients and returns {@code du}; closes the saved pre-activation.
     *
     * @param step the training pass of the forward
     * @param saved the forward's saved pre-activation; closed here
     * @param u F32 {@code [B, S, D]} the forward's branch input
     * @param dOut F32 {@code [B, S, D]} the gradient of the branch output
     * @return {@code du} F32 {@code [B, S, D]}
     */
    public DeviceTensor backward(Step step, Saved saved, DeviceTensor u, DeviceTensor dOut) {
        Backend b = step.backend();
        try (saved) {
            DeviceTensor a = activate(b, step, saved);
            DeviceTensor da = out.backward(step, a, dOut, true);
            a.close();
            DeviceTensor dh = step.own(glu
                    ? b.activation().gluBackward(new GluBackwardRequest(gluRequest(saved), da))
                    : b.activation().backward(new ActivationBackwardRequest(new ActivationRequest(activation, saved.h()), da)));
            da.close();
            DeviceTensor du = saved.gate() == null ? in.backward(step, u, dh, true) : backwardSplit(step, u, dh);
            dh.close();
            return du;
        }
    }

    /**
     * The split projection's backward, its forward reversed: {@code dh [2, B, S, F]} holds the value's and the
     * gate's gradients; each half adds its weight (and bias) gradient, the value half returns {@code du} and the gate
     * half's {@code dg·W_g} is added onto it.
     */
    private DeviceTensor backwardSplit(Step step, DeviceTensor u, DeviceTensor dh) {
        Backend b = step.backend();
        int f = in.outFeatures() / 2;
        int rows = Math.toIntExact(rows(u));
        Shape half = withLastDim(u, f);
        DeviceTensor du = null;
        for (int k = 0; k < 2; k++) {
            try (DeviceTensor dk = b.tensors().view(dh, k * half.elementCount(), half);
                 DeviceTensor w = half(b, in.weight(), false, k);
                 DeviceTensor dw = halfOrNull(b, in.weight(), true, k);
                 DeviceTensor bias = halfOrNull(b, in.bias(), false, k);
                 DeviceTensor db = halfOrNull(b, in.bias(), true, k)) {
                LinearRequest fwd = LinearRequest.of(u, w, bias);
                if (k == 0) {
                    du = step.own(b.linear().backward(new LinearBackwardRequest(fwd, dk, true, dw, db)));
                    continue;
                }
                if (dw != null || db != null) {
                    b.linear().backward(new LinearBackwardRequest(fwd, dk, false, dw, db));
                }
                // du += dg·W_g in place: matmul is rank 2 or 3 with one batch, so dg and du are seen as [B·S, ·]
                try (DeviceTensor dg = b.tensors().view(dh, half.elementCount(), Shape.of(rows, f));
                     DeviceTensor du2 = b.tensors().view(du, 0, Shape.of(rows, in.inFeatures()))) {
                    b.linear().matmul(new MatmulRequest(dg, false, w, false, du2, 1f, 1f));
                }
            }
        }
        return du;
    }
}
