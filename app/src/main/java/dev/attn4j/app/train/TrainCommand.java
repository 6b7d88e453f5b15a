package dev.attn4j.app.train;

import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.console.Progress;
import dev.attn4j.domain.adapters.Adapter;
import dev.attn4j.domain.adapters.PeftModel;
import dev.attn4j.domain.data.BadRecordPolicy;
import dev.attn4j.domain.data.DataLoader;
import dev.attn4j.domain.data.JsonlDataset;
import dev.attn4j.domain.data.Packer;
import dev.attn4j.domain.data.Packing;
import dev.attn4j.domain.data.PackingOptions;
import dev.attn4j.domain.data.Tokenizer;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.NeftuneScaling;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.training.AdamWOptions;
import dev.attn4j.domain.training.CheckpointStore;
import dev.attn4j.domain.training.EvalRecord;
import dev.attn4j.domain.training.LogRecord;
import dev.attn4j.domain.training.ScheduleKind;
import dev.attn4j.domain.training.Trainer;
import dev.attn4j.domain.training.TrainingConfig;
import dev.attn4j.domain.training.TrainingData;
import dev.attn4j.domain.training.TrainedWeights;
import dev.attn4j.domain.training.TrainingListener;
import dev.attn4j.ports.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code attn4j train}: trains or fine-tunes a decoder-only model on JSON Lines data with the domain's
 * {@link Trainer} (docs/design.md §12): packing, gradient accumulation, AdamW with clipping, a warm-up schedule,
 * NEFTune, evaluation, crash-safe checkpoints in {@code OUT/checkpoints} and {@code --resume}. Writes
 * {@code OUT/train.json} and {@code OUT/train.html} at the end and after every evaluation. Ctrl-C (SIGINT/SIGTERM)
 * finishes the step in progress, writes a checkpoint and the reports, and exits.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train or fine-tune a decoder on JSONL data (packing, AdamW, warm-up schedule, NEFTune, "
                + "checkpoints, --resume).")
public final class TrainCommand implements Callable<Integer> {
    /** System property (a test hook): milliseconds the checkpoint writer sleeps between files, so kills land there. */
    public static final String CHECKPOINT_PAUSE_PROPERTY = "attn4j.train.checkpointPauseMillis";
    /** Sub-directory of {@code --out} holding the checkpoints. */
    public static final String CHECKPOINTS = "checkpoints";
    /** The subdirectory of {@code --out} a trained adapter is saved to, in PEFT's format. */
    public static final String ADAPTER_DIR = "adapter";
    /** The adapter's name in the model (PEFT's default). */
    static final String ADAPTER_NAME = "default";

    /** {@code --packing} values. */
    public enum PackingChoice {
        /** One example per row, padded. */
        NONE(Packing.NONE),
        /** PaddleNLP's zero padding (next-fit). */
        ZERO(Packing.ZERO_PADDING),
        /** PaddleNLP's greedy zero padding. */
        GREEDY(Packing.GREEDY_ZERO_PADDING),
        /**
         * Greedy zero padding with each group of examples placed longest first (not PaddleNLP's rule): on a
         * long-tailed length distribution at 2048 tokens a row it pads 0.7% of the slots where the plain rule pads
         * 7.2% (docs/benchmarks.md, pad ratio).
         */
        GREEDY_SORTED(Packing.GREEDY_ZERO_PADDING);

        final Packing packing;

        PackingChoice(Packing packing) {
            this.packing = packing;
        }

        PackingOptions options(int maxLength) {
            return PackingOptions.of(packing, maxLength).sortGroups(this == GREEDY_SORTED);
        }
    }

    /** {@code --neftune-scaling} values. */
    public enum ScalingChoice {
        /** Hugging Face's α/√(L·d). */
        HF(NeftuneScaling.HUGGING_FACE),
        /** PaddleNLP's α/√(B·L). */
        PADDLE(NeftuneScaling.PADDLE);

        final NeftuneScaling scaling;

        ScalingChoice(NeftuneScaling scaling) {
            this.scaling = scaling;
        }
    }

    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "CONFIG",
            description = "A preset (orca, gpt) or a JSON file with the TransformerWrapper call.")
    String model;

    @Option(names = "--weights", paramLabel = "W.safetensors",
            description = "Initial weights in x-transformers' state_dict names (default: a fresh init from --seed).")
    Path weights;

    @Option(names = "--data", required = true, paramLabel = "TRAIN.jsonl", description = "Training records.")
    Path data;

    @Option(names = "--eval", paramLabel = "EVAL.jsonl", description = "Evaluation records.")
    Path eval;

    @Option(names = "--tokenizer", paramLabel = "byte|TOKENIZER.json", defaultValue = Models.BYTE,
            description = "The built-in byte tokenizer or a Hugging Face tokenizer.json. Default: ${DEFAULT-VALUE}.")
    String tokenizer;

    @Option(names = "--max-length", required = true, paramLabel = "N", description = "Tokens per row.")
    int maxLength;

    @Option(names = "--packing", defaultValue = "greedy", paramLabel = "none|zero|greedy|greedy_sorted",
            description = "Packing of examples into rows. Default: ${DEFAULT-VALUE}.")
    PackingChoice packing;

    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps (or --epochs).")
    Long steps;

    @Option(names = "--epochs", paramLabel = "E", description = "Epochs over the packed rows (or --steps).")
    Double epochs;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "B",
            description = "Rows per micro-batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", paramLabel = "K",
            description = "Micro-batches per optimizer step. Default: ${DEFAULT-VALUE}.")
    int gradAccum;

    @Option(names = "--lr", defaultValue = "5e-5", description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "STEPS",
            description = "Linear warm-up steps. Default: ${DEFAULT-VALUE}.")
    long warmup;

    @Option(names = "--schedule", defaultValue = "linear", paramLabel = "cosine|linear|constant",
            description = "Learning rate after warm-up. Default: ${DEFAULT-VALUE}.")
    ScheduleKind schedule;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay of weights and "
            + "embeddings (norms, biases and scales never decay). Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--beta1", defaultValue = "0.9", description = "AdamW beta1. Default: ${DEFAULT-VALUE}.")
    double beta1;

    @Option(names = "--beta2", defaultValue = "0.999", description = "AdamW beta2. Default: ${DEFAULT-VALUE}.")
    double beta2;

    @Option(names = "--eps", defaultValue = "1e-8", description = "AdamW eps. Default: ${DEFAULT-VALUE}.")
    double eps;

    @Option(names = "--clip", defaultValue = "1.0", paramLabel = "MAX_NORM",
            description = "Global gradient-norm clipping (0 = off). Default: ${DEFAULT-VALUE}.")
    double clip;

    @Option(names = "--neftune-alpha", defaultValue = "0", paramLabel = "A",
            description = "NEFTune noise alpha (0 = off). Default: ${DEFAULT-VALUE}.")
    double neftuneAlpha;

    @Option(names = "--neftune-scaling", defaultValue = "hf", paramLabel = "hf|paddle",
            description = "Noise bound alpha/sqrt(L*d) (hf) or alpha/sqrt(B*L) (paddle). Default: ${DEFAULT-VALUE}.")
    ScalingChoice neftuneScaling;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the init, the data order and the noise. "
            + "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--resume", description = "Continue from the newest complete checkpoint in DIR/checkpoints.")
    boolean resume;

    @Option(names = "--log-every", defaultValue = "10", paramLabel = "N",
            description = "Read and print the loss every N steps. Default: ${DEFAULT-VALUE}.")
    int logEvery;

    @Option(names = "--eval-every", defaultValue = "0", paramLabel = "N",
            description = "Evaluate every N steps (0: at the end). Default: ${DEFAULT-VALUE}.")
    int evalEvery;

    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "N",
            description = "Checkpoint every N steps (0: at the end and on Ctrl-C). Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--keep", defaultValue = "3", paramLabel = "K",
            description = "Complete checkpoints kept. Default: ${DEFAULT-VALUE}.")
    int keep;

    @Option(names = "--activation-checkpointing", description = "Recompute each block's activations in backward.")
    boolean activationCheckpointing;

    @Option(names = "--fuse-qkv", description = "Project q, k and v with one GEMM (Axolotl's flash_attn_fuse_qkv); "
            + "self-attention layers whose q/k/v carry an adapter keep three.")
    boolean fuseQkv;

    @Option(names = "--skip-bad-records", description = "Skip and count bad JSONL records instead of failing.")
    boolean skipBadRecords;

    @Option(names = "--backend", paramLabel = "NAME", description = "Backend to train on (default: the selected one).")
    String backend;

    @Mixin
    AdapterOptions adapter = new AdapterOptions();

    /** A command taking its backends from {@code env}. */
    public TrainCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        validate();
        TransformerConfig config = Models.decoder(model);
        Tokenizer tok = Models.tokenizer(tokenizer);
        Models.requireVocabulary(config, tok);
        if (maxLength > config.maxSeqLen()) {
            bad("--max-length: expected at most the model's max_seq_len " + config.maxSeqLen() + ", got " + maxLength);
        }
        requireFile("--data", data);
        if (eval != null) {
            requireFile("--eval", eval);
        }
        JsonlDataset.Options read = JsonlDataset.Options.defaults()
                .badRecords(skipBadRecords ? BadRecordPolicy.SKIP : BadRecordPolicy.FAIL);
        PackingOptions packOptions = packing.options(maxLength).padId(tok);
        Packer.Packed train = Packer.pack(read(data, tok, read).examples(), packOptions);
        DataLoader trainLoader = DataLoader.shuffled(train.rows(), batchSize, seed, false);
        DataLoader evalLoader = null;
        Packer.Packed evalPacked = null;
        if (eval != null) {
            evalPacked = Packer.pack(read(eval, tok, read).examples(), packOptions);
            evalLoader = DataLoader.inOrder(evalPacked.rows(), batchSize, false);
        }
        long totalSteps = steps != null ? steps : TrainingConfig.stepsForEpochs(epochs, trainLoader, gradAccum);
        TrainingConfig tc;
        try {
            tc = new TrainingConfig(totalSteps, gradAccum, lr, schedule, warmup,
                    new AdamWOptions(beta1, beta2, eps, weightDecay, clip), seed, neftuneAlpha, neftuneScaling.scaling,
                    logEvery, evalEvery, checkpointEvery, keep);
        } catch (dev.attn4j.ports.InvalidRequestException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        CheckpointStore store = CheckpointStore.at(out.resolve(CHECKPOINTS), keep)
                .pauseBetweenFiles(Long.getLong(CHECKPOINT_PAUSE_PROPERTY, 0L));
        if (!resume && !store.steps().isEmpty()) {
            bad("--out: " + store.directory() + " already holds checkpoints; pass --resume to continue them, or "
                    + "choose another directory");
        }
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("file", data.toString());
        facts.put("tokenizer", tok.toString());
        facts.put("packing", packing.name().toLowerCase(Locale.ROOT));
        facts.put("max_length", maxLength);
        facts.put("batch_size", batchSize);
        facts.put("examples", train.stats().packed());
        facts.put("rows", train.stats().rows());
        facts.put("pad_ratio", train.stats().padRatio());
        facts.put("truncated", train.stats().truncated());
        if (evalPacked != null) {
            facts.put("eval_file", eval.toString());
            facts.put("eval_rows", evalPacked.stats().rows());
        }
        PrintWriter o = env.out();
        o.printf(Locale.ROOT, "data: %d examples in %d rows of %d (%s packing, pad ratio %.1f%%), %d batch(es) of %d "
                        + "per epoch; %d steps of %d micro-batch(es)%n", train.stats().packed(), train.stats().rows(),
                maxLength, packing.name().toLowerCase(Locale.ROOT), 100 * train.stats().padRatio(),
                trainLoader.batchesPerEpoch(), batchSize, totalSteps, gradAccum);
        TrainingData trainingData = new TrainingData(trainLoader, packing != PackingChoice.NONE, evalLoader);
        try (Backend b = Models.backend(spec.commandLine(), env.selector().get(), backend);
             Transformer m = Models.create(b, config, weights, seed, !adapter.enabled());
             PeftModel peft = PeftModel.wrap(m)) {
            Adapter a = null;
            Trainer trainer;
            if (adapter.enabled()) {
                try {
                    a = peft.add(ADAPTER_NAME, adapter.config(model), seed);
                } catch (dev.attn4j.ports.InvalidRequestException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage(), e);
                }
                trainer = new Trainer(m, TrainedWeights.of(a.parameters()), tc, trainingData,
                        adapter.groups(a, weightDecay));
                o.printf(Locale.ROOT, "adapter: %s, %,d trainable parameters in %d layers%n",
                        adapter.kind.name().toLowerCase(Locale.ROOT), a.parameters().trainableCount(), a.layers().size());
            } else {
                trainer = new Trainer(m, tc, trainingData);
            }
            try (trainer) {
                return run(trainer, m, peft, a, b, config, store, facts, o);
            }
        }
    }

    private Integer run(Trainer trainer, Transformer m, PeftModel peft, Adapter a, Backend b, TransformerConfig config,
                        CheckpointStore store, Map<String, Object> facts, PrintWriter o) {
        m.stack().checkpoint(activationCheckpointing);
        m.stack().fuseQkv(fuseQkv);
        trainer.checkpoints(store);
        if (resume) {
            trainer.resume().ifPresentOrElse(s -> o.println("resumed from step " + s + " ("
                    + store.directory().resolve(CheckpointStore.name(s)) + ")"),
                    () -> o.println("no checkpoint in " + store.directory() + ": starting at step 0"));
        }
        o.printf(Locale.ROOT, "model: %s on %s, %,d parameters%n", model, b.name(), m.parameters().count());
        Integer code = train(trainer, b.name(), config, facts, o);
        if (a != null) {
            Path dir = out.resolve(ADAPTER_DIR);
            peft.save(ADAPTER_NAME, dir);
            o.println("adapter: " + dir + " (PEFT format: adapter_config.json, adapter_model.safetensors)");
        }
        return code;
    }

    private Integer train(Trainer trainer, String backendName, TransformerConfig config, Map<String, Object> facts,
                          PrintWriter o) {
        TrainingConfig tc = trainer.config();
        String modelJson = ModelConfigs.toJson(config);
        // Render a chart now: the first one loads AWT's fonts, which registers a shutdown hook, and hooks cannot be
        // added once Ctrl-C has started the shutdown in which the final report is written.
        TrainReport.chart(List.of(new LogRecord(0, 0, 1, 0, 0, 0, 0, 0, 0)), List.of());
        CountDownLatch finished = new CountDownLatch(1);
        AtomicBoolean signalled = new AtomicBoolean();
        Thread hook = new Thread(() -> {
            signalled.set(true);
            trainer.requestStop();
            try {
                // The JVM exits when the hooks return: wait for the checkpoint and the reports.
                finished.await(10, TimeUnit.MINUTES);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "attn4j-train-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Progress progress = env.progress().start("train", tc.steps())) {
            progress.stepTo(trainer.step());
            trainer.listener(new TrainingListener() {
                @Override
                public void onStep(long step, double lr, long tokens) {
                    progress.stepTo(step);
                }

                @Override
                public void onLog(LogRecord r) {
                    String line = String.format(Locale.ROOT, "loss %.4f lr %.2e %.0f tok/s", r.loss(), r.lr(),
                            r.tokensPerSecond());
                    progress.message(line);
                    o.printf(Locale.ROOT, "step %d/%d epoch %.2f loss %.4f lr %.3e grad-norm %.3f tok/s %.0f%n",
                            r.step(), tc.steps(), r.epoch(), r.loss(), r.lr(), r.gradNorm(), r.tokensPerSecond());
                }

                @Override
                public void onEval(EvalRecord r) {
                    o.printf(Locale.ROOT, "eval step %d loss %.4f perplexity %.3f (%d tokens, %.1f s)%n", r.step(),
                            r.loss(), r.perplexity(), r.trainedTokens(), r.seconds());
                    report(trainer, backendName, modelJson, facts, "running");
                }

                @Override
                public void onCheckpoint(long step, Path directory) {
                    o.println("checkpoint: " + directory);
                }
            });
            Trainer.Result result = trainer.run();
            String status = result.completed() ? "completed" : "stopped";
            report(trainer, backendName, modelJson, facts, status);
            o.printf(Locale.ROOT, "%s at step %d of %d in %.1f s; report: %s%n", status, result.steps(), tc.steps(),
                    result.seconds(), out.resolve(TrainReport.HTML_FILE));
            o.flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            if (signalled.get()) {
                // after Ctrl-C the JVM halts as soon as the hook returns, before the usual error line: say it now
                env.err().println("train: error: " + (e.getMessage() == null ? e : e.getMessage()));
                env.err().flush();
            }
            throw e;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // the JVM is shutting down (Ctrl-C): the hook is running and now returns
            }
        }
    }

    private void report(Trainer trainer, String backendName, String modelJson, Map<String, Object> facts, String status) {
        TrainReport.write(out, new TrainReport.Facts(model, modelJson, backendName, facts, trainer.config(), status,
                trainer.step()), trainer.logs(), trainer.evals(), ZonedDateTime.now());
    }

    private static JsonlDataset read(Path file, Tokenizer tok, JsonlDataset.Options options) {
        try {
            return JsonlDataset.read(file, tok, options);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private void validate() {
        if ((steps == null) == (epochs == null)) {
            bad("expected exactly one of --steps and --epochs");
        }
        if (steps != null && steps < 1) {
            bad("--steps: expected a positive number, got " + steps);
        }
        if (epochs != null && !(epochs > 0 && Double.isFinite(epochs))) {
            bad("--epochs: expected a positive number, got " + epochs);
        }
        positive("--max-length", maxLength);
        if (maxLength < 2) {
            bad("--max-length: expected at least 2 (a token and the one it predicts), got " + maxLength);
        }
        positive("--batch-size", batchSize);
        positive("--grad-accum", gradAccum);
        positive("--log-every", logEvery);
        positive("--keep", keep);
        nonNegative("--lr", lr);
        nonNegative("--weight-decay", weightDecay);
        nonNegative("--clip", clip);
        nonNegative("--neftune-alpha", neftuneAlpha);
        if (!(eps > 0 && Double.isFinite(eps))) {
            bad("--eps: expected a positive number, got " + eps);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            bad("--beta1: expected a number in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            bad("--beta2: expected a number in [0, 1), got " + beta2);
        }
        if (warmup < 0) {
            bad("--warmup: expected 0 or more steps, got " + warmup);
        }
        if (evalEvery < 0) {
            bad("--eval-every: expected 0 or more steps, got " + evalEvery);
        }
        if (checkpointEvery < 0) {
            bad("--checkpoint-every: expected 0 or more steps, got " + checkpointEvery);
        }
        if (evalEvery > 0 && eval == null) {
            bad("--eval-every: needs --eval");
        }
    }

    private void requireFile(String option, Path file) {
        if (!Files.isRegularFile(file)) {
            bad(option + ": no such file: " + file);
        }
    }

    private void positive(String option, long value) {
        if (value < 1) {
            bad(option + ": expected a positive number, got " + value);
        }
    }

    private void nonNegative(String option, double value) {
        if (!(value >= 0 && Double.isFinite(value))) {
            bad(option + ": expected a finite number >= 0, got " + value);
        }
    }

    private void bad(String message) {
        throw new ParameterException(spec.commandLine(), message);
    }
}
