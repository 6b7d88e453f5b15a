package dev.attn4j.domain.layers;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;

import dev.attn4j.domain.parameters.Parameter;

import java.util.Objects;

/**
 * Multi-head attention as x-transformers computes it: bias-free projections {@code to_q}, {@code to_k},
 * {@code to_v}, rotary/xPos on queries and keys of self-attention (NeoX halves), ALiBi or a relative-position
 * table, FlashMask masking, the attention port, {@code to_out}, and the rows of padded queries zeroed. Cross-
 * attention reads keys and values from the context and has no positional terms.
 *
 * <p>Heads are in attn4j's order: query head {@code h} uses KV head {@code h / (H / G)}. x-transformers pairs
 * {@code h} with {@code h mod G}; the model's weight loader permutes query heads so both compute the same function.
 *
 * <p>Backward reads the forward reversed: the row mask, {@code to_out}, the attention port's backward, the inverse
 * rotation, then the three projections, whose input gradients sum into {@code du} (or, for cross-attention, the
 * keys' and values' into the context's accumulator).
 *
 * <pre>{@code
 * Attention.Output out = attn.forward(step, u, inputs, true);
 * DeviceTensor du = attn.backward(step, out.saved(), u, dOut, inputs);
 * }</pre>
 */
public final class Attention {
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private boolean fuseQkv;
    private final int heads;
    private final int kvHeads;
    private final int dimHead;
    private final boolean cross;

    /**
     * Binds the four projections of one attention layer (their parameters live in the model's store).
     *
     * @param toQ the query projection, {@code D -> H * dimHead}
     * @param toK the key projection, {@code D -> G * dimHead} (from the context's width for cross-attention)
     * @param toV the value projection, shaped as {@code toK}
     * @param toOut the output projection, {@code H * dimHead -> D}
     * @param heads   query heads H
     * @param kvHeads key/value heads G ({@code H % G == 0})
     * @param dimHead features per head
     * @param cross   whether keys and values come from the context (cross-attention)
     */
    public Attention(Linear toQ, Linear toK, Linear toV, Linear toOut, int heads, int kvHeads, int dimHead, boolean cross) {
        this.toQ = Objects.requireNonNull(toQ);
        this.toK = Objects.requireNonNull(toK);
        this.toV = Objects.requireNonNull(toV);
        this.toOut = Objects.requireNonNull(toOut);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " not a multiple of kv heads " + kvHeads);
        }
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.dimHead = dimHead;
        this.cross = cross;
    }

    /**
     * Fused QKV (Axolotl's {@code flash_attn_fuse_qkv}): self-attention computes q, k and v with one GEMM against the
     * three projection weights as one {@code [(H + 2G)·dimHead, D]} matrix, and its backward returns {@code du} from
     * one GEMM over the joined gradients, where the three weights lie side by side in one parameter group (a
     * {@link dev.attn4j.domain.parameters.ParameterStore} allocates them so) and carry no adapter or bias; otherwise,
     * and for cross-attention, the projections run one by one as before. Queries, keys, values and the weights'
     * gradients are bit-identical either way (each element is the same sum); {@code du} differs in rounding only (one
     * sum over {@code (H + 2G)·dimHead} terms instead of three added).
     *
     * @param on whether to fuse where possible
     */
    public void fuseQkv(boolean on) {
        this.fuseQkv = on;
    }

    /**
     * {@return whether the next self-attention pass projects q, k and v with one GEMM}: fused QKV is on and the
     * weights allow it (adjacent in one group, no adapter, no bias; not cross-attention)
     */
    public boolean fusesQkv() {
        if (!fuseQkv || cross) {
            return false;
        }
        Parameter first = toQ.weight();
        long next = first.offset();
        for (Linear l : new Linear[] {toQ, toK, toV}) {
            Parameter w = l.weight();
            if (l.adapter() != null || l.bias() != null || w.group() != first.group() || w.offset() != next) {
                return false;
            }
            next += w.shape().elementCount();
        }
        return true;
    }

    /**
     * The q, k and v weights as one {@code [qd + 2·kvd, D]} view, and its gradient view (or {@code null} when frozen);
     * {@code null} when they cannot be fused: not asked for, cross-attention, an adapter or bias on one of them, or
     * weights not adjacent in one group.
     */
    private DeviceTensor[] fusedWeight(Backend b) {
        if (!fusesQkv()) {
            return null;
        }
        Parameter first = toQ.weight();
        int[] widths = qkvWidths();
        Shape shape = Shape.of(widths[0] + widths[1] + widths[2], toQ.inFeatures());
        DeviceTensor value = b.tensors().view(first.group().values(), first.offset(), shape);
        DeviceTensor grad = first.group().grads() == null ? null
                : b.tensors().view(first.group().grads(), first.offset(), shape);
        return new DeviceTensor[] {value, grad};
    }

    /** {@return the widths of q, k and v}, the column blocks of the fused projection in order */
    private int[] qkvWidths() {
        return new int[] {toQ.outFeatures(), toK.outFeatures(), toV.outFeatures()};
    }

    /** {@code u [B, S, D]} through the fused weight, split into q, k and v {@code [B, S, width]} owned by the step. */
    private DeviceTensor[] projectFused(Step step, Backend b, DeviceTensor u, DeviceTensor weight) {
        int[] widths = qkvWidths();
        int total = widths[0] + widths[1] + widths[2];
        long rows = (long) u.shape().dim(0) * u.shape().dim(1);
        DeviceTensor[] out = new DeviceTensor[3];
        try (DeviceTensor qkv = b.linear().forward(LinearRequest.of(u, weight, null))) {
            long column = 0;
            for (int i = 0; i < 3; i++) {
                out[i] = step.own(b.tensors().allocate(Shape.of(u.shape().dim(0), u.shape().dim(1), widths[i]), DType.F32));
                b.tensors().copy(new CopyRequest(qkv, column, total, out[i], 0, widths[i], rows, widths[i]));
                column += widths[i];
            }
        }
        return out;
    }

    /**
     * The fused backward: {@code dq}, {@code dk}, {@code dv} side by side as {@code d(qkv) [B, S, qd + 2·kvd]}, then
     * one GEMM for {@code du} and one weight-gradient GEMM into the three weights' gradients.
     */
    private DeviceTensor backwardFused(Step step, Backend b, DeviceTensor u, DeviceTensor[] fused, DeviceTensor dq,
                                       DeviceTensor dk, DeviceTensor dv) {
        int[] widths = qkvWidths();
        int total = widths[0] + widths[1] + widths[2];
        long rows = (long) u.shape().dim(0) * u.shape().dim(1);
        try (DeviceTensor dqkv = b.tensors().allocate(Shape.of(u.shape().dim(0), u.shape().dim(1), total), DType.F32)) {
            DeviceTensor[] parts = {dq, dk, dv};
            long column = 0;
            for (int i = 0; i < 3; i++) {
                b.tensors().copy(new CopyRequest(parts[i], 0, widths[i], dqkv, column, total, rows, widths[i]));
                column += widths[i];
            }
            return step.own(b.linear().backward(new LinearBackwardRequest(LinearRequest.of(u, fused[0], null), dqkv, true,
                    fused[1], null)));
        }
    }

    private static void close(DeviceTensor[] fused) {
        fused[0].close();
        if (fused[1] != null) {
            fused[1].close();
        }
    }

    /** {@return the projections, in the order q, k, v, out} */
    public java.util.List<Linear> linears() {
        return java.util.List.of(toQ, toK, toV, toOut);
    }

    /** {@return whether this is cross-attention} (keys and values from the context, no positional terms) */
    public boolean cross() {
        return cross;
    }

    /**
     * What backward needs: the attention port's inputs and outputs (rotated queries and keys, values, {@code o},
     * {@code lse}), the options, and the output before the row mask.
     *
     * @param q the rotated queries {@code [B, Sq, H, dimHead]}
     * @param k the rotated keys {@code [B, Sk, G, dimHead]}
     * @param v the values {@code [B, Sk, G, dimHead]}
     * @param result the attention port's output {@code o} and its log-sum-exp per query row
     * @param options the masks, biases and scale the forward ran with (backward must use the same)
     */
    public record Saved(DeviceTensor q, DeviceTensor k, DeviceTensor v, AttentionResult result, AttentionOptions options)
            implements AutoCloseable {
        @Override
        public void close() {
            q.close();
            k.close();
            v.close();
            result.close();
        }
    }

    /**
     * The output of a forward and what its backward needs.
     *
     * @param y the branch output F32 {@code [B, S, D]}, owned by the caller
     * @param saved what backward needs, or {@code null} when the forward ran with {@code save} false
     */
    public record Output(DeviceTensor y, Saved saved) {
    }

    private static DeviceTensor heads(Backend b, Step step, DeviceTensor flat, int h, int d) {
        Shape s = flat.shape();
        return step.own(b.tensors().view(flat, 0, Shape.of(s.dim(0), s.dim(1), h, d)));
    }

    private DeviceTensor rotate(Step step, DeviceTensor x, AttentionInputs in, DeviceTensor scale, boolean inverse) {
        return step.own(step.backend().rotary().apply(
                new RotaryRequest(x, in.cos(), in.sin(), scale, RotaryLayout.SPLIT_HALF, inverse)));
    }

    private AttentionOptions options(AttentionInputs in) {
        AttentionOptions.Builder b = AttentionOptions.builder();
        if (cross) {
            b.flashMask(in.contextMask());
        } else {
            b.causal(in.causal()).flashMask(in.flashMask()).alibiSlopes(in.alibi()).biasTable(in.biasTable());
        }
        return b.build();
    }

    /**
     * {@code u [B, S, D]} (the shifted, normed branch input) to the branch output {@code [B, S, D]}; with
     * {@code save} false (inference, or a checkpointed layer's first pass) nothing is kept for backward.
     *
     * @param step the pass (it owns the temporaries)
     * @param u F32 {@code [B, S, D]} the branch input
     * @param in the pass's masks, rotary tables, position biases and (cross-attention) context
     * @param save whether to keep what backward needs
     * @return the output and, if saved, what backward needs
     */
    public Output forward(Step step, DeviceTensor u, AttentionInputs in, boolean save) {
        return forward(step, u, in, save, null);
    }

    /**
     * As {@link #forward(Step, DeviceTensor, AttentionInputs, boolean)}, and with a {@code cache} (inference): the new
     * tokens' keys and values are appended to it and the queries attend over everything cached (self-attention), or
     * over the context's keys and values computed once (cross-attention).
     *
     * @param step an inference pass
     * @param u F32 {@code [B, n, D]} the new tokens' branch input
     * @param in the pass's masks, rotary tables, position biases and context
     * @param save whether to keep what backward needs
     * @param cache this layer's keys and values so far
     * @return the output for the new tokens
     */
    public Output forward(Step step, DeviceTensor u, AttentionInputs in, boolean save, KvCache.Layer cache) {
        if (cache != null) {
            if (save) {
                throw new IllegalArgumentException("a cached pass is inference only");
            }
            return new Output(cached(step, u, in, cache), null);
        }
        Backend b = step.backend();
        DeviceTensor source = cross ? in.context() : u;
        DeviceTensor qFlat;
        DeviceTensor kFlat;
        DeviceTensor vFlat;
        DeviceTensor[] fused = fusedWeight(b);
        if (fused != null) {
            DeviceTensor[] qkv = projectFused(step, b, u, fused[0]);
            close(fused);
            qFlat = qkv[0];
            kFlat = qkv[1];
            vFlat = qkv[2];
        } else {
            qFlat = toQ.forward(step, u);
            kFlat = toK.forward(step, source);
            vFlat = toV.forward(step, source);
        }
        DeviceTensor q = heads(b, step, qFlat, heads, dimHead);
        DeviceTensor k = heads(b, step, kFlat, kvHeads, dimHead);
        DeviceTensor v = heads(b, step, vFlat, kvHeads, dimHead);
        if (!cross && in.cos() != null) {
            DeviceTensor qr = rotate(step, q, in, in.queryScale(), false);
            DeviceTensor kr = rotate(step, k, in, in.keyScale(), false);
            q.close();
            qFlat.close();
            k.close();
            kFlat.close();
            q = qr;
            k = kr;
        }
        AttentionOptions options = options(in);
        AttentionResult r = step.own(b.attention().forward(new AttentionRequest(q, k, v, options)));
        DeviceTensor o = step.own(b.tensors().view(r.o(), 0, Shape.of(u.shape().dim(0), u.shape().dim(1), heads * dimHead)));
        DeviceTensor out = toOut.forward(step, o);
        o.close();
        if (in.keepRows() != null) {
            DeviceTensor masked = step.own(b.elementwise().multiply(
                    new BroadcastMultiplyRequest(out, in.keepRows(), BroadcastAxis.ROWS)));
            out.close();
            out = masked;
        }
        Saved saved = new Saved(q, k, v, r, options);
        if (!save) {
            saved.close();
            return new Output(out, null);
        }
        return new Output(out, saved);
    }

    /**
     * Accumulates the projections' gradients and returns {@code du} (for cross-attention: the queries' share only;
     * keys' and values' gradients are added into {@code in.contextGrad()}). Closes {@code saved}.
     *
     * @param step the training pass of the forward
     * @param saved what the forward kept; closed here
     * @param u F32 {@code [B, S, D]} the forward's branch input
     * @param dOut F32 {@code [B, S, D]} the gradient of the branch output
     * @param in the forward's attention inputs
     * @return {@code du} F32 {@code [B, S, D]}, a new tensor
     */
    public DeviceTensor backward(Step step, Saved saved, DeviceTensor u, DeviceTensor dOut, AttentionInputs in) {
        Backend b = step.backend();
        try (saved) {
            DeviceTensor dy = dOut;
            if (in.keepRows() != null) {
                dy = step.own(b.elementwise().multiply(new BroadcastMultiplyRequest(dOut, in.keepRows(), BroadcastAxis.ROWS)));
            }
            Shape flatO = Shape.of(u.shape().dim(0), u.shape().dim(1), heads * dimHead);
            DeviceTensor o = step.own(b.tensors().view(saved.result().o(), 0, flatO));
            DeviceTensor dOflat = toOut.backward(step, o, dy, true);
            o.close();
            if (dy != dOut) {
                dy.close();
            }
            DeviceTensor dO = heads(b, step, dOflat, heads, dimHead);
            AttentionOptions options = saved.options();
            boolean tableGrad = !cross && options.biasTable() != null && in.biasTableGrad() != null;
            if (tableGrad) {
                options = options.toBuilder().biasTableGrad(true).build();
            }
            AttentionGradients g = step.own(b.attention().backward(new AttentionBackwardRequest(dO, saved.q(), saved.k(),
                    saved.v(), saved.result().o(), saved.result().lse(), options)));
            dO.close();
            dOflat.close();
            if (tableGrad) {
                b.elementwise().axpy(new AxpyRequest(1f, g.dBiasTable(), in.biasTableGrad()));
            }
            DeviceTensor dq = g.dq();
            DeviceTensor dk = g.dk();
            if (!cross && in.cos() != null) {
                dq = rotate(step, g.dq(), in, in.queryScale(), true);
                dk = rotate(step, g.dk(), in, in.keyScale(), true);
            }
            DeviceTensor[] fused = fusedWeight(b);
            if (fused != null) {
                DeviceTensor du = backwardFused(step, b, u, fused, dq, dk, g.dv());
                close(fused);
                g.close();
                dq.close();
                dk.close();
                return du;
            }
            DeviceTensor source = cross ? in.context() : u;
            DeviceTensor du = toQ.backward(step, u, flat(b, step, dq), true);
            DeviceTensor dSource = toK.backward(step, source, flat(b, step, dk), true);
            DeviceTensor dvSource = toV.backward(step, source, flat(b, step, g.dv()), true);
            b.elementwise().axpy(new AxpyRequest(1f, dvSource, dSource));
            dvSource.close();
            g.close();
            dq.close();
            dk.close();
            if (cross) {
                b.elementwise().axpy(new AxpyRequest(1f, dSource, in.contextGrad()));
            } else {
                b.elementwise().axpy(new AxpyRequest(1f, dSource, du));
            }
            dSource.close();
            return du;
        }
    }

    private DeviceTensor cached(Step step, DeviceTensor u, AttentionInputs in, KvCache.Layer cache) {
        Backend b = step.backend();
        int batch = u.shape().dim(0);
        int n = u.shape().dim(1);
        DeviceTensor[] fused = fusedWeight(b);
        DeviceTensor[] qkv = null;
        if (fused != null) {
            qkv = projectFused(step, b, u, fused[0]);
            close(fused);
        }
        DeviceTensor qFlat = qkv != null ? qkv[0] : toQ.forward(step, u);
        DeviceTensor q = heads(b, step, qFlat, heads, dimHead);
        AttentionOptions options = options(in);
        DeviceTensor oFlat;
        if (cross) {
            DeviceTensor[] kv = cache.context();
            if (kv == null) {
                // the cache keeps the context's keys and values for every later pass: copies that outlive this step
                DeviceTensor k = toK.forward(step, in.context());
                DeviceTensor v = toV.forward(step, in.context());
                kv = new DeviceTensor[] {copyOf(b, k), copyOf(b, v)};
                k.close();
                v.close();
                cache.context(kv[0], kv[1]);
            }
            DeviceTensor k = heads(b, step, kv[0], kvHeads, dimHead);
            DeviceTensor v = heads(b, step, kv[1], kvHeads, dimHead);
            try (AttentionResult r = b.attention().forward(new AttentionRequest(q, k, v, options));
                 DeviceTensor o = b.tensors().view(r.o(), 0, Shape.of(batch, n, heads * dimHead))) {
                oFlat = step.own(copyOf(b, o));
            }
            k.close();
            v.close();
        } else {
            DeviceTensor k = heads(b, step, qkv != null ? qkv[1] : toK.forward(step, u), kvHeads, dimHead);
            DeviceTensor v = heads(b, step, qkv != null ? qkv[2] : toV.forward(step, u), kvHeads, dimHead);
            if (in.cos() != null) {
                DeviceTensor qr = rotate(step, q, in, in.queryScale(), false);
                DeviceTensor kr = rotate(step, k, in, in.keyScale(), false);
                q.close();
                k.close();
                q = qr;
                k = kr;
            }
            cache.append(k, v);
            int total = cache.length() + n;
            oFlat = step.own(b.tensors().allocate(Shape.of(batch, n, heads * dimHead), DType.F32));
            long rows = (long) n * heads * dimHead;
            int align = b.capabilities().port(TensorCapabilities.class).map(TensorCapabilities::viewAlignment).orElse(1);
            for (int row = 0; row < batch; row++) {
                // each row attends over its own cache: [1, n] queries after [1, total − n] cached keys, bottom-right
                // aligned; a row's queries are a view where the backend can place one there, else a copy
                try (DeviceTensor qb = rowOf(b, q, row, rows, Shape.of(1, n, heads, dimHead), align);
                     DeviceTensor kb = cache.keys(row, total);
                     DeviceTensor vb = cache.values(row, total);
                     AttentionResult r = b.attention().forward(new AttentionRequest(qb, kb, vb, options))) {
                    b.tensors().copy(new CopyRequest(r.o(), 0, rows, oFlat, row * rows, rows, 1, rows));
                }
            }
        }
        DeviceTensor out = toOut.forward(step, oFlat);
        oFlat.close();
        return out;
    }

    private static DeviceTensor rowOf(Backend b, DeviceTensor t, int row, long rowSize, Shape shape, int align) {
        long offset = row * rowSize;
        if (offset % align == 0) {
            return b.tensors().view(t, offset, shape);
        }
        DeviceTensor c = b.tensors().allocate(shape, t.dtype());
        b.tensors().copy(new CopyRequest(t, offset, rowSize, c, 0, rowSize, 1, rowSize));
        return c;
    }

    private static DeviceTensor copyOf(Backend b, DeviceTensor t) {
        DeviceTensor c = b.tensors().allocate(t.shape(), t.dtype());
        b.tensors().copy(CopyRequest.into(t, c, 0));
        return c;
    }

    private static DeviceTensor flat(Backend b, Step step, DeviceTensor perHead) {
        Shape s = perHead.shape();
        return step.own(b.tensors().view(perHead, 0, Shape.of(s.dim(0), s.dim(1), s.dim(2) * s.dim(3))));
    }
}
