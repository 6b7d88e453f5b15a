package dev.attn4j.domain.model;

import dev.attn4j.domain.generation.Generator;
import dev.attn4j.domain.generation.Sampling;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The high-level entry point a product embeds: a decoder-only language model on a backend, with logits, the
 * next-token loss and its gradients for batches of token ids (padded with a keep mask), and generation. Everything
 * else ({@link Transformer}, {@link dev.attn4j.domain.layers.Step}, the ports) stays reachable for finer control.
 *
 * <pre>{@code
 * try (Backend backend = Backends.open();
 *      LanguageModel lm = LanguageModel.load(backend, "orca", Path.of("orca.safetensors"))) {
 *     float[] logits = lm.logits(new int[][] {{1, 2, 3}});                 // [1, 3, 20000]
 *     double loss = lm.loss(new int[][] {{1, 2, 3, 4}}, null);
 *     int[] next = lm.generate(new int[] {1, 2, 3}, 16, Sampling.greedy());
 * }
 * }</pre>
 */
public final class LanguageModel implements AutoCloseable {
    private final Transformer model;

    private LanguageModel(Transformer model) {
        this.model = model;
    }

    /**
     * A model of a preset ({@code orca}, {@code gpt}) or a JSON configuration file, with weights from a safetensors
     * file in x-transformers' names ({@code model.state_dict()}), or freshly initialised when {@code weights} is null.
     *
     * @param backend      where it runs
     * @param presetOrJson a preset name or the path of a configuration JSON file
     * @param weights      the weights file, or {@code null}
     * @return the model (close it)
     */
    public static LanguageModel load(Backend backend, String presetOrJson, Path weights) {
        ModelConfig config = ModelConfigs.load(presetOrJson);
        InvalidRequestException.check(config instanceof TransformerConfig t && t.attnLayers().causal(), "model",
                "a decoder-only model (a language model)", presetOrJson);
        Transformer model = Transformer.create(backend, (TransformerConfig) config, 0L);
        try {
            if (weights != null) {
                model.loadStateDict(read(weights));
            }
            return new LanguageModel(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * A freshly initialised model.
     *
     * @param backend where it runs
     * @param config  its configuration (a decoder)
     * @param seed    the initialisation seed
     * @return the model (close it)
     */
    public static LanguageModel create(Backend backend, TransformerConfig config, long seed) {
        InvalidRequestException.check(config.attnLayers().causal(), "config", "a decoder", "an encoder");
        return new LanguageModel(Transformer.create(backend, config, seed));
    }

    /**
     * Reads a weights file into a state dict.
     *
     * @param weights a safetensors file
     * @return its tensors as floats, by name
     */
    static Map<String, float[]> read(Path weights) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            r.entries().forEach(e -> out.put(e.name(), r.readFloats(e.name())));
        }
        return out;
    }

    /** {@return the underlying model} */
    public Transformer model() {
        return model;
    }

    private Backend backend() {
        return model.parameters().backend();
    }

    /**
     * The logits of every position.
     *
     * @param ids rows of token ids, all of one length
     * @return {@code [B, S, V]}, row-major
     */
    public float[] logits(int[][] ids) {
        TokenBatch batch = batch(ids, null);
        try (Step step = Step.inference(backend())) {
            return backend().tensors().download(model.logits(step, model.forward(step, batch, false)));
        }
    }

    /**
     * The mean next-token cross-entropy over the kept targets of the whole batch, as x-transformers'
     * {@code AutoregressiveWrapper} computes it with −100 at padded targets.
     *
     * @param ids  rows of token ids, all of one length
     * @param keep per row, true for real tokens; {@code null} when nothing is padded
     * @return the loss
     */
    public double loss(int[][] ids, boolean[][] keep) {
        TokenBatch batch = batch(ids, keep);
        int[] targets = targets(batch);
        try (Step step = Step.inference(backend())) {
            Transformer.Loss l = model.loss(step, model.forward(step, batch, false), targets);
            return (double) backend().tensors().download(l.sum())[0] / backend().tensors().download(l.count())[0];
        }
    }

    /**
     * The gradient of {@link #loss} with respect to every parameter, in x-transformers' names and head order.
     *
     * @param ids  rows of token ids, all of one length
     * @param keep per row, true for real tokens; {@code null} when nothing is padded
     * @return parameter name to gradient
     */
    public Map<String, float[]> gradients(int[][] ids, boolean[][] keep) {
        TokenBatch batch = batch(ids, keep);
        int[] targets = targets(batch);
        long counted = java.util.Arrays.stream(targets).filter(t -> t != -100).count();
        InvalidRequestException.check(counted > 0, "ids", "at least one kept target", "none");
        model.parameters().zeroGrads();
        try (Step step = Step.training(backend(), 0L, 0L)) {
            model.lossAndBackward(step, model.forward(step, batch, true), targets, 1f / counted);
        }
        Map<String, float[]> grads = model.gradients();
        model.parameters().zeroGrads();
        return grads;
    }

    /**
     * Continues a prompt with the KV cache.
     *
     * @param prompt       token ids
     * @param maxNewTokens the most tokens to add
     * @param sampling     greedy or sampled
     * @return the new tokens
     */
    public int[] generate(int[] prompt, int maxNewTokens, Sampling sampling) {
        return Generator.generate(model, new int[][] {prompt}, maxNewTokens, sampling, OptionalInt.empty())[0];
    }

    private static TokenBatch batch(int[][] ids, boolean[][] keep) {
        InvalidRequestException.check(ids != null && ids.length > 0, "ids", "at least one row", ids == null ? "null" : 0);
        int s = ids[0].length;
        int[] flat = new int[Math.multiplyExact(ids.length, s)];
        boolean[] flags = keep == null ? null : new boolean[flat.length];
        for (int b = 0; b < ids.length; b++) {
            InvalidRequestException.check(ids[b].length == s, "ids", "rows of one length " + s, ids[b].length);
            System.arraycopy(ids[b], 0, flat, b * s, s);
            if (keep != null) {
                InvalidRequestException.check(keep.length == ids.length && keep[b].length == s, "keep",
                        "one flag per token", "another shape");
                System.arraycopy(keep[b], 0, flags, b * s, s);
            }
        }
        return keep == null ? TokenBatch.of(flat, ids.length, s) : TokenBatch.masked(flat, flags, ids.length, s);
    }

    /** Next-token targets aligned with the logits: ids[t + 1], −100 at padding and after each row's end. */
    private static int[] targets(TokenBatch batch) {
        int s = batch.seqLen();
        int[] ids = batch.ids();
        int[] t = new int[ids.length];
        for (int b = 0; b < batch.batch(); b++) {
            for (int i = 0; i < s; i++) {
                t[b * s + i] = i == s - 1 || !batch.kept(b, i + 1) ? -100 : ids[b * s + i + 1];
            }
        }
        return t;
    }

    @Override
    public void close() {
        model.close();
    }
}
