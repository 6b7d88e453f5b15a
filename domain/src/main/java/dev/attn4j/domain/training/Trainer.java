package dev.attn4j.domain.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.domain.data.DataLoader;
import dev.attn4j.domain.data.DataPosition;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Trains a decoder-only {@link Transformer} (docs/design.md §12): optimizer steps of
 * {@link TrainingConfig#gradientAccumulation() k} micro-batches each, the next-token loss through the fused
 * chunked cross-entropy, AdamW with per-group settings and on-device clipping, a learning-rate schedule, NEFTune,
 * evaluation and crash-safe checkpoints.
 *
 * <h2>One optimizer step</h2>
 * The step's {@code k} micro-batches are taken from the loader first, so the number {@code N} of trained tokens
 * (targets other than −100) of the whole step is known on the host before any pass runs; each micro-batch's
 * gradient is then accumulated with scale {@code 1/N}. The gradient is that of the mean loss over the step's
 * trained tokens, whatever their split: {@code k} micro-batches give what one batch of all their rows gives (up
 * to float summation order). A step whose rows have no trained token updates with zero gradients. The loss sums
 * stay on the device, added into one {@code [1]} accumulator; they are read only every
 * {@link TrainingConfig#logEvery()} steps, when the logged loss is the accumulated sum over the accumulated
 * trained tokens of the steps since the last log.
 *
 * <h2>Reproducibility</h2>
 * Same seed, data and backend give bit-identical losses and weights: the data order is the loader's (seeded),
 * the learning rates are computed in {@code StrictMath}, and the NEFTune noise of micro-batch {@code j} of the
 * step that follows {@code s} earlier ones comes from Philox key {@link TrainingConfig#seed()} at counter
 * offsets from {@code (s·k + j)·2^20} on ({@link #OFFSETS_PER_PASS} offsets per pass), so it depends on the
 * position in training only. A checkpoint records the step, the data position, the optimizer's moments and step
 * count, and the pending log window (its loss sum bit for bit), so a resumed run continues exactly as the
 * uninterrupted one would.
 *
 * <pre>{@code
 * try (Transformer model = Transformer.create(backend, config, seed);
 *      Trainer trainer = new Trainer(model, TrainingConfig.of(1000, 3e-4).seed(seed), data)) {
 *     trainer.checkpoints(CheckpointStore.at(out.resolve("checkpoints"), 3));
 *     trainer.resume();                           // from the newest complete checkpoint, if any
 *     Trainer.Result r = trainer.run();
 * }
 * }</pre>
 */
public final class Trainer implements AutoCloseable {
    /** Philox counter offsets reserved for one forward/backward pass (its random draws take consecutive ones). */
    public static final long OFFSETS_PER_PASS = 1L << 20;
    /** File of a checkpoint holding the model's parameters (x-transformers names, loadable as weights). */
    public static final String MODEL_FILE = "model.safetensors";
    /** File of a checkpoint holding the optimizer's moments. */
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    /** The checkpoint format's version in {@value CheckpointStore#STATE_FILE}. */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Transformer model;
    private final TrainedWeights weights;
    private final TrainingConfig config;
    private final TrainingData data;
    private final AdamW optimizer;
    private final LearningRateSchedule schedule;
    private final Backend backend;
    private final DeviceTensor windowLoss;
    private final DeviceTensor evalLoss;
    private final List<LogRecord> logs = new ArrayList<>();
    private final List<EvalRecord> evals = new ArrayList<>();
    private DataPosition position;
    private long step;
    private long windowSteps;
    private long windowTrained;
    private long windowTokens;
    private double windowSeconds;
    private double lastLr;
    private double elapsedSeconds;
    private long checkpointedStep = -1;
    private CheckpointStore checkpoints;
    private TrainingListener listener = new TrainingListener() {
    };
    private volatile boolean stopRequested;
    private boolean closed;

    /**
     * The outcome of {@link #run()}.
     *
     * @param steps     optimizer steps done (all of them unless stopped)
     * @param completed whether every configured step ran
     * @param logs      every log so far (a resumed run's include those before the checkpoint)
     * @param evals     every evaluation so far
     * @param seconds   training time so far, evaluation and checkpoints excluded
     */
    public record Result(long steps, boolean completed, List<LogRecord> logs, List<EvalRecord> evals, double seconds) {
        /** Copies the lists. */
        public Result {
            logs = List.copyOf(logs);
            evals = List.copyOf(evals);
        }
    }

    /**
     * A trainer with the default AdamW group settings.
     *
     * @param model  the model it trains (not closed by the trainer)
     * @param config how
     * @param data   on what
     */
    public Trainer(Transformer model, TrainingConfig config, TrainingData data) {
        this(model, config, data, Map.of());
    }

    /**
     * A trainer; sets the model's NEFTune option from the config.
     *
     * @param model  the model it trains (not closed by the trainer)
     * @param config how
     * @param data   on what
     * @param groups AdamW settings of some parameter groups by name (the others get the defaults)
     */
    public Trainer(Transformer model, TrainingConfig config, TrainingData data, Map<String, GroupOptions> groups) {
        this(model, TrainedWeights.of(model), config, data, groups);
    }

    /**
     * A trainer of {@code trained} (a model's own parameters, or an adapter's with the base frozen); sets the model's
     * NEFTune option from the config.
     *
     * @param model   the model whose loss is minimised (not closed by the trainer)
     * @param trained what the optimizer updates and checkpoints store
     * @param config  how
     * @param data    on what
     * @param groups  AdamW settings of some parameter groups by name (the others get the defaults)
     */
    public Trainer(Transformer model, TrainedWeights trained, TrainingConfig config, TrainingData data,
                   Map<String, GroupOptions> groups) {
        InvalidRequestException.check(model != null, "model", "a model", "null");
        InvalidRequestException.check(trained != null, "trained", "the weights to train", "null");
        InvalidRequestException.check(config != null, "config", "a training config", "null");
        InvalidRequestException.check(data != null, "data", "training data", "null");
        InvalidRequestException.check(!model.config().attnLayers().crossAttend(), "model",
                "a decoder or encoder without cross-attention", "a cross-attending stack");
        this.model = model;
        this.weights = trained;
        this.config = config;
        this.data = data;
        this.schedule = config.learningRates();
        this.backend = model.parameters().backend();
        this.position = data.train().start();
        model.neftune(config.neftuneAlpha(), config.neftuneScaling());
        AdamW opt = AdamW.create(weights.parameters(), config.adamW(), groups);
        DeviceTensor w = null;
        try {
            w = backend.tensors().zeros(Shape.of(1), DType.F32);
            this.evalLoss = backend.tensors().zeros(Shape.of(1), DType.F32);
        } catch (RuntimeException e) {
            if (w != null) {
                w.close();
            }
            opt.close();
            throw e;
        }
        this.windowLoss = w;
        this.optimizer = opt;
    }

    /**
     * Writes checkpoints into {@code store} (every {@link TrainingConfig#checkpointEvery()} steps and at the end).
     *
     * @param store where
     * @return this trainer
     */
    public Trainer checkpoints(CheckpointStore store) {
        this.checkpoints = store;
        return this;
    }

    /**
     * Reports progress to {@code l}.
     *
     * @param l the listener
     * @return this trainer
     */
    public Trainer listener(TrainingListener l) {
        InvalidRequestException.check(l != null, "listener", "a listener", "null");
        this.listener = l;
        return this;
    }

    /** {@return the optimizer} */
    public AdamW optimizer() {
        return optimizer;
    }

    /** {@return the model} */
    public Transformer model() {
        return model;
    }

    /** {@return the configuration} */
    public TrainingConfig config() {
        return config;
    }

    /** {@return optimizer steps done} */
    public long step() {
        return step;
    }

    /** {@return where the next micro-batch is read} */
    public DataPosition position() {
        return position;
    }

    /** {@return every log so far} */
    public List<LogRecord> logs() {
        return Collections.unmodifiableList(logs);
    }

    /** {@return every evaluation so far} */
    public List<EvalRecord> evals() {
        return Collections.unmodifiableList(evals);
    }

    /**
     * Asks {@link #run()} to stop after the step in progress and write a checkpoint (when it has a store); safe to
     * call from any thread (e.g. a shutdown hook).
     */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * {@return the Philox counter offset of micro-batch {@code micro} of the step that follows {@code step} earlier
     * ones}
     *
     * @param step         optimizer steps already taken
     * @param accumulation micro-batches per step
     * @param micro        the micro-batch, from 0
     */
    public static long randomOffset(long step, int accumulation, int micro) {
        return Math.multiplyExact(Math.addExact(Math.multiplyExact(step, (long) accumulation), micro), OFFSETS_PER_PASS);
    }

    // ----------------------------------------------------------------------------------------------------- run

    /**
     * Trains from the current step to {@link TrainingConfig#steps()}, or until {@link #requestStop()}; logs,
     * evaluates and checkpoints on the way, and checkpoints at the end (and when stopped).
     *
     * @return what happened
     */
    public Result run() {
        requireOpen();
        while (step < config.steps() && !stopRequested) {
            trainStep();
            boolean last = step == config.steps();
            if (step % config.logEvery() == 0 || last) {
                log();
            }
            if (data.eval() != null && (last || (config.evalEvery() > 0 && step % config.evalEvery() == 0))) {
                evaluate();
            }
            if (checkpoints != null && (last || (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0))) {
                saveCheckpoint();
            }
        }
        if (checkpoints != null && checkpointedStep != step) {
            saveCheckpoint();
        }
        return new Result(step, step == config.steps(), logs, evals, elapsedSeconds);
    }

    /** One optimizer step: {@code k} micro-batches forward and backward, then AdamW; returns its real tokens. */
    long trainStep() {
        long started = System.nanoTime();
        int k = config.gradientAccumulation();
        DataLoader loader = data.train();
        List<MicroBatch> micro = new ArrayList<>(k);
        DataPosition at = position;
        long trained = 0;
        long tokens = 0;
        for (int j = 0; j < k; j++) {
            MicroBatch mb = MicroBatch.of(loader.batch(at), data.packed());
            at = loader.next(at);
            micro.add(mb);
            trained += mb.trainedTokens();
            tokens += mb.realTokens();
        }
        // The mean over the whole step's trained tokens, however they are split (0: a step with nothing to learn).
        float scale = trained > 0 ? (float) (1.0 / trained) : 0f;
        for (int j = 0; j < k; j++) {
            MicroBatch mb = micro.get(j);
            try (Step pass = Step.training(backend, config.seed(), randomOffset(step, k, j))) {
                Transformer.Pass p = model.forward(pass, mb.tokens(), true);
                Transformer.Loss loss = model.lossAndBackward(pass, p, mb.targets(), scale);
                backend.elementwise().axpy(new AxpyRequest(1f, loss.sum(), windowLoss));
            }
        }
        double lr = schedule.at(step);
        optimizer.step(lr);
        weights.parameters().zeroGrads();
        position = at;
        step++;
        lastLr = lr;
        windowSteps++;
        windowTrained += trained;
        windowTokens += tokens;
        double seconds = (System.nanoTime() - started) / 1e9;
        windowSeconds += seconds;
        elapsedSeconds += seconds;
        listener.onStep(step, lr, tokens);
        return tokens;
    }

    private void log() {
        float sum = backend.tensors().download(windowLoss)[0];
        DeviceTensor norm2 = optimizer.gradNormSquared();
        double gradNorm = norm2 == null ? Double.NaN : Math.sqrt(backend.tensors().download(norm2)[0]);
        double loss = windowTrained > 0 ? sum / (double) windowTrained : Double.NaN;
        LogRecord r = new LogRecord(step, epoch(), loss, lastLr, gradNorm, windowSteps, windowTrained, windowTokens,
                windowSeconds > 0 ? windowTokens / windowSeconds : 0);
        logs.add(r);
        backend.tensors().fill(windowLoss, 0f);
        windowSteps = 0;
        windowTrained = 0;
        windowTokens = 0;
        windowSeconds = 0;
        listener.onLog(r);
    }

    private double epoch() {
        return position.epoch() + (double) position.row() / data.train().rowsPerEpoch();
    }

    /**
     * The mean loss per trained token over the evaluation rows (inference passes: no noise), read from the device
     * once at the end.
     *
     * @return the evaluation, also added to {@link #evals()}
     * @throws InvalidRequestException without evaluation data, or when it has no trained token
     */
    public EvalRecord evaluate() {
        requireOpen();
        DataLoader loader = data.eval();
        InvalidRequestException.check(loader != null, "eval", "evaluation data", "none");
        long started = System.nanoTime();
        backend.tensors().fill(evalLoss, 0f);
        long trained = 0;
        DataPosition at = loader.start();
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            MicroBatch mb = MicroBatch.of(loader.batch(at), data.packed());
            at = loader.next(at);
            trained += mb.trainedTokens();
            try (Step pass = Step.inference(backend)) {
                Transformer.Pass p = model.forward(pass, mb.tokens(), false);
                Transformer.Loss loss = model.loss(pass, p, mb.targets());
                backend.elementwise().axpy(new AxpyRequest(1f, loss.sum(), evalLoss));
            }
        }
        InvalidRequestException.check(trained > 0, "eval", "rows with at least one trained token", "none");
        double loss = backend.tensors().download(evalLoss)[0] / (double) trained;
        EvalRecord r = new EvalRecord(step, loss, trained, (System.nanoTime() - started) / 1e9);
        evals.add(r);
        listener.onEval(r);
        return r;
    }

    // ------------------------------------------------------------------------------------------- checkpoints

    /** {@return the directory of a checkpoint of the current state, written now} */
    public Path saveCheckpoint() {
        requireOpen();
        InvalidRequestException.check(checkpoints != null, "checkpoints", "a checkpoint store (checkpoints(...))", "none");
        SafetensorsWriter file = SafetensorsWriter.create();
        Map<String, int[]> shapes = weights.shapes();
        for (Map.Entry<String, float[]> e : weights.stateDict().entrySet()) {
            file.f32(e.getKey(), e.getValue(), shapes.get(e.getKey()));
        }
        file.metadata("format", "pt").metadata("step", Long.toString(step));
        SafetensorsWriter moments = SafetensorsWriter.create();
        for (Map.Entry<String, float[]> e : optimizer.state().entrySet()) {
            moments.f32(e.getKey(), e.getValue(), e.getValue().length);
        }
        moments.metadata("steps", Long.toString(optimizer.steps()));
        Map<String, SafetensorsWriter> files = new LinkedHashMap<>();
        files.put(MODEL_FILE, file);
        files.put(OPTIMIZER_FILE, moments);
        Path dir = checkpoints.save(step, files, stateJson());
        checkpointedStep = step;
        listener.onCheckpoint(step, dir);
        return dir;
    }

    /**
     * Continues from the newest complete checkpoint of the store, if there is one.
     *
     * @return the step it continues from, or empty when there was no checkpoint
     *
     * @throws InvalidRequestException when the checkpoint was made by another model or training configuration, or
     *                                 other data
     */
    public Optional<Long> resume() {
        requireOpen();
        InvalidRequestException.check(checkpoints != null, "checkpoints", "a checkpoint store (checkpoints(...))", "none");
        Optional<CheckpointStore.Checkpoint> latest = checkpoints.latest();
        latest.ifPresent(this::restore);
        return latest.map(CheckpointStore.Checkpoint::step);
    }

    /**
     * Restores the state of {@code checkpoint} (see {@link #resume()}).
     *
     * @param checkpoint a complete checkpoint of this model, configuration and data
     */
    public void restore(CheckpointStore.Checkpoint checkpoint) {
        requireOpen();
        JsonNode s = checkpoint.state();
        InvalidRequestException.check(s.path("version").asInt(-1) == FORMAT_VERSION, "checkpoint",
                "format version " + FORMAT_VERSION, s.path("version").asText("none"));
        String ownModel = ModelConfigs.toJson(model.config());
        InvalidRequestException.check(ownModel.equals(s.path("model_config").asText()), "checkpoint",
                "a checkpoint of this model configuration", s.path("model_config").asText());
        requireSameTrajectory(configJson(config), s.path("training_config"));
        JsonNode d = s.path("data");
        long fingerprint = Long.parseUnsignedLong(d.path("fingerprint").asText(), 16);
        InvalidRequestException.check(fingerprint == data.train().fingerprint(), "checkpoint",
                "a checkpoint of this training data (same rows, batch size, shuffle and seed)",
                "data with fingerprint " + d.path("fingerprint").asText());
        DataPosition at = new DataPosition(d.path("epoch").asInt(), d.path("row").asInt(), fingerprint);
        try (SafetensorsReader r = SafetensorsReader.open(checkpoint.file(MODEL_FILE))) {
            Map<String, float[]> stored = new LinkedHashMap<>();
            r.entries().forEach(e -> stored.put(e.name(), r.readFloats(e.name())));
            weights.loadStateDict(stored);
        }
        try (SafetensorsReader r = SafetensorsReader.open(checkpoint.file(OPTIMIZER_FILE))) {
            Map<String, float[]> moments = new LinkedHashMap<>();
            r.entries().forEach(e -> moments.put(e.name(), r.readFloats(e.name())));
            optimizer.load(moments, Long.parseLong(r.metadata().getOrDefault("steps", "-1")));
        }
        JsonNode w = s.path("window");
        float windowSum = Float.intBitsToFloat(w.path("loss_sum_bits").asInt());
        try (DeviceTensor staged = backend.tensors().upload(new float[] {windowSum}, Shape.of(1), DType.F32)) {
            backend.tensors().copy(dev.attn4j.ports.tensor.CopyRequest.into(staged, windowLoss, 0));
        }
        weights.parameters().zeroGrads();
        this.position = at;
        this.step = s.path("step").asLong();
        this.windowSteps = w.path("steps").asLong();
        this.windowTrained = w.path("trained_tokens").asLong();
        this.windowTokens = w.path("tokens").asLong();
        this.windowSeconds = w.path("seconds").asDouble();
        this.lastLr = s.path("last_lr").asDouble();
        this.elapsedSeconds = s.path("elapsed_seconds").asDouble();
        this.logs.clear();
        for (JsonNode n : s.path("logs")) {
            logs.add(new LogRecord(n.path("step").asLong(), n.path("epoch").asDouble(), number(n.path("loss")),
                    n.path("lr").asDouble(), number(n.path("grad_norm")), n.path("steps").asLong(),
                    n.path("trained_tokens").asLong(), n.path("tokens").asLong(), n.path("tokens_per_second").asDouble()));
        }
        this.evals.clear();
        for (JsonNode n : s.path("evals")) {
            evals.add(new EvalRecord(n.path("step").asLong(), number(n.path("loss")), n.path("trained_tokens").asLong(),
                    n.path("seconds").asDouble()));
        }
        this.checkpointedStep = step;
        InvalidRequestException.check(optimizer.steps() == step, "checkpoint", "optimizer steps = steps = " + step,
                optimizer.steps());
    }

    /** The fields that decide the trajectory must match; how often to log, evaluate and checkpoint may change. */
    private static void requireSameTrajectory(ObjectNode own, JsonNode saved) {
        for (Map.Entry<String, JsonNode> e : own.properties()) {
            String k = e.getKey();
            if (k.equals("log_every") || k.equals("eval_every") || k.equals("checkpoint_every") || k.equals("keep")) {
                continue;
            }
            // as text: a long written may read back as an int node
            InvalidRequestException.check(e.getValue().asText().equals(saved.path(k).asText()), "training config " + k,
                    saved.path(k).asText() + " (as when the checkpoint was saved)", e.getValue().asText());
        }
    }

    private ObjectNode stateJson() {
        ObjectNode s = JSON.createObjectNode();
        s.put("format", "attn4j-training-checkpoint");
        s.put("version", FORMAT_VERSION);
        s.put("step", step);
        s.put("last_lr", lastLr);
        s.put("elapsed_seconds", elapsedSeconds);
        ObjectNode d = s.putObject("data");
        d.put("epoch", position.epoch());
        d.put("row", position.row());
        d.put("fingerprint", Long.toHexString(position.fingerprint()));
        ObjectNode rng = s.putObject("rng");
        rng.put("philox_seed", config.seed());
        rng.put("offsets_per_pass", OFFSETS_PER_PASS);
        rng.put("next_offset", randomOffset(step, config.gradientAccumulation(), 0));
        ObjectNode w = s.putObject("window");
        float windowSum = backend.tensors().download(windowLoss)[0];
        w.put("loss_sum_bits", Float.floatToRawIntBits(windowSum));
        w.put("loss_sum", windowSum);
        w.put("steps", windowSteps);
        w.put("trained_tokens", windowTrained);
        w.put("tokens", windowTokens);
        w.put("seconds", windowSeconds);
        ArrayNode l = s.putArray("logs");
        for (LogRecord r : logs) {
            ObjectNode n = l.addObject();
            n.put("step", r.step());
            n.put("epoch", r.epoch());
            n.put("loss", r.loss());
            n.put("lr", r.lr());
            n.put("grad_norm", r.gradNorm());
            n.put("steps", r.steps());
            n.put("trained_tokens", r.trainedTokens());
            n.put("tokens", r.tokens());
            n.put("tokens_per_second", r.tokensPerSecond());
        }
        ArrayNode ev = s.putArray("evals");
        for (EvalRecord r : evals) {
            ObjectNode n = ev.addObject();
            n.put("step", r.step());
            n.put("loss", r.loss());
            n.put("trained_tokens", r.trainedTokens());
            n.put("seconds", r.seconds());
        }
        s.set("training_config", configJson(config));
        s.put("model_config", ModelConfigs.toJson(model.config()));
        return s;
    }

    /**
     * {@return the training config as JSON (snake_case names)}
     *
     * @param c the config
     */
    public static ObjectNode configJson(TrainingConfig c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("steps", c.steps());
        n.put("gradient_accumulation", c.gradientAccumulation());
        n.put("lr", c.lr());
        n.put("schedule", c.schedule().name().toLowerCase(java.util.Locale.ROOT));
        n.put("warmup_steps", c.warmupSteps());
        n.put("beta1", c.adamW().beta1());
        n.put("beta2", c.adamW().beta2());
        n.put("eps", c.adamW().eps());
        n.put("weight_decay", c.adamW().weightDecay());
        n.put("max_grad_norm", c.adamW().maxGradNorm());
        n.put("seed", c.seed());
        n.put("neftune_alpha", c.neftuneAlpha());
        n.put("neftune_scaling", c.neftuneScaling().name().toLowerCase(java.util.Locale.ROOT));
        n.put("log_every", c.logEvery());
        n.put("eval_every", c.evalEvery());
        n.put("checkpoint_every", c.checkpointEvery());
        n.put("keep", c.keepCheckpoints());
        return n;
    }

    /** A double written by Jackson, where NaN may come back as a string. */
    private static double number(JsonNode n) {
        return n.isNumber() ? n.asDouble() : n.isTextual() ? Double.parseDouble(n.asText()) : Double.NaN;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("trainer is closed");
        }
    }

    /** Frees the optimizer's state and the accumulators (not the model). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        optimizer.close();
        windowLoss.close();
        evalLoss.close();
    }
}
