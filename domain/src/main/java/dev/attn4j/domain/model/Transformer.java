package dev.attn4j.domain.model;

import dev.attn4j.domain.layers.AttentionInputs;
import dev.attn4j.domain.layers.KvCache;
import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.masks.FlashMask;
import dev.attn4j.domain.masks.FlashMasks;
import dev.attn4j.domain.parameters.Grouping;
import dev.attn4j.domain.parameters.Init;
import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.domain.parameters.ParameterRole;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.positional.Alibi;
import dev.attn4j.domain.positional.Rotary;
import dev.attn4j.domain.positional.RotaryTables;
import dev.attn4j.domain.positional.Xpos;
import dev.attn4j.domain.positional.XposScales;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * x-transformers' {@code TransformerWrapper}: token embedding (plus learned absolute positions when the layers
 * have no relative scheme), an encoder or decoder {@link LayerStack}, and the logits layer (or the tied
 * embedding). Forward and backward are explicit; the loss is the fused chunked cross-entropy, so the
 * {@code [tokens, V]} logits never exist whole in training.
 *
 * <pre>{@code
 * try (Transformer model = Transformer.create(backend, ModelConfigs.orca(), 42L);
 *      Step step = Step.training(backend, 7L, 0L)) {
 *     Transformer.Pass pass = model.forward(step, batch, true);
 *     Transformer.Loss loss = model.lossAndBackward(step, pass, targets, 1f / tokens);
 * }
 * }</pre>
 */
public final class Transformer implements AutoCloseable {
    private final TransformerConfig config;
    private final String prefix;
    private final ParameterStore store;
    private final boolean ownsStore;
    private final Parameter tokenEmb;
    private final Parameter posEmb;
    private final Parameter logitsWeight;
    private final Parameter logitsBias;
    private final LayerStack stack;
    private final HeadOrder headOrder;
    private final float[] alibiSlopes;
    private double neftuneAlpha;
    private NeftuneScaling neftuneScaling = NeftuneScaling.HUGGING_FACE;

    /**
     * Binds a model to its parameters in {@code store} (declared by {@link #specs}) under {@code prefix}.
     *
     * @param config the model's shape (vocabulary, width, layers); it must be the one {@code store}'s parameters were
     *               declared from
     * @param store holds the parameters, named as {@link #specs} names them
     * @param prefix prepended to every parameter name ({@code ""} for a standalone model, e.g. {@code "encoder."}
     *               inside an encoder-decoder)
     * @param ownsStore whether closing the model closes the store
     */
    public Transformer(TransformerConfig config, ParameterStore store, String prefix, boolean ownsStore) {
        this.config = config;
        this.prefix = prefix;
        this.store = store;
        this.ownsStore = ownsStore;
        this.tokenEmb = store.get(prefix + "token_emb.emb.weight");
        this.posEmb = config.absolutePositions() ? store.get(prefix + "pos_emb.emb.weight") : null;
        this.logitsWeight = config.tieEmbedding() ? tokenEmb : store.get(prefix + "to_logits.weight");
        this.logitsBias = config.tieEmbedding() ? null : store.get(prefix + "to_logits.bias");
        this.stack = new LayerStack(config.attnLayers(), store, prefix + "attn_layers.");
        LayersConfig l = config.attnLayers();
        this.headOrder = new HeadOrder(l.heads(), l.kvHeads());
        if (l.alibiPosBias()) {
            float[] reference = Alibi.of(l.heads(), l.alibiNumHeads()).slopes();
            this.alibiSlopes = headOrder.permuteColumns(reference, 1, false);
        } else {
            this.alibiSlopes = null;
        }
    }

    /**
     * A fresh model with its own parameters (initialised as x-transformers does, from {@code seed}).
     *
     * @param backend where the parameters live and every pass runs
     * @param config the model's shape
     * @param seed the Philox key the initial weights are drawn from: the same seed gives the same weights on every
     *             backend
     * @return the model, owning its store (closing it frees the parameters)
     */
    public static Transformer create(Backend backend, TransformerConfig config, long seed) {
        return create(backend, config, seed, s -> true);
    }

    /**
     * A fresh model whose parameters get gradients only where {@code trainable} says so: a frozen parameter has no
     * gradient buffer, so its gradient is never computed (a frozen linear weight runs no dW GEMM). Adapters
     * (PEFT-style fine-tuning) freeze the whole base model.
     *
     * <pre>{@code
     * Transformer base = Transformer.create(backend, config, 0L, spec -> false);   // nothing trains but adapters
     * }</pre>
     *
     * @param backend where the parameters live and every pass runs
     * @param config the model's shape
     * @param seed the Philox key the initial weights are drawn from
     * @param trainable which of the model's parameters get gradients
     * @return the model, owning its store
     */
    public static Transformer create(Backend backend, TransformerConfig config, long seed,
                                     java.util.function.Predicate<ParameterSpec> trainable) {
        ParameterStore store = ParameterStore.allocate(backend, specs(config, ""), Grouping.decay(), trainable, seed);
        return new Transformer(config, store, "", true);
    }

    /**
     * The parameters of a model of this configuration under {@code prefix}, with x-transformers' names and init.
     *
     * @param c the model's shape
     * @param prefix prepended to every name ({@code ""} for a standalone model)
     * @return every parameter's name, shape, role (for weight decay) and initialiser, in x-transformers' order
     */
    public static List<ParameterSpec> specs(TransformerConfig c, String prefix) {
        List<ParameterSpec> out = new ArrayList<>();
        int d = c.dim();
        out.add(new ParameterSpec(prefix + "token_emb.emb.weight", Shape.of(c.numTokens(), d), ParameterRole.EMBEDDING,
                Init.kaimingNormal(d)));
        if (c.absolutePositions()) {
            out.add(new ParameterSpec(prefix + "pos_emb.emb.weight", Shape.of(c.maxSeqLen(), d), ParameterRole.EMBEDDING,
                    Init.normal(1.0)));
        }
        out.addAll(LayerStack.specs(c.attnLayers(), prefix + "attn_layers."));
        if (!c.tieEmbedding()) {
            out.add(new ParameterSpec(prefix + "to_logits.weight", Shape.of(c.numTokens(), d), ParameterRole.WEIGHT,
                    Init.uniformFanIn(d)));
            out.add(new ParameterSpec(prefix + "to_logits.bias", Shape.of(c.numTokens()), ParameterRole.BIAS,
                    Init.uniformFanIn(d)));
        }
        return out;
    }

    /** {@return the configuration this model was built from} */
    public TransformerConfig config() {
        return config;
    }

    /** {@return the store of this model's weights and gradient buffers} Adapters and the optimiser share it. */
    public ParameterStore parameters() {
        return store;
    }

    /** {@return the layer stack} (the attention and feed-forward layers between the embeddings and the logits) */
    public LayerStack stack() {
        return stack;
    }

    /** {@return every linear layer of the stack} in stack order: the places LoRA-style adapters attach. */
    public List<Linear> linears() {
        return stack.linears();
    }

    /**
     * NEFTune noise on the embeddings in training, {@code U(−m, m)} with {@code m = α/√(L·D)} (0 = off).
     *
     * @param alpha α, {@code >= 0}
     */
    public void neftune(double alpha) {
        neftune(alpha, NeftuneScaling.HUGGING_FACE);
    }

    /**
     * NEFTune noise on the embeddings in training, {@code U(−m, m)} with {@code m} from {@code alpha} by
     * {@code scaling} (Hugging Face's {@code α/√(L·D)} or PaddleNLP's {@code α/√(B·L)}); 0 = off.
     *
     * @param alpha   α, {@code >= 0}
     * @param scaling how α becomes the bound
     */
    public void neftune(double alpha, NeftuneScaling scaling) {
        InvalidRequestException.check(alpha >= 0 && Double.isFinite(alpha), "neftune alpha", ">= 0", alpha);
        InvalidRequestException.check(scaling != null, "neftune scaling", "HUGGING_FACE or PADDLE", "null");
        this.neftuneAlpha = alpha;
        this.neftuneScaling = scaling;
    }

    /** {@return the NEFTune alpha (0 = off)} */
    public double neftuneAlpha() {
        return neftuneAlpha;
    }

    /** {@return how the NEFTune magnitude is derived from alpha} */
    public NeftuneScaling neftuneScaling() {
        return neftuneScaling;
    }

    // ------------------------------------------------------------------------------------------------ inputs

    /** The per-pass tensors every layer shares, built from a batch (and, cross-attending, a context). */
    Inputs inputs(Step step, TokenBatch batch, DeviceTensor context, TokenBatch contextBatch) {
        return inputs(step, batch, context, contextBatch, 0, -1);
    }

    /**
     * The per-pass tensors for tokens at positions {@code start..start+S−1}; {@code xposCentre} is the xPos centre
     * (−1: x-transformers' {@code ⌊S/2⌋} of a full pass).
     */
    Inputs inputs(Step step, TokenBatch batch, DeviceTensor context, TokenBatch contextBatch, int start, long xposCentre) {
        Backend b = step.backend();
        LayersConfig l = config.attnLayers();
        int bs = batch.batch();
        int s = batch.seqLen();
        Inputs in = new Inputs();
        in.ids = step.own(b.tensors().uploadInts(batch.ids(), Shape.of(bs, s)));
        FlashMask mask = selfMask(batch, l.causal());
        DeviceTensor flash = mask == null ? null : step.own(mask.upload(b.tensors()));
        DeviceTensor keepRows = null;
        if (batch.keep() != null && batch.padded()) {
            float[] rows = new float[bs * s];
            boolean[] keep = batch.keep();
            for (int i = 0; i < rows.length; i++) {
                rows[i] = keep[i] ? 1f : 0f;
            }
            keepRows = step.own(b.tensors().upload(rows, Shape.of(bs * s), DType.F32));
        }
        if (l.shiftTokens() > 0) {
            int[] segs = segments(batch);
            DeviceTensor t = segs == null ? null : step.own(b.tensors().uploadInts(segs, Shape.of(bs, s)));
            in.attnSegments = t;
            // x-transformers shifts feed-forward inputs without the padding mask; packed documents stay apart
            in.ffSegments = batch.documents() != null ? t : null;
        }
        DeviceTensor cos = null;
        DeviceTensor sin = null;
        DeviceTensor qs = null;
        DeviceTensor ks = null;
        if (l.rotary()) {
            RotaryTables t = Rotary.of(l.rotaryDim()).tables(start, s);
            cos = step.own(t.uploadCos(b.tensors()));
            sin = step.own(t.uploadSin(b.tensors()));
            if (l.rotaryXpos()) {
                Xpos xpos = new Xpos(l.rotaryDim(), l.rotaryXposScaleBase(), Xpos.DEFAULT_GAMMA);
                XposScales xs = xposCentre < 0 ? xpos.scales(s) : xpos.scales(start, s, xposCentre);
                qs = step.own(xs.uploadQuery(b.tensors()));
                ks = step.own(xs.uploadKey(b.tensors()));
            }
        }
        DeviceTensor alibi = alibiSlopes == null ? null
                : step.own(b.tensors().upload(alibiSlopes, Shape.of(alibiSlopes.length), DType.F32));
        in.attention = AttentionInputs.self(flash, l.causal(), keepRows, cos, sin, qs, ks, alibi);
        if (context != null) {
            FlashMask cm = contextMask(contextBatch, s);
            in.attention = in.attention.withContext(context, cm == null ? null : step.own(cm.upload(b.tensors())), null);
        }
        if (posEmb != null) {
            int[] pos = batch.positions();
            for (int i = 0; i < pos.length; i++) {
                pos[i] += start;
            }
            for (int p : pos) {
                InvalidRequestException.check(p < config.maxSeqLen(), "batch", "positions below max_seq_len = "
                        + config.maxSeqLen(), "a position of " + p);
            }
            in.positions = step.own(b.tensors().uploadInts(pos, Shape.of(bs, s)));
        }
        return in;
    }

    /** Self-attention's FlashMask: causal and/or padding (keys masked) or packed documents; null when none is needed. */
    static FlashMask selfMask(TokenBatch batch, boolean causal) {
        int bs = batch.batch();
        int s = batch.seqLen();
        if (batch.documents() != null) {
            List<FlashMask> rows = new ArrayList<>();
            for (int[] docs : batch.documents()) {
                rows.add(causal ? FlashMasks.causalDocument(s, docs) : FlashMasks.document(s, docs));
            }
            return FlashMask.concatBatch(rows);
        }
        if (batch.keep() == null || !batch.padded()) {
            return null;
        }
        boolean[] keep = batch.keep();
        int n = causal ? 1 : 2;
        int[] data = new int[bs * s * n];
        for (int b = 0; b < bs; b++) {
            for (int j = 0; j < s; j++) {
                // a padded key is masked for every row: [LTS = 0] (causal) or [LTS = 0, UTE = 0] (rows >= 0)
                data[(b * s + j) * n] = keep[b * s + j] ? s : 0;
            }
        }
        return new FlashMask(data, bs, 1, s, s, n, causal);
    }

    /** Cross-attention's FlashMask over the context's padding ({@code Sq} queries), or null. */
    static FlashMask contextMask(TokenBatch context, int seqQ) {
        if (context == null || context.keep() == null || !context.padded()) {
            return null;
        }
        int bs = context.batch();
        int sk = context.seqLen();
        boolean[] keep = context.keep();
        int[] data = new int[bs * sk * 2];
        for (int b = 0; b < bs; b++) {
            for (int j = 0; j < sk; j++) {
                data[(b * sk + j) * 2] = keep[b * sk + j] ? seqQ : 0;
            }
        }
        return new FlashMask(data, bs, 1, seqQ, sk, 2, false);
    }

    /** Token-shift documents: per-token document ids with padding as −1, or null when every row is one document. */
    static int[] segments(TokenBatch batch) {
        int bs = batch.batch();
        int s = batch.seqLen();
        if (batch.documents() != null) {
            int[] seg = new int[bs * s];
            java.util.Arrays.fill(seg, -1);
            int[][] docs = batch.documents();
            for (int b = 0; b < bs; b++) {
                int t = 0;
                for (int d = 0; d < docs[b].length; d++) {
                    for (int i = 0; i < docs[b][d]; i++) {
                        seg[b * s + t++] = d;
                    }
                }
            }
            return seg;
        }
        if (batch.keep() != null && batch.padded()) {
            int[] seg = new int[bs * s];
            boolean[] keep = batch.keep();
            for (int i = 0; i < seg.length; i++) {
                seg[i] = keep[i] ? 0 : -1;
            }
            return seg;
        }
        return null;
    }

    /** The tensors of one pass's inputs. */
    static final class Inputs {
        DeviceTensor ids;
        DeviceTensor positions;
        DeviceTensor attnSegments;
        DeviceTensor ffSegments;
        AttentionInputs attention;
    }

    // ----------------------------------------------------------------------------------------------- forward

    /** One pass: its inputs, the embedding output, the stack's pass; {@link #hidden()} is the model's last hidden state. */
    public static final class Pass implements AutoCloseable {
        private final TokenBatch batch;
        private Inputs inputs;
        private DeviceTensor embedded;
        private LayerStack.Pass stack;

        Pass(TokenBatch batch) {
            this.batch = batch;
        }

        /** {@return the last hidden state} F32 {@code [B, S, D]}, after the final norm if any; owned by the pass. */
        public DeviceTensor hidden() {
            return stack.y();
        }

        /** {@return the batch this pass ran} */
        public TokenBatch batch() {
            return batch;
        }

        /**
         * The stack's input {@code [B, S, D]}: the token embeddings (plus learned positions, plus the NEFTune noise in
         * a training pass); open until backward or the end of the step.
         *
         * @return F32 {@code [B, S, D]}, owned by the pass
         */
        public DeviceTensor embedded() {
            return embedded;
        }

        @Override
        public void close() {
            if (stack != null) stack.close();
        }
    }

    /**
     * Runs the model on {@code batch}; {@code save} keeps what backward needs.
     *
     * @param step the pass's backend, training flag and scope (the returned pass is closed with it)
     * @param batch the token ids {@code [B, S]} with their padding and document boundaries
     * @param save whether to keep the activations backward needs ({@code false} for evaluation saves memory)
     * @return the pass, whose {@link Pass#hidden()} is the last hidden state
     */
    public Pass forward(Step step, TokenBatch batch, boolean save) {
        return forward(step, batch, null, null, save);
    }

    /**
     * Runs the model cross-attending to {@code context [B, Sc, D]} (whose padding {@code contextBatch} gives).
     *
     * @param step the pass's backend, training flag and scope
     * @param batch the token ids {@code [B, S]}
     * @param context the encoder's output F32 {@code [B, Sc, D]} when the stack cross-attends, else {@code null}
     * @param contextBatch the encoder's tokens (their padding masks the context's keys), or {@code null}
     * @param save whether to keep the activations backward needs
     * @return the pass
     * @throws InvalidRequestException when a context is given to a stack that does not cross-attend, or missing for one
     *                                 that does
     */
    public Pass forward(Step step, TokenBatch batch, DeviceTensor context, TokenBatch contextBatch, boolean save) {
        Backend b = step.backend();
        InvalidRequestException.check(config.attnLayers().crossAttend() == (context != null), "context",
                config.attnLayers().crossAttend() ? "the encoder output (this stack cross-attends)" : "none (no cross-attention)",
                context == null ? "none" : "a tensor");
        Pass pass = step.own(new Pass(batch));
        pass.inputs = inputs(step, batch, context, contextBatch);
        DeviceTensor x = step.own(b.embedding().forward(new EmbeddingRequest(tokenEmb.value(), pass.inputs.ids)));
        if (posEmb != null) {
            try (DeviceTensor p = b.embedding().forward(new EmbeddingRequest(posEmb.value(), pass.inputs.positions))) {
                // x-transformers scales learned absolute positions by 1/√D
                b.elementwise().axpy(new AxpyRequest((float) (1.0 / Math.sqrt(config.dim())), p, x));
            }
        }
        if (step.training() && neftuneAlpha > 0) {
            // NEFTune: U(−m, m); Hugging Face's m = α / √(L·D) or PaddleNLP's α / √(B·L), L the (padded) row length
            float m = neftuneScaling.magnitude(neftuneAlpha, batch.batch(), batch.seqLen(), config.dim());
            try (DeviceTensor noise = b.tensors().allocate(x.shape(), DType.F32)) {
                b.random().uniform(new UniformRequest(noise, -m, m, step.seed(), step.nextRandomOffset()));
                b.elementwise().axpy(new AxpyRequest(1f, noise, x));
            }
        }
        pass.embedded = x;
        pass.stack = stack.forward(step, x, pass.inputs.attention, pass.inputs.attnSegments, pass.inputs.ffSegments, save);
        return pass;
    }

    /**
     * The logits {@code [B, S, V]} of a pass (a new tensor).
     *
     * @param step the pass the logits belong to (it owns them)
     * @param pass a forward pass of this model
     * @return F32 {@code [B, S, V]}, V the vocabulary size; prefer {@link #loss} for training, which never materialises
     *         them
     */
    public DeviceTensor logits(Step step, Pass pass) {
        return step.own(step.backend().linear().forward(LinearRequest.of(pass.hidden(), logitsWeight.value(),
                logitsBias == null ? null : logitsBias.value())));
    }

    /**
     * A loss: the sum of the counted tokens' cross-entropies and their number, on the device.
     *
     * @param sum   F32 {@code [1]}
     * @param count F32 {@code [1]}
     */
    public record Loss(DeviceTensor sum, DeviceTensor count) {
    }

    /**
     * The next-token loss of a pass without gradients (evaluation).
     *
     * @param step the pass the loss tensors belong to (it owns them)
     * @param pass a forward pass of this model
     * @param targets {@code [B, S]} class ids aligned with the logits (position t is scored against targets[t]), −100
     *                where no loss is taken
     * @return the summed cross-entropy and the number of tokens counted, on the device
     */
    public Loss loss(Step step, Pass pass, int[] targets) {
        Backend b = step.backend();
        DeviceTensor t = step.own(b.tensors().uploadInts(targets, targetShape(pass)));
        CrossEntropyResult r = step.own(b.loss().linearCrossEntropy(CrossEntropyRequest.evaluation(pass.hidden(),
                logitsWeight.value(), logitsBias == null ? null : logitsBias.value(), t)));
        return new Loss(r.lossSum(), r.count());
    }

    /**
     * Per-token losses {@code [B, S]} of a pass (0 where the target is −100), downloaded.
     *
     * @param step the pass this evaluation belongs to
     * @param pass a forward pass of this model
     * @param targets {@code [B, S]} class ids aligned with the logits, −100 where no loss is taken
     * @return {@code B * S} cross-entropies in nats, row-major
     */
    public float[] tokenLosses(Step step, Pass pass, int[] targets) {
        Backend b = step.backend();
        try (DeviceTensor t = b.tensors().uploadInts(targets, targetShape(pass));
             CrossEntropyResult r = b.loss().linearCrossEntropy(CrossEntropyRequest.evaluation(pass.hidden(),
                     logitsWeight.value(), logitsBias == null ? null : logitsBias.value(), t).withPerTokenLoss())) {
            return b.tensors().download(r.perToken());
        }
    }

    /**
     * Runs the model on the {@code n} tokens of {@code batch} that follow those {@code cache} holds (inference) and
     * returns the logits of the last token of each row, {@code [B, V]}, downloaded; the cache then holds them too.
     * The first call (an empty cache) is the prefill. Rows are not padded, and all have the cache's length.
     *
     * @param step an inference pass
     * @param batch {@code [B, n]} the new tokens of each row
     * @param cache the keys and values of the tokens before them; it advances by {@code n}
     * @param context      for a cross-attending decoder, the encoder's output; else {@code null}
     * @param contextBatch the context's tokens (its padding), or {@code null}
     * @return F32 {@code B * V} logits, row-major
     */
    public float[] decode(Step step, TokenBatch batch, KvCache cache, DeviceTensor context, TokenBatch contextBatch) {
        Backend b = step.backend();
        InvalidRequestException.check(batch.keep() == null && batch.documents() == null, "batch",
                "unpadded rows of one document (cached decoding)", "a padded or packed batch");
        int n = batch.seqLen();
        cache.requireRoom(n, batch.batch());
        InvalidRequestException.check(config.attnLayers().crossAttend() == (context != null), "context",
                config.attnLayers().crossAttend() ? "the encoder output" : "none", context == null ? "none" : "a tensor");
        // xPos: one centre for every pass over this cache, so query and key scales agree across passes
        Inputs in = inputs(step, batch, context, contextBatch, cache.length(), cache.capacity() / 2);
        DeviceTensor x = step.own(b.embedding().forward(new EmbeddingRequest(tokenEmb.value(), in.ids)));
        if (posEmb != null) {
            try (DeviceTensor p = b.embedding().forward(new EmbeddingRequest(posEmb.value(), in.positions))) {
                b.elementwise().axpy(new AxpyRequest((float) (1.0 / Math.sqrt(config.dim())), p, x));
            }
        }
        DeviceTensor h = stack.forward(step, x, in.attention, cache);
        cache.advance(n);
        int bs = batch.batch();
        int d = config.dim();
        try (DeviceTensor last = b.tensors().allocate(Shape.of(bs, d), DType.F32)) {
            b.tensors().copy(new dev.attn4j.ports.tensor.CopyRequest(h, (long) (n - 1) * d, (long) n * d, last, 0, d, bs, d));
            h.close();
            x.close();
            try (DeviceTensor logits = b.linear().forward(LinearRequest.of(last, logitsWeight.value(),
                    logitsBias == null ? null : logitsBias.value()))) {
                return b.tensors().download(logits);
            }
        }
    }

    private static Shape targetShape(Pass pass) {
        return Shape.of(pass.batch.batch(), pass.batch.seqLen());
    }

    /**
     * The loss of a pass and, scaled by {@code gradScale}, every parameter's gradient (accumulated into the store's
     * gradient buffers): the fused cross-entropy, then the model's backward.
     *
     * @param step a training pass (it owns the loss tensors)
     * @param pass a forward pass run with {@code save} set
     * @param targets {@code [B, S]} class ids aligned with the logits, −100 where no loss is taken
     * @param gradScale the factor applied to every gradient, e.g. {@code 1 / tokens} to average over a step's
     *                  micro-batches
     * @return the summed cross-entropy and the number of tokens counted, on the device
     */
    public Loss lossAndBackward(Step step, Pass pass, int[] targets, float gradScale) {
        return lossAndBackward(step, pass, targets, gradScale, null);
    }

    /**
     * {@link #lossAndBackward(Step, Pass, int[], float)} adding the context's gradient into {@code contextGrad}.
     *
     * @param step a training pass
     * @param pass a forward pass run with {@code save} set
     * @param targets {@code [B, S]} class ids, −100 where no loss is taken
     * @param gradScale the factor applied to every gradient
     * @param contextGrad F32 {@code [B, Sc, D]} the cross-attention context's gradient is added to, or {@code null}
     * @return the summed cross-entropy and the number of tokens counted, on the device
     */
    public Loss lossAndBackward(Step step, Pass pass, int[] targets, float gradScale, DeviceTensor contextGrad) {
        Backend b = step.backend();
        DeviceTensor t = step.own(b.tensors().uploadInts(targets, targetShape(pass)));
        CrossEntropyResult r = step.own(b.loss().linearCrossEntropy(new CrossEntropyRequest(pass.hidden(),
                logitsWeight.value(), logitsBias == null ? null : logitsBias.value(), t,
                CrossEntropyRequest.IGNORE_INDEX, gradScale, true, logitsWeight.grad(),
                logitsBias == null ? null : logitsBias.grad(), false)));
        backward(step, pass, r.dHidden(), contextGrad);
        r.dHidden().close();
        return new Loss(r.lossSum(), r.count());
    }

    /**
     * Backpropagates {@code dHidden} through the stack and the embeddings, accumulating every parameter gradient.
     *
     * @param step a training pass
     * @param pass a forward pass run with {@code save} set; it is closed by this call
     * @param dHidden F32 {@code [B, S, D]} the loss's gradient with respect to {@link Pass#hidden()}
     * @param contextGrad F32 {@code [B, Sc, D]} the context's gradient is added to, or {@code null}
     */
    public void backward(Step step, Pass pass, DeviceTensor dHidden, DeviceTensor contextGrad) {
        Backend b = step.backend();
        try (pass) {
            DeviceTensor dx = stack.backward(step, pass.stack, dHidden, contextGrad);
            if (tokenEmb.grad() != null) {
                b.embedding().backward(new EmbeddingBackwardRequest(new EmbeddingRequest(tokenEmb.value(), pass.inputs.ids),
                        dx, tokenEmb.grad()));
            }
            if (posEmb != null && posEmb.grad() != null) {
                b.elementwise().scale(new ScaleRequest(dx, (float) (1.0 / Math.sqrt(config.dim()))));
                b.embedding().backward(new EmbeddingBackwardRequest(new EmbeddingRequest(posEmb.value(), pass.inputs.positions),
                        dx, posEmb.grad()));
            }
            if (dx != dHidden) {
                dx.close();
            }
            pass.embedded.close();
        }
    }

    // ----------------------------------------------------------------------------------------------- weights

    /**
     * Loads a state dict in x-transformers' names and head order (as {@code model.state_dict()} saves it): every
     * parameter must be present with its shape; the rotary buffers x-transformers saves are accepted.
     *
     * @param tensors row-major F32 values by parameter name, e.g. from {@link
     *                dev.attn4j.domain.safetensors.SafetensorsReader}
     */
    public void loadStateDict(Map<String, float[]> tensors) {
        Map<String, float[]> own = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            if (!e.getKey().startsWith(prefix) || isBuffer(e.getKey())) {
                continue;
            }
            own.put(e.getKey(), toHeadOrder(e.getKey(), e.getValue(), false));
        }
        store.load(own, name -> !name.startsWith(prefix));
    }

    /**
     * This model's parameters in x-transformers' names and head order, plus the rotary buffers it would save.
     *
     * @return row-major F32 values by name, ready for a safetensors file PyTorch can load
     */
    public Map<String, float[]> stateDict() {
        return exported(store.values(), true);
    }

    /**
     * This model's gradients in x-transformers' names and head order.
     *
     * @return row-major F32 gradients by parameter name (frozen parameters are absent)
     */
    public Map<String, float[]> gradients() {
        return exported(store.grads(), false);
    }

    private Map<String, float[]> exported(Map<String, float[]> values, boolean buffers) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                out.put(e.getKey(), toHeadOrder(e.getKey(), e.getValue(), true));
            }
        }
        LayersConfig l = config.attnLayers();
        if (buffers && l.rotary()) {
            int r = l.rotaryDim();
            float[] invFreq = new float[r / 2];
            float[] scale = new float[r / 2];
            for (int k = 0; k < r / 2; k++) {
                // computed in float32, as x-transformers' buffers are
                invFreq[k] = 1f / (float) Math.pow(10000f, (float) (2 * k) / r);
                scale[k] = (2f * k + 0.4f * r) / (1.4f * r);
            }
            out.put(prefix + "attn_layers.rotary_pos_emb.inv_freq", invFreq);
            if (l.rotaryXpos()) {
                out.put(prefix + "attn_layers.rotary_pos_emb.scale", scale);
            }
        }
        return out;
    }

    private boolean isBuffer(String name) {
        return name.equals(prefix + "attn_layers.rotary_pos_emb.inv_freq") || name.equals(prefix + "attn_layers.rotary_pos_emb.scale");
    }

    /** Converts one tensor between x-transformers' query-head order and attn4j's. */
    private float[] toHeadOrder(String name, float[] v, boolean toReference) {
        if (headOrder.identity()) {
            return v;
        }
        LayersConfig l = config.attnLayers();
        if (name.endsWith(".to_q.weight")) {
            return headOrder.permuteRows(v, l.dimHead(), l.dim(), toReference);
        }
        if (name.endsWith(".to_out.weight")) {
            return headOrder.permuteColumnBlocks(v, l.dim(), l.dimHead(), toReference);
        }
        if (name.endsWith("rel_pos.relative_attention_bias.weight")) {
            return headOrder.permuteColumns(v, l.relPosNumBuckets(), toReference);
        }
        return v;
    }

    @Override
    public void close() {
        if (ownsStore) {
            store.close();
        }
    }
}
