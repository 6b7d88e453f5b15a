package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * attn4j's side of the PyTorch CPU anchor ({@code ../shared/anchors/pytorch-cpu}): the same items, shapes, layout
 * ({@code [B, H, S, D]}), timing and output format, so that {@code benchmarks/attention-vs-pytorch.sh} can run
 * the two in turn and compare them line by line.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *      dev.attn4j.benchmarks.AttentionAnchorRun --heads 8 --seq 2048 --dim 64 --only fwd_full,bwd_causal
 * </pre>
 *
 * <p>Items: {@code fwd_full}, {@code fwd_causal}, {@code bwd_full}, {@code bwd_causal} (the backward alone, from a
 * saved forward, as the anchor times autograd's backward alone). Causal is bottom-right aligned (docs/design.md
 * §4), so with {@code --seqq 1} (decode) {@code fwd_causal} is the one query row seeing every key, which is
 * PyTorch's {@code is_causal=False}. FLOPs as docs/design.md §8: {@code 4·B·H·Sq·Sk·D}, half when causal and
 * {@code Sq = Sk}, backward 2.5×.
 *
 * <p>Output: {@code name ms_median ms_min GFLOP/s(best) cpu_ms_median} per item, everything else starting with
 * {@code #}. Each item is warmed up for at least {@code --warmup} calls and two seconds, and until the JIT has been
 * quiet for a second (it compiles the kernels during the first calls), then timed over {@code --runs} calls;
 * {@code cpu_ms} is the CPU time of all the JVM's threads per call, which a loaded machine inflates less than
 * wall-clock time.
 */
public final class AttentionAnchorRun {
    private AttentionAnchorRun() {
    }

    public static void main(String[] args) {
        int b = 1;
        int h = 8;
        int hkv = -1;
        int s = 2048;
        int sq = -1;
        int d = 64;
        int warmup = 3;
        int runs = 10;
        String backend = "cpu";
        Set<String> only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> b = Integer.parseInt(args[++i]);
                case "--heads" -> h = Integer.parseInt(args[++i]);
                case "--kvheads" -> hkv = Integer.parseInt(args[++i]);
                case "--seq" -> s = Integer.parseInt(args[++i]);
                case "--seqq" -> sq = Integer.parseInt(args[++i]);
                case "--dim" -> d = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--backend" -> backend = args[++i];
                case "--only" -> only = new LinkedHashSet<>(Arrays.asList(args[++i].split(",")));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        hkv = hkv < 0 ? h : hkv;
        sq = sq < 0 ? s : sq;
        List<String> results = new ArrayList<>();
        try (Backend engine = Backends.open(backend)) {
            System.out.printf(Locale.ROOT, "# attn4j %s, [B,H,S,D]=[%d,%d,%d,%d] fp32 BHSD, kv heads %d, query length %d,"
                    + " warmup %d (and >= 2 s, until the JIT is quiet), runs %d, %d processors%n", backend, b, h, s, d, hkv, sq, warmup, runs,
                    Runtime.getRuntime().availableProcessors());
            DeviceTensor q = Inputs.upload(engine, Shape.of(b, h, sq, d), 1);
            DeviceTensor k = Inputs.upload(engine, Shape.of(b, hkv, s, d), 2);
            DeviceTensor v = Inputs.upload(engine, Shape.of(b, hkv, s, d), 3);
            DeviceTensor dO = Inputs.upload(engine, Shape.of(b, h, sq, d), 4);
            double fwd = 4.0 * b * h * (double) sq * s * d;
            for (String item : List.of("fwd_full", "fwd_causal", "bwd_full", "bwd_causal")) {
                if (only != null && !only.contains(item)) {
                    continue;
                }
                boolean causal = item.endsWith("causal");
                boolean backward = item.startsWith("bwd");
                AttentionOptions options = AttentionOptions.builder().causal(causal).layout(AttentionLayout.BHSD).build();
                double flops = (causal && sq == s ? fwd / 2 : fwd) * (backward ? 2.5 : 1);
                AttentionResult saved = backward ? engine.attention().forward(new AttentionRequest(q, k, v, options)) : null;
                Runnable call = backward
                        ? () -> {
                            try (AttentionGradients g = engine.attention().backward(
                                    new AttentionBackwardRequest(dO, q, k, v, saved.o(), saved.lse(), options))) {
                                sink += g.dq().shape().rank();
                            }
                        }
                        : () -> {
                            try (AttentionResult r = engine.attention().forward(new AttentionRequest(q, k, v, options))) {
                                sink += r.o().shape().rank();
                            }
                        };
                warmUp(call, warmup);
                long[] wall = new long[runs];
                long[] cpu = new long[runs];
                for (int r = 0; r < runs; r++) {
                    long c0 = cpuTime();
                    long t0 = System.nanoTime();
                    call.run();
                    wall[r] = System.nanoTime() - t0;
                    cpu[r] = cpuTime() - c0;
                }
                if (saved != null) {
                    saved.close();
                }
                Arrays.sort(wall);
                Arrays.sort(cpu);
                String line = String.format(Locale.ROOT, "%s %.3f %.3f %.1f %.3f", item, median(wall) / 1e6,
                        wall[0] / 1e6, flops / wall[0], median(cpu) / 1e6);
                System.out.println(line);
                results.add(line);
            }
        }
        System.out.println("# name ms_median ms_min GFLOP/s(best) cpu_ms_median");
        results.forEach(System.out::println);
    }

    static int sink;

    /**
     * At least {@code calls} calls and two seconds, then on until the JIT has finished no compilation for a second (at
     * most 30 s): on a loaded machine C2's threads get little time, and the first item of a JVM was still partly
     * interpreted after one second (a fifth of its later speed at Sk = 77, a tenth for a decode call).
     */
    private static void warmUp(Runnable call, int calls) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long start = System.nanoTime();
        long quietSince = start;
        long compiled = jit.getTotalCompilationTime();
        for (int w = 0; ; w++) {
            call.run();
            long now = System.nanoTime();
            long total = jit.getTotalCompilationTime();
            if (total != compiled) {
                compiled = total;
                quietSince = now;
            }
            boolean enough = w + 1 >= calls && now - start >= 2_000_000_000L && now - quietSince >= 1_000_000_000L;
            if (enough || now - start >= 30_000_000_000L) {
                return;
            }
        }
    }

    /**
     * CPU time of all live threads, in ns: per-thread clocks have nanosecond resolution, where the process's CPU
     * time is counted in scheduler ticks (10 ms here).
     */
    private static long cpuTime() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    private static double median(long[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
