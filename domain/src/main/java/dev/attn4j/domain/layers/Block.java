package dev.attn4j.domain.layers;

import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * One layer of a transformer stack: a branch (self-attention, cross-attention or feed-forward) with its token
 * shift, norm and residual, in one of x-transformers' two placements:
 * <ul>
 *   <li>pre-norm: {@code x ← x + f(shift(norm(x)))};</li>
 *   <li>post-norm (DeepNorm): {@code x ← norm(f(shift(x)) + α·(s ⊙ x))}, {@code s} a learned per-feature
 *       residual scale (or none), {@code α} a constant.</li>
 * </ul>
 * The backward reads the forward reversed. With checkpointing, the forward keeps only its input, and the
 * backward first runs the forward again.
 *
 * <pre>{@code
 * Block.Saved s = block.forward(step, x, inputs, true);
 * DeviceTensor y = s.y();
 * DeviceTensor dx = block.backward(step, s, dy, inputs);
 * }</pre>
 */
public final class Block {

    /** Where the norm sits. */
    public enum Placement {
        /** Norm before the branch, plain residual add after it; the stack ends with a final norm. */
        PRE_NORM,
        /** Norm after the residual add, with a scaled residual (post-norm, DeepNorm). */
        POST_NORM
    }

    /** The branch kinds. */
    public enum Kind {
        /** Self-attention. */
        SELF_ATTENTION,
        /** Cross-attention to a context. */
        CROSS_ATTENTION,
        /** Feed-forward. */
        FEED_FORWARD
    }

    private final Kind kind;
    private final Attention attention;
    private final FeedForward feedForward;
    private final Norm norm;
    private final Placement placement;
    private final Parameter residualScale;
    private final double alpha;
    private final TokenShift shift;
    private boolean checkpoint;

    /**
     * One residual block of the stack: a norm, one branch and its residual connection, as x-transformers wires them.
     *
     * @param attention     the attention branch, or {@code null} for a feed-forward block
     * @param feedForward   the feed-forward branch, or {@code null} for an attention block
     * @param norm          the block's norm
     * @param placement     pre- or post-norm
     * @param residualScale learned per-feature residual scale {@code [D]} (post-norm), or {@code null}
     * @param alpha         constant residual multiplier (post-norm; 1 for none)
     * @param shift         the token shift, or {@code null}
     */
    public Block(Attention attention, FeedForward feedForward, Norm norm, Placement placement, Parameter residualScale,
                 double alpha, TokenShift shift) {
        if ((attention == null) == (feedForward == null)) {
            throw new IllegalArgumentException("a block has exactly one branch");
        }
        this.kind = attention == null ? Kind.FEED_FORWARD : attention.cross() ? Kind.CROSS_ATTENTION : Kind.SELF_ATTENTION;
        this.attention = attention;
        this.feedForward = feedForward;
        this.norm = Objects.requireNonNull(norm);
        this.placement = Objects.requireNonNull(placement);
        this.residualScale = residualScale;
        this.alpha = alpha;
        this.shift = shift;
    }

    /** {@return the branch kind} (self-attention, cross-attention or feed-forward) */
    public Kind kind() {
        return kind;
    }

    /** {@return the attention branch, or {@code null}} (a feed-forward block) */
    public Attention attention() {
        return attention;
    }

    /** {@return the feed-forward branch, or {@code null}} (an attention block) */
    public FeedForward feedForward() {
        return feedForward;
    }

    /**
     * Keeps only the input in forward and recomputes the rest in backward (activation checkpointing).
     *
     * @param on {@code true} to trade a second forward in backward for the memory of the branch's activations
     */
    public void checkpoint(boolean on) {
        this.checkpoint = on;
    }

    /** {@return whether activation checkpointing is on} */
    public boolean checkpointed() {
        return checkpoint;
    }

    /**
     * What a block's forward keeps: its input (not owned), the norm's statistics, the scaled residual, and the
     * branch's saved state; {@code y} is the output, owned by the caller.
     */
    public static final class Saved implements AutoCloseable {
        private final DeviceTensor x;
        private DeviceTensor y;
        private Norm.Saved norm;
        private DeviceTensor residual;
        private Attention.Saved attention;
        private FeedForward.Saved feedForward;
        /** Post-norm: the branch output, the norm's input (its backward request names it). */
        private DeviceTensor branchOut;

        Saved(DeviceTensor x) {
            this.x = x;
        }

        /** {@return the block's output} F32 {@code [B, S, D]}, owned by the caller. */
        public DeviceTensor y() {
            return y;
        }

        @Override
        public void close() {
            if (norm != null) norm.close();
            if (residual != null) residual.close();
            if (attention != null) attention.close();
            if (feedForward != null) feedForward.close();
            if (branchOut != null) branchOut.close();
        }
    }

    /**
     * Runs the block on {@code x [B, n, D]}, the {@code n} tokens after those {@code cache} holds (inference): attention
     * reads and extends the cache, the token shift its history.
     *
     * @param step an inference pass
     * @param x F32 {@code [B, n, D]} the new tokens' input
     * @param in the pass's attention inputs
     * @param cache this block's keys, values and token-shift history
     * @return the block's output F32 {@code [B, n, D]}, a new tensor
     */
    public DeviceTensor forward(Step step, DeviceTensor x, AttentionInputs in, KvCache.Layer cache) {
        Saved s = run(step, x, in, null, false, cache);
        return s.y;
    }

    private DeviceTensor segments(DeviceTensor attnSegments, DeviceTensor ffSegments) {
        return kind == Kind.FEED_FORWARD ? ffSegments : attnSegments;
    }

    /**
     * Runs the block on {@code x [B, S, D]}.
     *
     * @param step the pass (it owns the temporaries)
     * @param x F32 {@code [B, S, D]} the block's input; kept, not owned, for backward
     * @param in the pass's masks, rotary tables and position biases
     * @param attnSegments token-shift documents for attention blocks (padding marked), or {@code null}
     * @param ffSegments   token-shift documents for feed-forward blocks, or {@code null}
     * @param save         whether backward will follow (training)
     * @return what backward needs, with the output {@link Saved#y()}
     */
    public Saved forward(Step step, DeviceTensor x, AttentionInputs in, DeviceTensor attnSegments,
                         DeviceTensor ffSegments, boolean save) {
        Saved s = run(step, x, in, segments(attnSegments, ffSegments), save && !checkpoint, null);
        if (save && checkpoint) {
            // keep the input only: backward runs the forward again
            s.close();
            s.norm = null;
            s.residual = null;
            s.attention = null;
            s.feedForward = null;
            s.branchOut = null;
        }
        return s;
    }

    private Saved run(Step step, DeviceTensor x, AttentionInputs in, DeviceTensor segs, boolean save, KvCache.Layer cache) {
        Backend b = step.backend();
        Saved s = new Saved(x);
        DeviceTensor out;
        if (placement == Placement.PRE_NORM) {
            s.norm = norm.forward(step, x, null, 1);
            DeviceTensor u = shifted(step, s.norm.y(), segs, cache);
            out = branchForward(step, s, u, in, save, cache);
            if (u != s.norm.y()) {
                u.close();
            }
            s.y = step.own(b.elementwise().add(AddRequest.of(x, out)));
            out.close();
            if (!save) {
                s.norm.y().close();
                s.norm.close();
                s.norm = null;
            }
        } else {
            DeviceTensor u = shifted(step, x, segs, cache);
            out = branchForward(step, s, u, in, save, cache);
            if (u != x) {
                u.close();
            }
            s.residual = residualScale == null ? null : step.own(b.elementwise().multiply(
                    new BroadcastMultiplyRequest(x, residualScale.value(), BroadcastAxis.COLUMNS)));
            s.norm = norm.forward(step, out, s.residual == null ? x : s.residual, alpha);
            s.y = s.norm.y();
            if (save) {
                s.branchOut = out;
            } else {
                out.close();
                s.norm.close();
                s.norm = null;
                if (s.residual != null) {
                    s.residual.close();
                    s.residual = null;
                }
            }
        }
        return s;
    }

    private DeviceTensor shifted(Step step, DeviceTensor x, DeviceTensor segs, KvCache.Layer cache) {
        if (shift == null) {
            return x;
        }
        return cache == null ? shift.forward(step, x, segs) : shift.forward(step, x, cache);
    }

    private DeviceTensor branchForward(Step step, Saved s, DeviceTensor u, AttentionInputs in, boolean save,
                                       KvCache.Layer cache) {
        if (feedForward != null) {
            FeedForward.Output o = feedForward.forward(step, u, save);
            s.feedForward = o.saved();
            return o.y();
        }
        Attention.Output o = attention.forward(step, u, in, save, cache);
        s.attention = o.saved();
        return o.y();
    }

    private DeviceTensor branchBackward(Step step, Saved s, DeviceTensor u, DeviceTensor dOut, AttentionInputs in) {
        if (feedForward != null) {
            FeedForward.Saved pre = s.feedForward;
            s.feedForward = null;
            return feedForward.backward(step, pre, u, dOut);
        }
        Attention.Saved a = s.attention;
        s.attention = null;
        return attention.backward(step, a, u, dOut, in);
    }

    /**
     * Accumulates every parameter gradient of the block and returns {@code dx} (a new tensor). Closes what
     * {@code saved} holds (its output {@code y} stays with its owner).
     *
     * @param step the training pass of the forward
     * @param saved what the forward kept
     * @param dy F32 {@code [B, S, D]} the gradient of the block's output
     * @param in the forward's attention inputs
     * @param attnSegments the forward's token-shift documents for attention blocks, or {@code null}
     * @param ffSegments the forward's token-shift documents for feed-forward blocks, or {@code null}
     * @return {@code dx} F32 {@code [B, S, D]}
     */
    public DeviceTensor backward(Step step, Saved saved, DeviceTensor dy, AttentionInputs in, DeviceTensor attnSegments,
                                 DeviceTensor ffSegments) {
        Backend b = step.backend();
        DeviceTensor segs = segments(attnSegments, ffSegments);
        Saved s = saved;
        if (checkpoint) {
            s = run(step, saved.x, in, segs, true, null);
            s.y.close();
        }
        try (Saved held = s) {
            if (placement == Placement.PRE_NORM) {
                DeviceTensor u = shifted(step, s.norm.y(), segs, null);
                DeviceTensor du = branchBackward(step, s, u, dy, in);
                if (u != s.norm.y()) {
                    u.close();
                }
                DeviceTensor dn = shift == null ? du : shift.backward(step, du, segs);
                if (dn != du) {
                    du.close();
                }
                NormGradients g = norm.backward(step, s.norm, dn);
                dn.close();
                s.norm.y().close();
                DeviceTensor dx = step.own(b.elementwise().add(AddRequest.of(dy, g.dInput())));
                g.dInput().close();
                return dx;
            }
            NormGradients g = norm.backward(step, s.norm, dy);
            DeviceTensor u = shifted(step, s.x, segs, null);
            DeviceTensor du = branchBackward(step, s, u, g.dInput(), in);
            g.dInput().close();
            if (u != s.x) {
                u.close();
            }
            DeviceTensor dx = shift == null ? du : shift.backward(step, du, segs);
            if (dx != du) {
                du.close();
            }
            if (residualScale != null) {
                DeviceTensor dxRes = step.own(b.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(
                        new BroadcastMultiplyRequest(s.x, residualScale.value(), BroadcastAxis.COLUMNS), g.dResidual(),
                        true, residualScale.grad())));
                b.elementwise().axpy(new AxpyRequest(1f, dxRes, dx));
                dxRes.close();
            } else {
                b.elementwise().axpy(new AxpyRequest(1f, g.dResidual(), dx));
            }
            g.dResidual().close();
            return dx;
        }
    }
}
