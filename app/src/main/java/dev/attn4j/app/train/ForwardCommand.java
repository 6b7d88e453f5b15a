package dev.attn4j.app.train;

import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.domain.data.Labels;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.EncoderDecoder;
import dev.attn4j.domain.model.ModelConfig;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.model.XTransformerConfig;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.safetensors.SafetensorsDType;
import dev.attn4j.domain.safetensors.SafetensorsFormatException;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.domain.safetensors.TensorEntry;
import dev.attn4j.ports.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code attn4j forward}: one pass of a decoder-only model over token ids from a safetensors file, writing the
 * logits, the next-token loss as x-transformers' {@code AutoregressiveWrapper} computes it, and with
 * {@code --grads} every parameter's gradient of that loss, in x-transformers' names.
 *
 * <p>Input {@code T}: {@code ids} I32 {@code [B, S]} and optionally {@code mask} U8 or BOOL {@code [B, S]}
 * (1 = keep; padded keys are masked out). Output {@code O}: {@code logits} F32 {@code [B, S, V]} (every position),
 * {@code loss} F32 {@code [1]}: the mean cross-entropy of {@code logits[:, t]} against {@code ids[:, t+1]} over
 * the targets whose mask is 1 (the wrapper's {@code ignore_index} −100 elsewhere), and {@code grad.<name>} F32
 * for every parameter with {@code --grads}.
 *
 * <p>An encoder–decoder configuration ({@code XTransformer}) reads {@code src} I32 {@code [B, Ss]} with optionally
 * {@code src_mask} (the encoder's padding, also masking the cross-attention's keys) and {@code tgt} I32
 * {@code [B, St]} with optionally {@code tgt_mask}; the decoder runs on every {@code tgt} token (XTransformer has no
 * decoder padding mask) and {@code tgt_mask} only takes targets out of the loss, as XTransformer's forward does with
 * {@code tgt} masked to −100. {@code logits} are the decoder's {@code [B, St, V]}.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run a model on token ids from a safetensors file; write logits, loss (and gradients).")
public final class ForwardCommand implements Callable<Integer> {
    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "CONFIG",
            description = "A preset (orca, gpt, t5) or a JSON file with the TransformerWrapper or XTransformer call.")
    String model;

    @Option(names = "--weights", required = true, paramLabel = "W.safetensors",
            description = "Weights in x-transformers' state_dict names.")
    Path weights;

    @Option(names = "--tokens", required = true, paramLabel = "T.safetensors",
            description = "ids (I32 [B, S]) and optionally mask (U8 or BOOL [B, S], 1 = keep); for an encoder-decoder "
                    + "src and tgt (I32), optionally src_mask and tgt_mask.")
    Path tokens;

    @Option(names = "--out", required = true, paramLabel = "O.safetensors",
            description = "Where to write logits, loss (and grad.<name>).")
    Path output;

    @Option(names = "--grads", description = "Also write the gradient of the loss for every parameter.")
    boolean grads;

    @Option(names = "--backend", paramLabel = "NAME", description = "Backend to run on (default: the selected one).")
    String backend;

    /** A command taking its backends from {@code env}. */
    public ForwardCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        if (!Files.isRegularFile(weights)) {
            bad("--weights: no such file: " + weights);
        }
        if (!Files.isRegularFile(tokens)) {
            bad("--tokens: no such file: " + tokens);
        }
        ModelConfig loaded = Models.config(model);
        if (loaded instanceof XTransformerConfig seq2seq) {
            return encoderDecoder(seq2seq);
        }
        TransformerConfig config = Models.decoder(model);
        Ids in;
        try (SafetensorsReader r = openTokens()) {
            in = readIds(r, "ids", "mask", config.numTokens());
        }
        int rows = in.rows();
        int seq = in.seq();
        int[] ids = in.ids();
        boolean[] keep = in.keep();
        int[] targets = targets(ids, keep, rows, seq);
        long count = Labels.countTrained(targets);
        if (count == 0) {
            bad("--tokens: no target to score (S must be at least 2 and some mask[:, 1:] must be 1)");
        }
        TokenBatch batch = in.batch();
        SafetensorsWriter w = SafetensorsWriter.create();
        String backendName;
        float loss;
        try (Backend b = Models.backend(spec.commandLine(), env.selector().get(), backend);
             Transformer m = Models.create(b, config, weights, 0L);
             Step step = grads ? Step.training(b, 0L, 0L) : Step.inference(b)) {
            backendName = b.name();
            Transformer.Pass pass = m.forward(step, batch, grads);
            float[] logits = b.tensors().download(m.logits(step, pass));
            w.f32("logits", logits, rows, seq, config.numTokens());
            Transformer.Loss l = grads ? m.lossAndBackward(step, pass, targets, (float) (1.0 / count))
                    : m.loss(step, pass, targets);
            loss = (float) (b.tensors().download(l.sum())[0] / (double) count);
            if (grads) {
                ParameterStore store = m.parameters();
                for (Map.Entry<String, float[]> g : m.gradients().entrySet()) {
                    w.f32("grad." + g.getKey(), g.getValue(), store.get(g.getKey()).shape().dims());
                }
            }
        }
        return finish(w, backendName, loss, count, "mean next-token cross-entropy over targets with mask 1 (AutoregressiveWrapper)");
    }

    /** Adds the loss and the metadata to {@code w}, writes it to {@code --out} and reports the loss. */
    private Integer finish(SafetensorsWriter w, String backendName, float loss, long count, String lossMeaning) {
        w.f32("loss", new float[] {loss}, 1);
        w.metadata("backend", backendName).metadata("model", model).metadata("tokens", Long.toString(count))
                .metadata("loss", lossMeaning);
        w.write(output);
        env.out().printf(Locale.ROOT, "%s on %s: loss %.6f over %d targets; wrote %s%n", model, backendName, loss, count,
                output);
        return ExitCodes.OK;
    }

    /** The encoder–decoder form: {@code src}, {@code tgt} and their masks in; the decoder's logits and loss out. */
    private Integer encoderDecoder(XTransformerConfig config) {
        Ids src;
        Ids tgt;
        try (SafetensorsReader r = openTokens()) {
            src = readIds(r, "src", "src_mask", config.encoder().numTokens());
            tgt = readIds(r, "tgt", "tgt_mask", config.decoder().numTokens());
        }
        if (src.rows() != tgt.rows()) {
            bad("--tokens: 'src' and 'tgt' must have the same batch size B, got " + src.rows() + " and " + tgt.rows());
        }
        int rows = tgt.rows();
        int seq = tgt.seq();
        int[] targets = targets(tgt.ids(), tgt.keep(), rows, seq);
        long count = Labels.countTrained(targets);
        if (count == 0) {
            bad("--tokens: no target to score (St must be at least 2 and some tgt_mask[:, 1:] must be 1)");
        }
        TokenBatch source = src.batch();
        TokenBatch target = TokenBatch.of(tgt.ids(), rows, seq);
        int vocab = config.decoder().numTokens();
        SafetensorsWriter w = SafetensorsWriter.create();
        String backendName;
        float loss;
        try (Backend b = Models.backend(spec.commandLine(), env.selector().get(), backend);
             EncoderDecoder m = Models.create(b, config, weights, 0L);
             Step step = grads ? Step.training(b, 0L, 0L) : Step.inference(b)) {
            backendName = b.name();
            EncoderDecoder.Pass pass = m.forward(step, source, target, grads);
            w.f32("logits", b.tensors().download(m.logits(step, pass)), rows, seq, vocab);
            Transformer.Loss l = grads ? m.lossAndBackward(step, pass, targets, (float) (1.0 / count))
                    : m.decoder().loss(step, pass.decoder(), targets);
            loss = (float) (b.tensors().download(l.sum())[0] / (double) count);
            if (grads) {
                ParameterStore store = m.parameters();
                for (Map.Entry<String, float[]> g : m.gradients().entrySet()) {
                    w.f32("grad." + g.getKey(), g.getValue(), store.get(g.getKey()).shape().dims());
                }
            }
        }
        return finish(w, backendName, loss, count,
                "mean next-token cross-entropy of the decoder over targets with tgt_mask 1 (XTransformer)");
    }

    /** Token ids {@code [rows, seq]} and their optional padding mask (true = keep). */
    private record Ids(int[] ids, boolean[] keep, int rows, int seq) {
        TokenBatch batch() {
            return keep == null ? TokenBatch.of(ids, rows, seq) : TokenBatch.masked(ids, keep, rows, seq);
        }
    }

    /** The I32 {@code [B, S]} tensor {@code name} with ids below {@code vocab}, and its mask {@code maskName} if present. */
    private Ids readIds(SafetensorsReader r, String name, String maskName, int vocab) {
        if (!r.contains(name)) {
            bad("--tokens: " + tokens + " has no '" + name + "' tensor");
        }
        TensorEntry e = r.entry(name);
        if (e.dtype() != SafetensorsDType.I32 || e.rank() != 2 || e.elementCount() == 0) {
            bad("--tokens: '" + name + "' must be I32 [B, S] with B, S >= 1, got " + e.dtype() + Arrays.toString(e.shape()));
        }
        int[] ids = r.readInts(name);
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                bad("--tokens: " + name + " must lie in [0, " + vocab + "), found " + id);
            }
        }
        boolean[] keep = null;
        if (r.contains(maskName)) {
            TensorEntry m = r.entry(maskName);
            if (!Arrays.equals(m.shape(), e.shape())
                    || (m.dtype() != SafetensorsDType.U8 && m.dtype() != SafetensorsDType.BOOL)) {
                bad("--tokens: '" + maskName + "' must be U8 or BOOL " + Arrays.toString(e.shape()) + " (as " + name
                        + "), got " + m.dtype() + Arrays.toString(m.shape()));
            }
            byte[] raw = r.readBytes(maskName);
            keep = new boolean[raw.length];
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] != 0 && raw[i] != 1) {
                    bad("--tokens: '" + maskName + "' values must be 0 or 1, found " + (raw[i] & 0xFF) + " at " + i);
                }
                keep[i] = raw[i] == 1;
            }
        }
        return new Ids(ids, keep, e.shape()[0], e.shape()[1]);
    }

    private SafetensorsReader openTokens() {
        try {
            return SafetensorsReader.open(tokens);
        } catch (SafetensorsFormatException e) {
            throw new ParameterException(spec.commandLine(), "--tokens: " + e.getMessage(), e);
        }
    }

    /** AutoregressiveWrapper's targets aligned with the logits: {@code ids[t+1]} where kept, −100 elsewhere and last. */
    static int[] targets(int[] ids, boolean[] keep, int rows, int seq) {
        int[] labels = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            labels[i] = keep == null || keep[i] ? ids[i] : Labels.IGNORE_INDEX;
        }
        return Labels.nextTokenTargets(labels, rows, seq);
    }

    private void bad(String message) {
        throw new ParameterException(spec.commandLine(), message);
    }
}
