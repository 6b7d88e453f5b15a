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

/**
 * {@code attn4j bench attention|norm}: times an op on every available backend (or the named ones) after
 * warm-up runs, prints median, min and max per sequence length, and GFLOP/s by docs/design.md §8's count; with
 * {@code --out DIR} also writes {@code bench.json}, the chart {@code bench.png} and the page {@code bench.html}
 * ({@link BenchReport}).
 * A quick look, not a substitute for the JMH benchmarks: one process, wall-clock timing.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time attention or normalisation on each backend: warm-up, repeats, median/min/max, GFLOP/s.")
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
        NORM
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

    @Parameters(index = "0", paramLabel = "OP", description = "attention or norm.")
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
            description = "Normalised dimension for 'norm' (rows = batch x seq). Default: ${DEFAULT-VALUE}.")
    int hidden;

    @Option(names = "--norm", defaultValue = "layer", description = "layer or rms. Default: ${DEFAULT-VALUE}.")
    Norm norm;

    @Option(names = "--causal", description = "Causal attention (half the FLOPs).")
    boolean causal;

    @Option(names = "--backward", description = "Time the backward (on the outputs of one forward).")
    boolean backward;

    @Option(names = "--dtype", defaultValue = "F32", description = "Storage type: F32, F16 or BF16. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed runs first. Default: ${DEFAULT-VALUE}.")
    int warmup;

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
     * Every number is checked before anything runs (exit 2, one line): ranges, tensor sizes that backends can
     * index (at most {@link Shape#MAX_TENSOR_ELEMENTS} elements), and an estimate of the Java heap each
     * configuration needs against what this JVM may use.
     */
    private void validate() {
        range("--batch", batch, 1, Integer.MAX_VALUE);
        range("--heads", heads, 1, Integer.MAX_VALUE);
        range("--head-dim", headDim, 1, Integer.MAX_VALUE);
        range("--hidden", hidden, 1, Integer.MAX_VALUE);
        // The timings are kept (8 bytes each) and every run is one call: a million is hours already.
        range("--repeats", repeats, 1, MAX_RUNS);
        range("--warmup", warmup, 0, MAX_RUNS);
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
        if (threads != null) {
            range("--threads", threads, 1, MAX_THREADS);
        }
        if (!dtype.isFloating()) {
            bad("--dtype: expected F32, F16 or BF16, got " + dtype);
        }
        if (op == Op.NORM && (causal || kvHeads != null)) {
            bad((causal ? "--causal" : "--kv-heads") + ": applies to 'attention' only");
        }
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        for (int seq : seqs) {
            requireFits(seq, workers);
        }
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
        // 16-bit storage runs the F32 kernels on widened copies: 4 bytes per element on top of the stored ones.
        long perElement = dtype.byteSize() + (dtype == DType.F32 ? 0 : 4);
        double need = (double) elements * perElement + 4.0 * largest + 4.0 * working;
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need > available) {
            bad(String.format(Locale.ROOT, "--seq %d: %s needs about %.1f GiB of Java heap (inputs, outputs and working "
                    + "memory), but this JVM can use %.1f GiB; use smaller sizes or raise -Xmx", seq, what, need / GIB,
                    available / GIB));
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
        try (backend; Progress progress = env.progress().start(target.name(), (long) seqs.size() * (warmup + repeats))) {
            for (int seq : seqs) {
                records.add(measure(backend, seq, usedThreads, progress, problems));
            }
        }
        return records;
    }

    private BenchRecord measure(Backend backend, int seq, int usedThreads, Progress progress, List<String> problems) {
        LoggerFactory.getLogger(BenchCommand.class).debug("bench {} {} seq {}", backend.name(), op, seq);
        double[] samples = new double[repeats];
        double flops;
        try (Workload w = prepare(backend, seq)) {
            flops = w.flops();
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
            return record(backend.name(), seq, usedThreads, null, Double.NaN, "unsupported: " + e.capability());
        } catch (InvalidRequestException e) {
            throw e; // sizes the backend cannot take are the user's to fix: exit 2
        } catch (RuntimeException e) {
            problems.add(backend.name() + " seq " + seq + " failed: " + e);
            return record(backend.name(), seq, usedThreads, null, Double.NaN, "failed: " + e);
        } catch (OutOfMemoryError e) {
            // validate() refuses what cannot fit by its estimate; a backend may still need more. The workload's
            // tensors are freed by now, so the run goes on with the next configuration.
            problems.add(backend.name() + " seq " + seq + " ran out of Java heap (raise -Xmx or use smaller sizes)");
            return record(backend.name(), seq, usedThreads, null, Double.NaN, "failed: out of memory");
        }
        return record(backend.name(), seq, usedThreads, Timing.of(samples), flops, "ok");
    }

    private Workload prepare(Backend backend, int seq) {
        return switch (op) {
            case ATTENTION -> AttentionWorkload.prepare(backend, attentionShape(seq), dtype, causal, backward, SEED);
            case NORM -> NormWorkload.prepare(backend, norm == Norm.LAYER ? NormKind.LAYER_NORM : NormKind.RMS_NORM,
                    Math.multiplyExact(batch, seq), hidden, dtype, backward, SEED);
        };
    }

    private AttentionShape attentionShape(int seq) {
        return new AttentionShape(batch, seq, seq, heads, kvHeads == null ? heads : kvHeads, headDim);
    }

    private BenchRecord record(String backend, int seq, int usedThreads, Timing t, double flops, String status) {
        boolean attention = op == Op.ATTENTION;
        Double gflops = t != null && Double.isFinite(flops) && t.medianMs() > 0 ? flops / (t.medianMs() * 1e-3) / 1e9 : null;
        return new BenchRecord(backend, attention ? "attention" : norm.name().toLowerCase(Locale.ROOT) + "_norm", batch,
                attention ? heads : null, attention ? (kvHeads == null ? heads : kvHeads) : null, seq,
                attention ? headDim : null, attention ? null : hidden, dtype.name(), attention && causal, backward,
                usedThreads, warmup, repeats, t == null ? null : t.medianMs(), t == null ? null : t.minMs(),
                t == null ? null : t.maxMs(), gflops, status);
    }

    private void print(List<BenchRecord> records) {
        TextTable table = new TextTable("BACKEND", "OP", "SEQ", "CAUSAL", "BACKWARD", "THREADS", "MEDIAN MS", "MIN MS",
                "MAX MS", "GFLOP/S", "STATUS");
        for (BenchRecord r : records) {
            table.row(r.backend(), r.op(), r.seq(), r.causal() ? "yes" : "no", r.backward() ? "yes" : "no", r.threads(),
                    number(r.msMedian()), number(r.msMin()), number(r.msMax()), number(r.gflops()), r.status());
        }
        table.print(env.out());
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
