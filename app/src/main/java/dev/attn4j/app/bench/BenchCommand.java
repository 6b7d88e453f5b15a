package dev.attn4j.app.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.app.BackendChoice;
import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.console.Progress;
import dev.attn4j.app.console.TextTable;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code attn4j bench attention|norm|gemm|ops|loss}: times an op on every available backend (or the named ones)
 * after warm-up runs and prints median, min and max per configuration (a sequence length, a GEMM shape, a
 * memory-bound op), with GFLOP/s by docs/design.md §8 and §14's counts or, for the memory-bound ops, GB/s; with
 * {@code --out DIR} also writes {@code bench.json}, the chart {@code bench.png} and the page {@code bench.html}
 * ({@link BenchReport}). {@code ops} also reports each op's bandwidth against the same backend's copy, and
 * {@code loss} the fused cross-entropy's time against its GEMMs' alone.
 * A quick look, not a substitute for the JMH benchmarks: one process, wall-clock timing.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time attention, normalisation, GEMM, the memory-bound ops or the fused cross-entropy on each "
                + "backend: warm-up, repeats, median/min/max, GFLOP/s or GB/s.")
public final class BenchCommand implements Callable<Integer> {
    /** Name of the results file written with {@code --out}. */
    public static final String RESULTS_FILE = "bench.json";
    /** Name of the chart written with {@code --out} (when something was measured). */
    public static final String CHART_FILE = "bench.png";
    /** Name of the self-contained page (chart and table) written with {@code --out}. */
    public static final String PAGE_FILE = "bench.html";

    /** What to time. */
    public enum Op {
        /** Attention, forward or backward. */
        ATTENTION,
        /** Normalisation (LayerNorm or RMSNorm), forward or backward. */
        NORM,
        /** A matrix product through the linear port's matmul, per {@code --shape} and {@code --form}. */
        GEMM,
        /** The memory-bound ops (copy, add, axpy, activations, embedding gather), in GB/s. */
        OPS,
        /** The fused linear cross-entropy with gradients, and its three GEMMs alone. */
        LOSS
    }

    /** Which normalisation. */
    public enum Norm {
        /** LayerNorm with bias. */
        LAYER,
        /** RMSNorm. */
        RMS
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();
    private static final long SEED = 42;
    /** The most warm-up or timed runs per configuration. */
    static final int MAX_RUNS = 1_000_000;
    /** The most worker threads asked of a backend. */
    static final int MAX_THREADS = 1024;
    private static final double GIB = 1L << 30;

    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "OP", description = "attention, norm, gemm, ops or loss.")
    Op op;

    @Option(names = "--backend", paramLabel = "NAME", split = ",",
            description = "Backend to time (repeatable or comma-separated). Default: every available backend.")
    List<String> backends = new ArrayList<>();

    @Option(names = "--seq", paramLabel = "N", split = ",", defaultValue = "512,1024",
            description = "Sequence lengths (Sq = Sk), comma-separated. Default: ${DEFAULT-VALUE}.")
    List<Integer> seqs;

    @Option(names = "--batch", defaultValue = "1", description = "Batch size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--heads", defaultValue = "8", description = "Query heads. Default: ${DEFAULT-VALUE}.")
    int heads;

    @Option(names = "--kv-heads", description = "Key/value heads (GQA/MQA; divides --heads). Default: --heads.")
    Integer kvHeads;

    @Option(names = "--head-dim", defaultValue = "64", description = "Head dimension. Default: ${DEFAULT-VALUE}.")
    int headDim;

    @Option(names = "--hidden", defaultValue = "1024",
            description = "Normalised dimension for 'norm' (rows = batch x seq); row width for 'ops'. "
                    + "Default: ${DEFAULT-VALUE}.")
    int hidden;

    @Option(names = "--norm", defaultValue = "layer", description = "layer or rms. Default: ${DEFAULT-VALUE}.")
    Norm norm;

    @Option(names = "--shape", paramLabel = "MxNxK", split = ",", defaultValue = "2048x2048x2048",
            description = "gemm: products C [M, N] = op(A) [M, K] · op(B) [K, N], comma-separated. Default: ${DEFAULT-VALUE}.")
    List<String> shapes;

    @Option(names = "--form", paramLabel = "FORM", split = ",", defaultValue = "NN",
            description = "gemm: transposes of A and B (NN, NT, TN, TT), comma-separated; NT is a linear layer's "
                    + "forward x·Wᵀ, NN its dx = dy·W, TN its dW = dyᵀ·x. Default: ${DEFAULT-VALUE}.")
    List<String> forms;

    @Option(names = "--size", paramLabel = "N", defaultValue = "16777216",
            description = "ops: elements of each op's output, a multiple of --hidden (rows of --hidden). "
                    + "Default: ${DEFAULT-VALUE}.")
    int size;

    @Option(names = "--ops", paramLabel = "OP", split = ",",
            description = "ops: which (copy, add, axpy, scale, gelu, silu, gelu_backward, swiglu, swiglu_concatenated, "
                    + "embedding). "
                    + "Default: all.")
    List<String> memoryOps = new ArrayList<>();

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "4096",
            description = "loss: rows (tokens). Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--vocab", paramLabel = "V", defaultValue = "20000",
            description = "loss: vocabulary; ops: rows of the embedding table. Default: ${DEFAULT-VALUE}.")
    int vocab;

    @Option(names = "--dim", paramLabel = "D", defaultValue = "512",
            description = "loss: hidden width. Default: ${DEFAULT-VALUE}.")
    int dim;

    @Option(names = "--causal", description = "Causal attention (half the FLOPs).")
    boolean causal;

    @Option(names = "--backward", description = "Time the backward (on the outputs of one forward).")
    boolean backward;

    @Option(names = "--dtype", defaultValue = "F32", description = "Storage type: F32, F16 or BF16. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--warmup", description = "Untimed runs first. Default: 3 (ops: " + OPS_WARMUP + ").")
    Integer warmupOption;

    /**
     * The memory-bound ops' default warm-up: a call takes milliseconds, and with 3 the JIT was still compiling other
     * ops' loops on the second core while the next op was timed, which halved a 2-thread op's time on a 2-core
     * machine in some calls (exact GELU's median swung between 0.53 and 0.91x copy run to run; with 30, 0.97-0.99).
     */
    static final int OPS_WARMUP = 30;

    private int warmup;

    @Option(names = "--repeats", defaultValue = "10", description = "Timed runs. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--threads", description = "Passed to the backend as its 'threads' option (CPU worker threads).")
    Integer threads;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write " + RESULTS_FILE + ", the chart " + CHART_FILE
            + " and the page " + PAGE_FILE + " into DIR.")
    Path out;

    /** A command taking its backends from {@code env}. */
    public BenchCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        validate();
        BackendSelector selector = env.selector().get();
        List<ProviderStatus> targets = BackendChoice.targets(spec.commandLine(), selector, backends);
        boolean named = BackendChoice.named(selector, backends);
        List<BenchRecord> records = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (ProviderStatus target : targets) {
            if (!target.availability().available()) {
                if (named) {
                    problems.add("backend '" + target.name() + "' was requested but is unavailable: "
                            + target.availability().reason());
                }
                continue;
            }
            records.addAll(benchOn(selector, target, problems));
        }
        if (records.stream().noneMatch(r -> r.status().equals("ok")) && problems.isEmpty()) {
            problems.add("nothing was measured");
        }
        print(records);
        if (out != null) {
            write(records);
        }
        problems.forEach(p -> env.err().println("bench: " + p));
        return problems.isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /**
     * Every number is checked before anything runs (exit 2, one line): ranges, options that do not apply to the op,
     * tensor sizes that backends can index (at most {@link Shape#MAX_TENSOR_ELEMENTS} elements), and an estimate of
     * the Java heap each configuration needs against what this JVM may use.
     */
    private void validate() {
        // The timings are kept (8 bytes each) and every run is one call: a million is hours already.
        range("--repeats", repeats, 1, MAX_RUNS);
        warmup = warmupOption != null ? warmupOption : op == Op.OPS ? OPS_WARMUP : 3;
        range("--warmup", warmup, 0, MAX_RUNS);
        if (threads != null) {
            range("--threads", threads, 1, MAX_THREADS);
        }
        if (!dtype.isFloating()) {
            bad("--dtype: expected F32, F16 or BF16, got " + dtype);
        }
        for (Map.Entry<String, java.util.Set<Op>> option : OWN_OPTIONS.entrySet()) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option.getKey())
                    && !option.getValue().contains(op)) {
                bad(option.getKey() + ": applies to '" + names(option.getValue()) + "' only");
            }
        }
        switch (op) {
            case ATTENTION, NORM -> validateSequences();
            case GEMM -> validateGemm();
            case OPS -> validateOps();
            case LOSS -> validateLoss();
        }
    }

    /** The options that apply to some ops only (the others apply to all). */
    private static final Map<String, java.util.Set<Op>> OWN_OPTIONS = Map.ofEntries(
            Map.entry("--seq", java.util.EnumSet.of(Op.ATTENTION, Op.NORM)),
            Map.entry("--batch", java.util.EnumSet.of(Op.ATTENTION, Op.NORM)),
            Map.entry("--backward", java.util.EnumSet.of(Op.ATTENTION, Op.NORM)),
            Map.entry("--heads", java.util.EnumSet.of(Op.ATTENTION)),
            Map.entry("--kv-heads", java.util.EnumSet.of(Op.ATTENTION)),
            Map.entry("--head-dim", java.util.EnumSet.of(Op.ATTENTION)),
            Map.entry("--causal", java.util.EnumSet.of(Op.ATTENTION)),
            Map.entry("--norm", java.util.EnumSet.of(Op.NORM)),
            Map.entry("--hidden", java.util.EnumSet.of(Op.NORM, Op.OPS)),
            Map.entry("--shape", java.util.EnumSet.of(Op.GEMM)),
            Map.entry("--form", java.util.EnumSet.of(Op.GEMM)),
            Map.entry("--size", java.util.EnumSet.of(Op.OPS)),
            Map.entry("--ops", java.util.EnumSet.of(Op.OPS)),
            Map.entry("--vocab", java.util.EnumSet.of(Op.OPS, Op.LOSS)),
            Map.entry("--tokens", java.util.EnumSet.of(Op.LOSS)),
            Map.entry("--dim", java.util.EnumSet.of(Op.LOSS)));

    private static String names(java.util.Set<Op> ops) {
        return String.join("' and '", ops.stream().map(o -> o.name().toLowerCase(Locale.ROOT)).toList());
    }

    private void validateSequences() {
        range("--batch", batch, 1, Integer.MAX_VALUE);
        range("--heads", heads, 1, Integer.MAX_VALUE);
        range("--head-dim", headDim, 1, Integer.MAX_VALUE);
        range("--hidden", hidden, 1, Integer.MAX_VALUE);
        if (seqs.isEmpty()) {
            bad("--seq: expected at least one length");
        }
        seqs.forEach(s -> range("--seq", s, 1, Integer.MAX_VALUE));
        if (kvHeads != null) {
            range("--kv-heads", kvHeads, 1, Integer.MAX_VALUE);
            if (heads % kvHeads != 0) {
                bad("--kv-heads: expected a divisor of --heads " + heads + ", got " + kvHeads);
            }
        }
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        for (int seq : seqs) {
            requireFits(seq, workers);
        }
    }

    /** {@code MxNxK} as three sizes of at least 1, or a bad-input error naming the option. */
    private int[] gemmShape(String text) {
        String[] parts = text.trim().split("[x×]", -1);
        if (parts.length != 3) {
            bad("--shape: expected MxNxK (e.g. 4096x2048x512), got '" + text + "'");
        }
        int[] mnk = new int[3];
        for (int i = 0; i < 3; i++) {
            try {
                mnk[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                bad("--shape: expected MxNxK with whole numbers, got '" + text + "'");
            }
            range("--shape " + text, mnk[i], 1, Integer.MAX_VALUE);
        }
        return mnk;
    }

    private void validateGemm() {
        if (shapes.isEmpty()) {
            bad("--shape: expected at least one MxNxK");
        }
        if (forms.isEmpty()) {
            bad("--form: expected at least one of NN, NT, TN, TT");
        }
        for (String form : forms) {
            if (!form.matches("[NT]{2}")) {
                bad("--form: expected NN, NT, TN or TT, got '" + form + "'");
            }
        }
        for (String text : shapes) {
            int[] mnk = gemmShape(text);
            String what = "--shape " + text;
            long a = tensorElements(what + ": A", mnk[0], mnk[2]);
            long b = tensorElements(what + ": B", mnk[2], mnk[1]);
            long c = tensorElements(what + ": C", mnk[0], mnk[1]);
            requireHeap(what, "gemm " + text, a + b + c, Math.max(a, Math.max(b, c)));
        }
    }

    private void validateOps() {
        range("--size", size, 1, Integer.MAX_VALUE);
        range("--hidden", hidden, 1, Integer.MAX_VALUE);
        range("--vocab", vocab, 1, Integer.MAX_VALUE);
        if (size % hidden != 0) {
            bad("--size: expected a multiple of --hidden " + hidden + " (rows of it), got " + size);
        }
        for (String name : memoryOps) {
            memoryOp(name);
        }
        long n = size;
        long glu = tensorElements("--size " + size + ": swiglu_concatenated's input [rows, 2 x hidden]", size / hidden, 2 * hidden);
        long table = tensorElements("--vocab " + vocab + ": the embedding table [vocab, hidden]", vocab, hidden);
        // add keeps a, b and its output (so does the split swiglu); swiglu_concatenated its [rows, 2·hidden] input and
        // output; embedding the table too
        requireHeap("--size " + size, "ops n=" + size, Math.max(3 * n, Math.max(glu + n, table + n)),
                Math.max(glu, table));
    }

    private static MemoryOpWorkload.MemoryOp memoryOpOrNull(String name) {
        for (MemoryOpWorkload.MemoryOp m : MemoryOpWorkload.MemoryOp.values()) {
            if (m.label().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        return null;
    }

    private MemoryOpWorkload.MemoryOp memoryOp(String name) {
        MemoryOpWorkload.MemoryOp m = memoryOpOrNull(name);
        if (m == null) {
            bad("--ops: expected some of " + String.join(", ", java.util.Arrays.stream(MemoryOpWorkload.MemoryOp.values())
                    .map(MemoryOpWorkload.MemoryOp::label).toList()) + ", got '" + name + "'");
        }
        return m;
    }

    private void validateLoss() {
        range("--tokens", tokens, 1, Integer.MAX_VALUE);
        range("--vocab", vocab, 1, Integer.MAX_VALUE);
        range("--dim", dim, 1, Integer.MAX_VALUE);
        long h = tensorElements("--tokens " + tokens + ": hidden [tokens, dim]", tokens, dim);
        long w = tensorElements("--vocab " + vocab + ": the weight [vocab, dim]", vocab, dim);
        long z = tensorElements("--tokens " + tokens + " --vocab " + vocab
                + ": the GEMMs' logits [tokens, vocab]", tokens, vocab);
        // The GEMMs alone hold the whole logits; the fused op holds h, W, dW, dh and one chunk.
        requireHeap("--tokens " + tokens, "cross-entropy N=" + tokens + " V=" + vocab + " d=" + dim,
                2 * h + 2 * w + z, z);
    }

    private void range(String option, int value, int min, int max) {
        if (value < min || value > max) {
            bad(option + ": expected " + min + " to " + max + ", got " + value);
        }
    }

    /**
     * The sizes of one configuration: every tensor within what backends index, and the heap it needs (inputs,
     * outputs, one host staging array, the cpu backend's per-worker packed keys) within what this JVM may use.
     */
    private void requireFits(int seq, int workers) {
        String what;
        long elements;
        long largest;
        long working;
        if (op == Op.ATTENTION) {
            int kv = kvHeads == null ? heads : kvHeads;
            long q = tensorElements("--seq " + seq + ": q [B, S, H, D]", batch, seq, heads, headDim);
            long k = tensorElements("--seq " + seq + ": k [B, S, Hkv, D]", batch, seq, kv, headDim);
            long lse = (long) batch * heads * seq;
            // forward: q, k, v, o, lse; backward adds dO and the saved o, lse, and dq, dk, dv
            elements = backward ? 4 * q + 4 * k + 2 * lse : 2 * q + 2 * k + lse;
            largest = Math.max(q, k);
            // the cpu backend packs each worker's KV head (K transposed and V): 2·S·D floats per worker
            working = 2L * workers * seq * Math.max(headDim, 16) * (backward ? 3 : 1);
            what = String.format(Locale.ROOT, "attention B=%d S=%d H=%d Hkv=%d D=%d %s%s", batch, seq, heads, kv, headDim,
                    dtype, backward ? " backward" : "");
        } else {
            long rows = (long) batch * seq;
            if (rows > Integer.MAX_VALUE) {
                bad("--seq " + seq + ": batch x seq = " + rows + " rows, expected at most " + Integer.MAX_VALUE);
            }
            long x = tensorElements("--seq " + seq + ": x [B*S, hidden]", (int) rows, hidden);
            elements = backward ? 5 * x : 2 * x;
            largest = x;
            working = 0;
            what = String.format(Locale.ROOT, "%s norm rows=%d hidden=%d %s%s", norm.name().toLowerCase(Locale.ROOT), rows,
                    hidden, dtype, backward ? " backward" : "");
        }
        requireHeap("--seq " + seq, what, elements, largest + working);
    }

    /**
     * {@code elements} stored elements plus {@code extraFloats} host floats (a staging array, working memory)
     * within the heap this JVM may still use.
     */
    private void requireHeap(String option, String what, long elements, long extraFloats) {
        // 16-bit storage runs the F32 kernels on widened copies: 4 bytes per element on top of the stored ones.
        long perElement = dtype.byteSize() + (dtype == DType.F32 ? 0 : 4);
        double need = (double) elements * perElement + 4.0 * extraFloats;
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need > available) {
            bad(String.format(Locale.ROOT, "%s: %s needs about %.1f GiB of Java heap (inputs, outputs and working "
                    + "memory), but this JVM can use %.1f GiB; use smaller sizes or raise -Xmx", option, what,
                    need / GIB, available / GIB));
        }
    }

    /** The element count of a tensor of {@code dims}, refused unless a backend can index it. */
    private long tensorElements(String what, int... dims) {
        long n = 1;
        for (int d : dims) {
            n = Math.multiplyExact(n, (long) d);
        }
        if (n > Shape.MAX_TENSOR_ELEMENTS) {
            bad(what + " has " + n + " elements, expected at most " + Shape.MAX_TENSOR_ELEMENTS
                    + " (backends index tensors with int)");
        }
        return n;
    }

    private void bad(String message) {
        throw new ParameterException(spec.commandLine(), message);
    }

    /**
     * One row to measure: what its record says (the op's name, its sizes, a sequence length or a gemm form) and
     * how to prepare its workload.
     */
    private record Config(String op, String shape, Integer seq, String form, Function<Backend, Workload> prepare) {
    }

    /** Every configuration of this command line, in the order they are measured. */
    private List<Config> configs() {
        List<Config> configs = new ArrayList<>();
        switch (op) {
            case ATTENTION -> {
                for (int seq : seqs) {
                    AttentionShape shape = attentionShape(seq);
                    configs.add(new Config("attention", String.format(Locale.ROOT, "B=%d S=%d H=%d KV=%d D=%d", batch,
                            seq, heads, shape.kvHeads(), headDim), seq, null,
                            b -> AttentionWorkload.prepare(b, shape, dtype, causal, backward, SEED)));
                }
            }
            case NORM -> {
                for (int seq : seqs) {
                    int rows = Math.multiplyExact(batch, seq);
                    NormKind kind = norm == Norm.LAYER ? NormKind.LAYER_NORM : NormKind.RMS_NORM;
                    configs.add(new Config(norm.name().toLowerCase(Locale.ROOT) + "_norm",
                            "rows=" + rows + " C=" + hidden, seq, null,
                            b -> NormWorkload.prepare(b, kind, rows, hidden, dtype, backward, SEED)));
                }
            }
            case GEMM -> {
                for (String text : shapes) {
                    int[] mnk = gemmShape(text);
                    String shape = mnk[0] + "x" + mnk[1] + "x" + mnk[2];
                    for (String form : forms) {
                        configs.add(new Config("gemm", shape, null, form,
                                b -> GemmWorkload.prepare(b, mnk[0], mnk[1], mnk[2], form, dtype, SEED)));
                    }
                }
            }
            case OPS -> {
                List<MemoryOpWorkload.MemoryOp> chosen = memoryOps.isEmpty()
                        ? List.of(MemoryOpWorkload.MemoryOp.values()) : memoryOps.stream().map(this::memoryOp).toList();
                for (MemoryOpWorkload.MemoryOp m : chosen) {
                    configs.add(new Config(m.label(), "n=" + size, null, null,
                            b -> MemoryOpWorkload.prepare(b, m, size / hidden, hidden, vocab, dtype, SEED)));
                }
            }
            case LOSS -> {
                String shape = "N=" + tokens + " V=" + vocab + " d=" + dim;
                configs.add(new Config("linear_cross_entropy", shape, null, null,
                        b -> CrossEntropyWorkload.prepare(b, tokens, vocab, dim, false, dtype, SEED)));
                configs.add(new Config("cross_entropy_gemms", shape, null, null,
                        b -> CrossEntropyWorkload.prepare(b, tokens, vocab, dim, true, dtype, SEED)));
            }
        }
        return configs;
    }

    private List<BenchRecord> benchOn(BackendSelector selector, ProviderStatus target, List<String> problems) {
        BackendOptions options = threads == null ? BackendOptions.none()
                : BackendOptions.of(Map.of("threads", Integer.toString(threads)));
        int usedThreads = threads != null ? threads : BackendOptions.fromSystemProperties(target.name())
                .getInt("threads", Runtime.getRuntime().availableProcessors());
        List<BenchRecord> records = new ArrayList<>();
        Backend backend;
        try {
            backend = selector.open(target.name(), options);
        } catch (RuntimeException | LinkageError e) {
            problems.add("backend '" + target.name() + "' could not be opened: " + e);
            return records;
        }
        List<Config> configs = configs();
        try (backend; Progress progress = env.progress().start(target.name(), (long) configs.size() * (warmup + repeats))) {
            for (Config config : configs) {
                records.add(measure(backend, config, usedThreads, progress, problems));
            }
        }
        return records;
    }

    private BenchRecord measure(Backend backend, Config config, int usedThreads, Progress progress,
                                List<String> problems) {
        String name = config.seq() != null ? "seq " + config.seq() : config.op() + " " + config.shape()
                + (config.form() == null ? "" : " " + config.form());
        LoggerFactory.getLogger(BenchCommand.class).debug("bench {} {}", backend.name(), name);
        double[] samples = new double[repeats];
        double flops;
        double bytes;
        try (Workload w = config.prepare().apply(backend)) {
            flops = w.flops();
            bytes = w.bytes();
            for (int i = 0; i < warmup; i++) {
                w.run();
                progress.step();
            }
            for (int i = 0; i < repeats; i++) {
                long start = System.nanoTime();
                w.run();
                samples[i] = (System.nanoTime() - start) / 1e6;
                progress.step();
            }
        } catch (UnsupportedCapabilityException e) {
            return record(backend.name(), config, usedThreads, null, Double.NaN, Double.NaN,
                    "unsupported: " + e.capability());
        } catch (InvalidRequestException e) {
            throw e; // sizes the backend cannot take are the user's to fix: exit 2
        } catch (RuntimeException e) {
            problems.add(backend.name() + " " + name + " failed: " + e);
            return record(backend.name(), config, usedThreads, null, Double.NaN, Double.NaN, "failed: " + e);
        } catch (OutOfMemoryError e) {
            // validate() refuses what cannot fit by its estimate; a backend may still need more. The workload's
            // tensors are freed by now, so the run goes on with the next configuration.
            problems.add(backend.name() + " " + name + " ran out of Java heap (raise -Xmx or use smaller sizes)");
            return record(backend.name(), config, usedThreads, null, Double.NaN, Double.NaN, "failed: out of memory");
        }
        return record(backend.name(), config, usedThreads, Timing.of(samples), flops, bytes, "ok");
    }

    private AttentionShape attentionShape(int seq) {
        return new AttentionShape(batch, seq, seq, heads, kvHeads == null ? heads : kvHeads, headDim);
    }

    private BenchRecord record(String backend, Config config, int usedThreads, Timing t, double flops, double bytes,
                               String status) {
        boolean attention = op == Op.ATTENTION;
        boolean sequence = op == Op.ATTENTION || op == Op.NORM;
        Double median = t == null ? null : t.medianMs();
        Double gflops = t != null && Double.isFinite(flops) && median > 0 ? flops / (median * 1e-3) / 1e9 : null;
        Double gbps = t != null && Double.isFinite(bytes) && median > 0 ? bytes / (median * 1e-3) / 1e9 : null;
        return new BenchRecord(backend, config.op(), config.shape(), sequence ? batch : null, attention ? heads : null,
                attention ? (kvHeads == null ? heads : kvHeads) : null, config.seq(), attention ? headDim : null,
                op == Op.NORM || op == Op.OPS ? hidden : null, config.form(), dtype.name(), attention && causal,
                sequence && backward, usedThreads, warmup, repeats, median, t == null ? null : t.minMs(),
                t == null ? null : t.maxMs(), gflops, gbps, status);
    }

    private void print(List<BenchRecord> records) {
        TextTable table = new TextTable("BACKEND", "OP", op == Op.ATTENTION || op == Op.NORM ? "SEQ" : "SHAPE", "CAUSAL",
                "BACKWARD", "THREADS", "MEDIAN MS", "MIN MS", "MAX MS", "GFLOP/S", "GB/S", "STATUS");
        for (BenchRecord r : records) {
            table.row(r.backend(), r.op(), BenchReport.size(r), r.causal() ? "yes" : "no", r.backward() ? "yes" : "no",
                    r.threads(), number(r.msMedian()), number(r.msMin()), number(r.msMax()), number(r.gflops()),
                    number(r.gbps()), r.status());
        }
        table.print(env.out());
        BenchReport.ratios(records).forEach(env.out()::println);
    }

    private static Object number(Double v) {
        if (v == null) {
            return TextTable.right("-");
        }
        return TextTable.right(BenchReport.figure(v));
    }

    private void write(List<BenchRecord> records) {
        Path file = out.resolve(RESULTS_FILE);
        byte[] png = BenchReport.chart(records);
        try {
            Files.createDirectories(out);
            JSON.writeValue(file.toFile(), records);
            if (png != null) {
                Files.write(out.resolve(CHART_FILE), png);
            } else {
                Files.deleteIfExists(out.resolve(CHART_FILE)); // an older run's chart would contradict this table
            }
            Files.writeString(out.resolve(PAGE_FILE), BenchReport.render(records, png, ZonedDateTime.now()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results into " + out + ": " + e.getMessage(), e);
        }
        env.out().println("results: " + file + (png != null ? ", chart: " + out.resolve(CHART_FILE) : "")
                + ", page: " + out.resolve(PAGE_FILE));
    }
}
