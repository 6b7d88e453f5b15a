package dev.attn4j.app.train;

import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.domain.data.Labels;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
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
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run a model on token ids from a safetensors file; write logits, loss (and gradients).")
public final class ForwardCommand implements Callable<Integer> {
    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "CONFIG",
            description = "A preset (orca, gpt) or a JSON file with the TransformerWrapper call.")
    String model;

    @Option(names = "--weights", required = true, paramLabel = "W.safetensors",
            description = "Weights in x-transformers' state_dict names.")
    Path weights;

    @Option(names = "--tokens", required = true, paramLabel = "T.safetensors",
            description = "ids (I32 [B, S]) and optionally mask (U8 or BOOL [B, S], 1 = keep).")
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
        TransformerConfig config = Models.decoder(model);
        int rows;
        int seq;
        int[] ids;
        boolean[] keep = null;
        try (SafetensorsReader r = openTokens()) {
            if (!r.contains("ids")) {
                bad("--tokens: " + tokens + " has no 'ids' tensor");
            }
            TensorEntry e = r.entry("ids");
            if (e.dtype() != SafetensorsDType.I32 || e.rank() != 2 || e.elementCount() == 0) {
                bad("--tokens: 'ids' must be I32 [B, S] with B, S >= 1, got " + e.dtype() + Arrays.toString(e.shape()));
            }
            rows = e.shape()[0];
            seq = e.shape()[1];
            ids = r.readInts("ids");
            for (int id : ids) {
                if (id < 0 || id >= config.numTokens()) {
                    bad("--tokens: ids must lie in [0, " + config.numTokens() + "), found " + id);
                }
            }
            if (r.contains("mask")) {
                TensorEntry m = r.entry("mask");
                if (!Arrays.equals(m.shape(), e.shape())
                        || (m.dtype() != SafetensorsDType.U8 && m.dtype() != SafetensorsDType.BOOL)) {
                    bad("--tokens: 'mask' must be U8 or BOOL " + Arrays.toString(e.shape()) + " (as ids), got "
                            + m.dtype() + Arrays.toString(m.shape()));
                }
                byte[] raw = r.readBytes("mask");
                keep = new boolean[raw.length];
                for (int i = 0; i < raw.length; i++) {
                    if (raw[i] != 0 && raw[i] != 1) {
                        bad("--tokens: 'mask' values must be 0 or 1, found " + (raw[i] & 0xFF) + " at " + i);
                    }
                    keep[i] = raw[i] == 1;
                }
            }
        }
        int[] targets = targets(ids, keep, rows, seq);
        long count = Labels.countTrained(targets);
        if (count == 0) {
            bad("--tokens: no target to score (S must be at least 2 and some mask[:, 1:] must be 1)");
        }
        TokenBatch batch = keep == null ? TokenBatch.of(ids, rows, seq) : TokenBatch.masked(ids, keep, rows, seq);
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
        w.f32("loss", new float[] {loss}, 1);
        w.metadata("backend", backendName).metadata("model", model).metadata("tokens", Long.toString(count))
                .metadata("loss", "mean next-token cross-entropy over targets with mask 1 (AutoregressiveWrapper)");
        w.write(output);
        env.out().printf(Locale.ROOT, "%s on %s: loss %.6f over %d targets; wrote %s%n", model, backendName, loss, count,
                output);
        return ExitCodes.OK;
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
