package dev.attn4j.domain.model;

import dev.attn4j.domain.layers.Attention;
import dev.attn4j.domain.layers.AttentionInputs;
import dev.attn4j.domain.layers.Block;
import dev.attn4j.domain.layers.FeedForward;
import dev.attn4j.domain.layers.KvCache;
import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.Norm;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.layers.TokenShift;
import dev.attn4j.domain.parameters.Init;
import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.domain.parameters.ParameterRole;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.positional.RelativeBiasTable;
import dev.attn4j.domain.positional.T5RelativeBias;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * x-transformers' {@code AttentionLayers} (an encoder or decoder stack): its blocks in order (self-attention,
 * cross-attention when it cross-attends, feed-forward, per depth step), the final norm of pre-norm stacks, and the
 * T5 relative-position table its self-attention layers share. Parameter names are x-transformers' state-dict
 * names under {@code prefix} (e.g. {@code attn_layers.}), so its weights load as they are.
 *
 * <pre>{@code
 * LayerStack stack = new LayerStack(layersConfig, store, "attn_layers.");
 * LayerStack.Pass pass = stack.forward(step, x, inputs, true);
 * DeviceTensor dx = stack.backward(step, pass, dy);
 * }</pre>
 */
public final class LayerStack {
    private final LayersConfig config;
    private final String prefix;
    private final List<Block> blocks = new ArrayList<>();
    private final Norm finalNorm;
    private final Parameter relPos;

    /**
     * Binds the stack to its parameters in {@code store} (declared by {@link #specs}).
     *
     * @param config the stack's shape and options
     * @param store holds the parameters, named as {@link #specs} names them
     * @param prefix prepended to every parameter name, e.g. {@code "attn_layers."}
     */
    public LayerStack(LayersConfig config, ParameterStore store, String prefix) {
        this.config = config;
        this.prefix = prefix;
        int d = config.dim();
        TokenShift shift = config.shiftTokens() == 0 ? null
                : config.causal() ? TokenShift.causal(config.shiftTokens(), d) : TokenShift.bidirectional(config.shiftTokens(), d);
        int i = 0;
        for (int l = 0; l < config.depth(); l++) {
            for (Block.Kind kind : blockKinds()) {
                String layer = prefix + "layers." + i + ".";
                String branch = layer + "1." + (shift != null ? "fn." : "");
                Norm norm = norm(store, layer + (config.postNorm() ? "0.2." : "0.0."));
                Parameter scale = config.learnedResidualScale() ? store.get(layer + "2.residual_scale") : null;
                Block.Placement placement = config.postNorm() ? Block.Placement.POST_NORM : Block.Placement.PRE_NORM;
                Block block = switch (kind) {
                    case SELF_ATTENTION, CROSS_ATTENTION -> new Block(attention(store, branch, kind == Block.Kind.CROSS_ATTENTION),
                            null, norm, placement, scale, config.residualAlpha(), shift);
                    case FEED_FORWARD -> new Block(null, feedForward(store, branch), norm, placement, scale,
                            config.residualAlpha(), shift);
                };
                blocks.add(block);
                i++;
            }
        }
        this.finalNorm = config.finalNorm() ? norm(store, prefix + "final_norm.") : null;
        this.relPos = config.relPosBias() ? store.get(prefix + "rel_pos.relative_attention_bias.weight") : null;
    }

    private List<Block.Kind> blockKinds() {
        return config.crossAttend()
                ? List.of(Block.Kind.SELF_ATTENTION, Block.Kind.CROSS_ATTENTION, Block.Kind.FEED_FORWARD)
                : List.of(Block.Kind.SELF_ATTENTION, Block.Kind.FEED_FORWARD);
    }

    private Norm norm(ParameterStore store, String path) {
        return config.useRmsnorm() ? Norm.rmsNorm(store.get(path + "g"))
                : Norm.layerNorm(store.get(path + "weight"), store.get(path + "bias"));
    }

    private Attention attention(ParameterStore store, String path, boolean cross) {
        return new Attention(linear(store, path + "to_q", false), linear(store, path + "to_k", false),
                linear(store, path + "to_v", false), linear(store, path + "to_out", false), config.heads(),
                config.kvHeads(), config.dimHead(), cross);
    }

    private FeedForward feedForward(ParameterStore store, String path) {
        Linear in = config.ffGlu() ? linear(store, path + "ff.0.proj", true) : linear(store, path + "ff.0.0", true);
        return new FeedForward(in, linear(store, path + "ff.2", true), config.ffSwish() ? Activation.SILU : Activation.GELU,
                config.ffGlu());
    }

    private static Linear linear(ParameterStore store, String path, boolean bias) {
        return new Linear(path, store.get(path + ".weight"), bias ? store.get(path + ".bias") : null);
    }

    /**
     * The parameters of a stack of this configuration, named as x-transformers names them, with its initialisation.
     *
     * @param c the stack's shape and options
     * @param prefix prepended to every name, e.g. {@code "attn_layers."}
     * @return every parameter's name, shape, role and initialiser, in x-transformers' order
     */
    public static List<ParameterSpec> specs(LayersConfig c, String prefix) {
        List<ParameterSpec> out = new ArrayList<>();
        int d = c.dim();
        int inner = c.heads() * c.dimHead();
        int kvInner = c.kvHeads() * c.dimHead();
        boolean shift = c.shiftTokens() > 0;
        double beta = c.deepnorm() ? c.deepnormBeta() : 1.0;
        int i = 0;
        int kinds = c.crossAttend() ? 3 : 2;
        for (int l = 0; l < c.depth(); l++) {
            for (int k = 0; k < kinds; k++) {
                String layer = prefix + "layers." + i + ".";
                String branch = layer + "1." + (shift ? "fn." : "");
                normSpecs(out, c, layer + (c.postNorm() ? "0.2." : "0.0."));
                boolean ff = k == kinds - 1;
                if (!ff) {
                    out.add(weight(c, branch + "to_q.weight", inner, d, 1.0));
                    out.add(weight(c, branch + "to_k.weight", kvInner, d, 1.0));
                    out.add(weight(c, branch + "to_v.weight", kvInner, d, beta));
                    out.add(weight(c, branch + "to_out.weight", d, inner, beta));
                } else {
                    int ffInner = c.ffInner();
                    String in = c.ffGlu() ? branch + "ff.0.proj" : branch + "ff.0.0";
                    int inRows = c.ffGlu() ? 2 * ffInner : ffInner;
                    out.add(weight(c, in + ".weight", inRows, d, beta));
                    out.add(bias(c, in + ".bias", inRows, d));
                    out.add(weight(c, branch + "ff.2.weight", d, ffInner, beta));
                    out.add(bias(c, branch + "ff.2.bias", d, ffInner));
                }
                if (c.learnedResidualScale()) {
                    out.add(new ParameterSpec(layer + "2.residual_scale", Shape.of(d), ParameterRole.SCALE, Init.ones()));
                }
                i++;
            }
        }
        if (c.finalNorm()) {
            normSpecs(out, c, prefix + "final_norm.");
        }
        if (c.relPosBias()) {
            out.add(new ParameterSpec(prefix + "rel_pos.relative_attention_bias.weight",
                    Shape.of(c.relPosNumBuckets(), c.heads()), ParameterRole.POSITION_BIAS, Init.normal(1.0)));
        }
        return out;
    }

    private static void normSpecs(List<ParameterSpec> out, LayersConfig c, String path) {
        int d = c.dim();
        if (c.useRmsnorm()) {
            out.add(new ParameterSpec(path + "g", Shape.of(d), ParameterRole.NORM, Init.ones()));
        } else {
            out.add(new ParameterSpec(path + "weight", Shape.of(d), ParameterRole.NORM, Init.ones()));
            out.add(new ParameterSpec(path + "bias", Shape.of(d), ParameterRole.NORM, Init.zeros()));
        }
    }

    /** DeepNorm stacks use xavier_normal with gain β on values, outputs and feed-forward (1 on q, k); else nn.Linear's default. */
    private static ParameterSpec weight(LayersConfig c, String name, int out, int in, double gain) {
        Init init = c.deepnorm() ? Init.xavierNormal(gain, in, out) : Init.uniformFanIn(in);
        return new ParameterSpec(name, Shape.of(out, in), ParameterRole.WEIGHT, init);
    }

    private static ParameterSpec bias(LayersConfig c, String name, int out, int in) {
        return new ParameterSpec(name, Shape.of(out), ParameterRole.BIAS, c.deepnorm() ? Init.zeros() : Init.uniformFanIn(in));
    }

    /** {@return the configuration this stack was built from} */
    public LayersConfig config() {
        return config;
    }

    /** {@return the blocks, in order} (x-transformers' {@code layers} list) */
    public List<Block> blocks() {
        return List.copyOf(blocks);
    }

    /** {@return every linear layer, in block order}: the places adapters attach. */
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        for (Block b : blocks) {
            out.addAll(b.attention() != null ? b.attention().linears() : b.feedForward().linears());
        }
        return out;
    }

    /**
     * Turns activation checkpointing on or off for every block.
     *
     * @param on {@code true} to recompute each block's activations in backward instead of keeping them
     */
    public void checkpoint(boolean on) {
        blocks.forEach(b -> b.checkpoint(on));
    }

    /**
     * Turns fused QKV on or off for every self-attention block ({@link Attention#fuseQkv}: one GEMM for q, k and v,
     * Axolotl's {@code flash_attn_fuse_qkv}).
     *
     * @param on {@code true} to project q, k and v with one GEMM where the weights allow it
     */
    public void fuseQkv(boolean on) {
        blocks.forEach(b -> {
            if (b.attention() != null) {
                b.attention().fuseQkv(on);
            }
        });
    }

    /**
     * Turns the split GLU on (the default) or off for every gated feed-forward block ({@link FeedForward#splitGlu}:
     * the projection's two halves as two GEMMs, so the gated unit streams); off runs x-transformers' single
     * projection and the concatenated form, as under an adapter.
     *
     * @param on {@code true} to split where the projection and the backend allow it
     */
    public void splitGlu(boolean on) {
        blocks.forEach(b -> {
            if (b.feedForward() != null) {
                b.feedForward().splitGlu(on);
            }
        });
    }

    /**
     * A forward through the stack: its output and, when it will be differentiated, each block's saved state.
     * Closing frees what is still held (not the output).
     */
    public static final class Pass implements AutoCloseable {
        private final List<Block.Saved> saved = new ArrayList<>();
        private AttentionInputs inputs;
        private DeviceTensor attnSegments;
        private DeviceTensor ffSegments;
        private DeviceTensor stackOut;
        private Norm.Saved finalNorm;
        private DeviceTensor biasTable;
        private DeviceTensor oneHot;
        private DeviceTensor y;

        /** Made only by the stack's forward. */
        Pass() {
        }

        /** {@return the stack's output} F32 {@code [B, S, D]}, after the final norm if any. */
        public DeviceTensor y() {
            return y;
        }

        @Override
        public void close() {
            saved.forEach(Block.Saved::close);
            if (finalNorm != null) finalNorm.close();
            if (biasTable != null) biasTable.close();
            if (oneHot != null) oneHot.close();
        }
    }

    /**
     * Runs the stack on {@code x [B, S, D]}.
     *
     * @param step the pass (it owns the temporaries)
     * @param x F32 {@code [B, S, D]} the embeddings
     * @param inputs       masks, rotary tables, ALiBi slopes and (cross-attending) the context; the stack adds its
     *                     own T5 table
     * @param attnSegments token-shift documents of attention blocks, or {@code null}
     * @param ffSegments   token-shift documents of feed-forward blocks, or {@code null}
     * @param save         whether backward follows
     * @return the pass, with the output {@link Pass#y()} and what backward needs
     */
    public Pass forward(Step step, DeviceTensor x, AttentionInputs inputs, DeviceTensor attnSegments,
                        DeviceTensor ffSegments, boolean save) {
        Backend b = step.backend();
        Pass pass = step.own(new Pass());
        pass.attnSegments = attnSegments;
        pass.ffSegments = ffSegments;
        if (relPos != null) {
            int s = x.shape().dim(1);
            pass.oneHot = step.own(b.tensors().upload(oneHot(s, s), Shape.of(config.relPosNumBuckets(), 2 * s - 1), DType.F32));
            pass.biasTable = step.own(b.tensors().zeros(Shape.of(config.heads(), 2 * s - 1), DType.F32));
            // table [H, 2S−1] = √dh · Wᵀ [H, buckets] · oneHot [buckets, 2S−1]  (x-transformers scales T5's bias by √dh)
            b.linear().matmul(new MatmulRequest(relPos.value(), true, pass.oneHot, false, pass.biasTable,
                    (float) Math.sqrt(config.dimHead()), 0f));
            inputs = inputs.withBiasTable(pass.biasTable, null);
        }
        pass.inputs = inputs;
        DeviceTensor h = x;
        for (Block block : blocks) {
            Block.Saved s = block.forward(step, h, inputs, attnSegments, ffSegments, save);
            if (save) {
                pass.saved.add(s);
            } else if (h != x) {
                h.close();
            }
            h = s.y();
        }
        pass.stackOut = h;
        if (finalNorm != null) {
            pass.finalNorm = finalNorm.forward(step, h, null, 1);
            pass.y = pass.finalNorm.y();
            if (!save) {
                pass.finalNorm.close();
                pass.finalNorm = null;
                if (h != x) {
                    h.close();
                }
            }
        } else {
            pass.y = h;
        }
        return pass;
    }

    /**
     * Runs the stack on {@code x [B, n, D]}, the {@code n} tokens after those {@code cache} holds (inference): returns
     * the output (after the final norm). The cache's length advances only when the caller says so.
     *
     * @param step an inference pass
     * @param x F32 {@code [B, n, D]} the new tokens' embeddings
     * @param inputs the pass's masks, rotary tables, ALiBi slopes and context
     * @param cache the keys, values and token-shift history of the tokens before
     * @return the output F32 {@code [B, n, D]}
     */
    public DeviceTensor forward(Step step, DeviceTensor x, AttentionInputs inputs, KvCache cache) {
        Backend b = step.backend();
        int n = x.shape().dim(1);
        DeviceTensor table = null;
        DeviceTensor hot = null;
        if (relPos != null) {
            int sk = cache.length() + n;
            hot = step.own(b.tensors().upload(oneHot(n, sk), Shape.of(config.relPosNumBuckets(), n + sk - 1), DType.F32));
            table = step.own(b.tensors().zeros(Shape.of(config.heads(), n + sk - 1), DType.F32));
            b.linear().matmul(new MatmulRequest(relPos.value(), true, hot, false, table,
                    (float) Math.sqrt(config.dimHead()), 0f));
            inputs = inputs.withBiasTable(table, null);
        }
        DeviceTensor h = x;
        for (int i = 0; i < blocks.size(); i++) {
            DeviceTensor y = blocks.get(i).forward(step, h, inputs, cache.layer(i));
            if (h != x) {
                h.close();
            }
            h = y;
        }
        if (finalNorm != null) {
            Norm.Saved f = finalNorm.forward(step, h, null, 1);
            f.close();
            if (h != x) {
                h.close();
            }
            h = f.y();
        }
        if (table != null) {
            table.close();
            hot.close();
        }
        return h;
    }

    /**
     * Accumulates every parameter gradient of the stack (the T5 table's included) and returns {@code dx}; for a
     * cross-attending stack, the context's gradient is added into {@code contextGrad}.
     *
     * @param step the training pass of the forward
     * @param pass the forward's pass
     * @param dy F32 {@code [B, S, D]} the gradient of the stack's output
     * @param contextGrad F32 {@code [B, Sc, D]} the context's gradient is added to, or {@code null}
     * @return {@code dx} F32 {@code [B, S, D]}
     */
    public DeviceTensor backward(Step step, Pass pass, DeviceTensor dy, DeviceTensor contextGrad) {
        Backend b = step.backend();
        try (pass) {
            AttentionInputs in = pass.inputs;
            DeviceTensor tableGrad = null;
            if (relPos != null) {
                tableGrad = step.own(b.tensors().zeros(pass.biasTable.shape(), DType.F32));
                in = in.withBiasTable(pass.biasTable, tableGrad);
            }
            if (contextGrad != null) {
                in = in.withContext(in.context(), in.contextMask(), contextGrad);
            }
            DeviceTensor d = dy;
            if (finalNorm != null) {
                NormGradients g = finalNorm.backward(step, pass.finalNorm, dy);
                d = g.dInput();
                pass.finalNorm.close();
                pass.y.close();
                pass.stackOut.close();
            }
            for (int i = blocks.size() - 1; i >= 0; i--) {
                Block.Saved s = pass.saved.get(i);
                DeviceTensor dx = blocks.get(i).backward(step, s, d, in, pass.attnSegments, pass.ffSegments);
                if (d != dy) {
                    d.close();
                }
                if (i > 0) {
                    // this block's input is the previous block's output: nothing reads it any more
                    pass.saved.get(i - 1).y().close();
                }
                d = dx;
            }
            if (relPos != null && relPos.grad() != null) {
                // dW [buckets, H] += √dh · oneHot [buckets, 2S−1] · dTableᵀ [2S−1, H]
                b.linear().matmul(new MatmulRequest(pass.oneHot, false, tableGrad, true, relPos.grad(),
                        (float) Math.sqrt(config.dimHead()), 1f));
            }
            if (tableGrad != null) {
                tableGrad.close();
            }
            return d;
        }
    }

    /** The one-hot bucket matrix of T5's relative positions for {@code Sq} queries and {@code Sk} keys. */
    float[] oneHot(int seqQ, int seqK) {
        int width = seqQ + seqK - 1;
        int buckets = config.relPosNumBuckets();
        float[] m = new float[Math.multiplyExact(buckets, width)];
        for (int r = 0; r < width; r++) {
            int bucket = T5RelativeBias.bucket(RelativeBiasTable.relative(r, seqK), !config.causal(), buckets,
                    config.relPosMaxDistance());
            m[bucket * width + r] = 1f;
        }
        return m;
    }
}
