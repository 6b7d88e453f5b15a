package dev.attn4j.conformance.training;

import dev.attn4j.domain.data.DataLoader;
import dev.attn4j.domain.data.Example;
import dev.attn4j.domain.data.Packer;
import dev.attn4j.domain.data.Packing;
import dev.attn4j.domain.data.PackingOptions;
import dev.attn4j.domain.data.PackedRow;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.NeftuneScaling;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.parameters.Grouping;
import dev.attn4j.domain.parameters.Init;
import dev.attn4j.domain.parameters.ParameterRole;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.training.AdamW;
import dev.attn4j.domain.training.AdamWOptions;
import dev.attn4j.domain.training.CheckpointStore;
import dev.attn4j.domain.training.LogRecord;
import dev.attn4j.domain.training.MicroBatch;
import dev.attn4j.domain.training.ScheduleKind;
import dev.attn4j.domain.training.Trainer;
import dev.attn4j.domain.training.TrainingConfig;
import dev.attn4j.domain.training.TrainingData;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the trainer promises beyond matching PyTorch: gradient accumulation over {@code k} micro-batches is one
 * batch of all their rows, clipping, NEFTune's noise (its bound for both scalings, its statistics, the Philox
 * stream it comes from, none in evaluation), a packed row scores each document as if it ran alone, and the same
 * seed gives bit-identical losses, also across a checkpoint and resume.
 */
class TrainerBehaviourTest {
    /** A small Orca-configured decoder (DeepNorm, ALiBi on half the heads, rotary xPos, token shift, one KV head). */
    static final String ORCA_TINY = """
            {"num_tokens": 53, "max_seq_len": 64, "use_abs_pos_emb": false,
             "attn_layers": {"kind": "decoder", "dim": 32, "depth": 2, "heads": 4, "alibi_pos_bias": true,
                             "alibi_num_heads": 2, "rotary_xpos": true, "deepnorm": true, "shift_tokens": 1,
                             "attn_one_kv_head": true, "attn_dim_head": 32}}
            """;
    /** A GPT-style pre-norm decoder (rotary, GQA, SwiGLU, RMSNorm). */
    static final String GPT_TINY = """
            {"num_tokens": 53, "max_seq_len": 64, "use_abs_pos_emb": false,
             "attn_layers": {"kind": "decoder", "dim": 32, "depth": 2, "heads": 4, "attn_kv_heads": 2,
                             "attn_dim_head": 32, "rotary_pos_emb": true, "use_rmsnorm": true, "ff_glu": true,
                             "ff_swish": true, "ff_mult": 2}}
            """;

    @TempDir
    Path dir;

    static TransformerConfig config(String json) {
        return (TransformerConfig) ModelConfigs.parse(json);
    }

    /**
     * Prompt/completion-like examples of varied lengths (a loss on the second half only), so packed rows hold
     * documents of different sizes and micro-batches hold different numbers of trained tokens.
     */
    static List<Example> examples(int count, long seed, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = 3 + r.nextInt(12);
            int[] ids = new int[n];
            int[] labels = new int[n];
            for (int t = 0; t < n; t++) {
                ids[t] = 1 + r.nextInt(vocab - 1);
                labels[t] = t < n / 2 ? -100 : ids[t];
            }
            out.add(new Example(ids, labels, "synthetic:" + i));
        }
        return out;
    }

    static List<PackedRow> rows(Packing packing, int count, long seed) {
        return Packer.pack(examples(count, seed, 53), PackingOptions.of(packing, 24)).rows();
    }

    static TrainingConfig config(long steps, int accumulation) {
        return TrainingConfig.of(steps, 2e-3).gradientAccumulation(accumulation).schedule(ScheduleKind.COSINE, 2)
                .adamW(AdamWOptions.defaults().weightDecay(0.05).maxGradNorm(0.5)).seed(11);
    }

    // ------------------------------------------------------------------------------------------ accumulation

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, OptimizerCapabilities.class,
            RandomCapabilities.class, NormCapabilities.class, AttentionCapabilities.class, RotaryCapabilities.class})
    void fourMicroBatchesOfTwoRowsAreOneBatchOfEight(Backend backend) {
        List<PackedRow> rows = rows(Packing.GREEDY_ZERO_PADDING, 40, 3);
        assertTrue(rows.size() >= 16, "two steps of 8 rows");
        // the micro-batches hold different numbers of trained tokens: a per-micro-batch mean would differ
        DataLoader small = DataLoader.inOrder(rows, 2, false);
        long first = MicroBatch.of(small.batch(small.start()), true).trainedTokens();
        long second = MicroBatch.of(small.batch(small.next(small.start())), true).trainedTokens();
        assertNotEquals(first, second);

        Run big = train(backend, GPT_TINY, config(3, 1), DataLoader.inOrder(rows, 8, false), true);
        Run split = train(backend, GPT_TINY, config(3, 4), small, true);
        for (int s = 0; s < 3; s++) {
            LogRecord a = big.logs.get(s);
            LogRecord b = split.logs.get(s);
            assertEquals(a.trainedTokens(), b.trainedTokens());
            assertEquals(a.loss(), b.loss(), 1e-5 * a.loss(), "loss of step " + (s + 1));
            // the gradient norm says the scale is the same: the mean over the step's tokens, not per micro-batch
            assertEquals(a.gradNorm(), b.gradNorm(), 1e-5 * a.gradNorm(), "grad norm of step " + (s + 1));
        }
        for (Map.Entry<String, float[]> e : big.weights.entrySet()) {
            float[] w = split.weights.get(e.getKey());
            for (int i = 0; i < w.length; i++) {
                assertEquals(e.getValue()[i], w[i], 1e-5, e.getKey() + "[" + i + "]");
            }
        }
    }

    record Run(List<LogRecord> logs, Map<String, float[]> weights) {
    }

    static Run train(Backend backend, String json, TrainingConfig tc, DataLoader loader, boolean packed) {
        try (Transformer model = Transformer.create(backend, config(json), 5L);
             Trainer trainer = new Trainer(model, tc, new TrainingData(loader, packed, null))) {
            Trainer.Result r = trainer.run();
            return new Run(r.logs(), model.stateDict());
        }
    }

    // ---------------------------------------------------------------------------------------------- clipping

    /**
     * AdamW is nearly blind to the gradient's scale (m/√v), so the test takes ε = 0.5, of the gradients' size: then
     * the update depends on the scale, and clipping by {@code maxNorm/‖g‖} must give what the unclipped optimizer
     * gives on the gradients multiplied by that factor.
     */
    @EachBackend(ports = {OptimizerCapabilities.class})
    void clippingScalesByMaxNormOverTheGlobalNormAndLeavesSmallGradientsAlone(Backend backend) {
        List<ParameterSpec> specs = List.of(new ParameterSpec("w", Shape.of(3, 4), ParameterRole.WEIGHT, Init.ones()),
                new ParameterSpec("b", Shape.of(4), ParameterRole.BIAS, Init.ones()));
        float[] gw = new float[12];
        float[] gb = new float[4];
        for (int i = 0; i < 12; i++) {
            gw[i] = (i % 3 - 1) * 0.5f + 0.25f;
        }
        for (int i = 0; i < 4; i++) {
            gb[i] = 1.5f - i;
        }
        double norm2 = 0;
        for (float g : gw) norm2 += g * g;
        for (float g : gb) norm2 += g * g;
        double norm = Math.sqrt(norm2);
        double maxNorm = norm / 4;
        // clip_grad_norm_'s factor, in fp32 as PyTorch computes it
        float factor = Math.min(1f, (float) maxNorm / ((float) Math.sqrt(norm2) + 1e-6f));
        float[] scaledW = gw.clone();
        float[] scaledB = gb.clone();
        for (int i = 0; i < 12; i++) scaledW[i] *= factor;
        for (int i = 0; i < 4; i++) scaledB[i] *= factor;
        AdamWOptions base = AdamWOptions.defaults().eps(0.5).weightDecay(0.1);
        Map<String, float[]> clipped = twoSteps(backend, specs, gw, gb, base.maxGradNorm(maxNorm), norm2);
        Map<String, float[]> byHand = twoSteps(backend, specs, scaledW, scaledB, base.maxGradNorm(0), -1);
        Map<String, float[]> none = twoSteps(backend, specs, gw, gb, base.maxGradNorm(0), -1);
        for (String n : List.of("w", "b")) {
            float[] a = clipped.get(n);
            float[] h = byHand.get(n);
            for (int i = 0; i < a.length; i++) {
                assertEquals(h[i], a[i], 1e-6f, n + "[" + i + "]");
                assertTrue(Math.abs(a[i] - none.get(n)[i]) > 1e-3, "clipping changed " + n + "[" + i + "]");
            }
        }
        // a threshold above the norm changes nothing, bit for bit
        Map<String, float[]> loose = twoSteps(backend, specs, gw, gb, base.maxGradNorm(norm * 2), norm2);
        assertArrayEquals(none.get("w"), loose.get("w"));
        assertArrayEquals(none.get("b"), loose.get("b"));
    }

    /** Two AdamW steps with the same gradients; checks the squared norm the optimizer summed when clipping. */
    static Map<String, float[]> twoSteps(Backend backend, List<ParameterSpec> specs, float[] gw, float[] gb,
                                         AdamWOptions options, double norm2) {
        try (ParameterStore store = ParameterStore.allocate(backend, specs, Grouping.decay(), s -> true, 1L);
             AdamW adamW = AdamW.create(store, options)) {
            for (int t = 0; t < 2; t++) {
                TrainingFixtureTest.setGrad(backend, store, "w", gw);
                TrainingFixtureTest.setGrad(backend, store, "b", gb);
                adamW.step(0.1);
                if (options.clipping()) {
                    float summed = backend.tensors().download(adamW.gradNormSquared())[0];
                    assertEquals(norm2, summed, 1e-5 * norm2, "sum of squares over both groups");
                } else {
                    assertEquals(null, adamW.gradNormSquared());
                }
            }
            return Map.of("w", store.value("w"), "b", store.value("b"));
        }
    }

    // ---------------------------------------------------------------------------------------------- NEFTune

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, OptimizerCapabilities.class,
            RandomCapabilities.class, NormCapabilities.class, AttentionCapabilities.class, RotaryCapabilities.class})
    void neftuneNoiseHasItsBoundAndStatisticsInTrainingAndIsAbsentInEvaluation(Backend backend) {
        TransformerConfig c = config(GPT_TINY);
        int b = 4;
        int s = 24;
        int[] ids = new int[b * s];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(53);
        TokenBatch batch = TokenBatch.of(ids, b, s);
        double alpha = 5.0;
        try (Transformer model = Transformer.create(backend, c, 3L)) {
            float[] clean;
            try (Step eval = Step.inference(backend)) {
                model.neftune(alpha);
                clean = backend.tensors().download(model.forward(eval, batch, false).embedded());
            }
            for (NeftuneScaling scaling : NeftuneScaling.values()) {
                model.neftune(alpha, scaling);
                double m = scaling == NeftuneScaling.HUGGING_FACE ? alpha / Math.sqrt(s * 32.0) : alpha / Math.sqrt(b * s);
                assertEquals((float) m, scaling.magnitude(alpha, b, s, 32));
                long offset = Trainer.randomOffset(7, 2, 1);
                float[] noisy;
                try (Step train = Step.training(backend, 99L, offset)) {
                    noisy = backend.tensors().download(model.forward(train, batch, false).embedded());
                }
                // the noise is the Philox uniform fill of (seed, the pass's first offset), added once
                float[] expected;
                try (DeviceTensor noise = backend.tensors().allocate(Shape.of(b, s, 32), DType.F32)) {
                    backend.random().uniform(new UniformRequest(noise, (float) -m, (float) m, 99L, offset));
                    expected = backend.tensors().download(noise);
                }
                double sum = 0;
                double sq = 0;
                double max = 0;
                for (int i = 0; i < noisy.length; i++) {
                    assertEquals(clean[i] + expected[i], noisy[i], 0f, "element " + i);
                    double d = expected[i];
                    sum += d;
                    sq += d * d;
                    max = Math.max(max, Math.abs(d));
                }
                int n = noisy.length;
                double mean = sum / n;
                double var = sq / n - mean * mean;
                assertTrue(max <= m, scaling + ": |noise| <= m = " + m + ", got " + max);
                assertTrue(max > 0.95 * m, scaling + ": the noise reaches near its bound (" + max + " of " + m + ")");
                // U(−m, m): mean 0 (sd m/√(3n)), variance m²/3 (sd of the estimate ≈ m²·0.3/√n)
                assertEquals(0, mean, 5 * m / Math.sqrt(3.0 * n), scaling + " mean");
                assertEquals(m * m / 3, var, 5 * 0.3 * m * m / Math.sqrt(n), scaling + " variance");
            }
            // evaluation passes never add noise, whatever alpha is
            try (Step eval = Step.inference(backend)) {
                assertArrayEquals(clean, backend.tensors().download(model.forward(eval, batch, false).embedded()));
            }
            // alpha 0 in training: no noise either
            model.neftune(0);
            try (Step train = Step.training(backend, 99L, 0L)) {
                assertArrayEquals(clean, backend.tensors().download(model.forward(train, batch, false).embedded()));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ packing

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, OptimizerCapabilities.class,
            RandomCapabilities.class, NormCapabilities.class, AttentionCapabilities.class, RotaryCapabilities.class})
    void aPackedRowScoresEachDocumentAsIfItRanAlone(Backend backend) {
        List<Example> docs = examples(9, 21, 53);
        List<PackedRow> packed = Packer.pack(docs, PackingOptions.of(Packing.ZERO_PADDING, 40)).rows();
        assertTrue(packed.stream().anyMatch(p -> p.docLengths().length >= 3), "rows with several documents");
        try (Transformer model = Transformer.create(backend, config(ORCA_TINY), 8L)) {
            MicroBatch mb = MicroBatch.of(new dev.attn4j.domain.data.Batch(packed), true);
            float[] together;
            try (Step step = Step.inference(backend)) {
                together = model.tokenLosses(step, model.forward(step, mb.tokens(), false), mb.targets());
            }
            int length = 40;
            int checked = 0;
            for (int r = 0; r < packed.size(); r++) {
                PackedRow row = packed.get(r);
                int at = 0;
                for (int d = 0; d < row.docLengths().length; d++) {
                    Example e = docs.get(row.examples()[d]);
                    int n = e.length();
                    // alone: the document as its own unpadded row, the same targets (its first label is never one)
                    int[] targets = dev.attn4j.domain.data.Labels.nextTokenTargets(e.labels());
                    float[] alone;
                    try (Step step = Step.inference(backend)) {
                        alone = model.tokenLosses(step, model.forward(step, TokenBatch.of(e.inputIds(), 1, n), false),
                                targets);
                    }
                    for (int t = 0; t < n; t++) {
                        float inRow = together[r * length + at + t];
                        if (targets[t] == -100) {
                            assertEquals(0f, inRow, "no loss where nothing is scored");
                        } else {
                            assertEquals(alone[t], inRow, 2e-5 * Math.max(1, Math.abs(alone[t])),
                                    "row " + r + " document " + d + " token " + t);
                            checked++;
                        }
                    }
                    at += n;
                }
            }
            assertTrue(checked > 20, "enough scored tokens compared: " + checked);
        }
    }

    // ------------------------------------------------------------------------------- reproducibility, resume

    static TrainingConfig resumable(long steps) {
        // logging every 2 steps puts the stop at step 5 inside a log window: its loss sum must survive the resume
        return config(steps, 2).neftune(4.0, NeftuneScaling.HUGGING_FACE).every(2, 2, 3).keep(10);
    }

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, OptimizerCapabilities.class,
            RandomCapabilities.class, NormCapabilities.class, AttentionCapabilities.class, RotaryCapabilities.class})
    void resumingFromACheckpointContinuesBitForBit(Backend backend) {
        List<PackedRow> rows = rows(Packing.GREEDY_ZERO_PADDING, 30, 4);
        List<PackedRow> evalRows = rows(Packing.GREEDY_ZERO_PADDING, 6, 44);
        long steps = 8;
        Outcome straight = run(backend, rows, evalRows, resumable(steps), dir.resolve("straight"), false, steps);
        Outcome again = run(backend, rows, evalRows, resumable(steps), dir.resolve("again"), false, steps);
        assertEquals(straight.losses, again.losses, "same seed, data and backend: the same losses");
        // half, then a fresh model and trainer resume from the newest checkpoint (step 3... stops at 5)
        Outcome half = run(backend, rows, evalRows, resumable(steps), dir.resolve("resumed"), false, 5);
        assertEquals(5, half.steps);
        Outcome rest = run(backend, rows, evalRows, resumable(steps), dir.resolve("resumed"), true, steps);
        assertEquals(steps, rest.steps);
        assertEquals(straight.losses, rest.losses, "every logged loss, before and after the resume, bit for bit");
        assertEquals(straight.evalLosses, rest.evalLosses, "evaluations too");
        for (Map.Entry<String, float[]> e : straight.weights.entrySet()) {
            assertArrayEquals(e.getValue(), rest.weights.get(e.getKey()), e.getKey());
        }
        // resuming under another trajectory is refused, naming what differs
        try (Transformer model = Transformer.create(backend, config(GPT_TINY), 5L);
             Trainer trainer = new Trainer(model, resumable(steps).seed(12),
                     new TrainingData(DataLoader.shuffled(rows, 2, 11, false), true, null))) {
            trainer.checkpoints(CheckpointStore.at(dir.resolve("resumed").resolve("checkpoints"), 10));
            InvalidRequestException e = assertThrows(InvalidRequestException.class, trainer::resume);
            assertEquals("training config seed: expected 11 (as when the checkpoint was saved), got 12", e.getMessage());
        }
    }

    record Outcome(long steps, List<Double> losses, List<Double> evalLosses, Map<String, float[]> weights) {
    }

    /**
     * Trains (resuming when asked) until {@code stopAt} steps, stopping there as a Ctrl-C would (a checkpoint is
     * written), with the data order shuffled by the seed.
     */
    static Outcome run(Backend backend, List<PackedRow> rows, List<PackedRow> evalRows, TrainingConfig tc, Path out,
                       boolean resume, long stopAt) {
        try (Transformer model = Transformer.create(backend, config(GPT_TINY), 5L);
             Trainer trainer = new Trainer(model, tc, new TrainingData(DataLoader.shuffled(rows, 2, tc.seed(), false),
                     true, DataLoader.inOrder(evalRows, 2, false)))) {
            trainer.checkpoints(CheckpointStore.at(out.resolve("checkpoints"), tc.keepCheckpoints()));
            if (resume) {
                assertEquals(5L, trainer.resume().orElseThrow(), "the newest checkpoint is the one written at the stop");
            }
            trainer.listener(new dev.attn4j.domain.training.TrainingListener() {
                @Override
                public void onStep(long step, double lr, long tokens) {
                    if (step == stopAt) {
                        trainer.requestStop();
                    }
                }
            });
            Trainer.Result r = trainer.run();
            return new Outcome(r.steps(), r.logs().stream().map(LogRecord::loss).toList(),
                    r.evals().stream().map(e -> e.loss()).toList(), model.stateDict());
        }
    }
}
