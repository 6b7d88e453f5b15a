package dev.attn4j.benchmarks;

import dev.attn4j.domain.generation.Generator;
import dev.attn4j.domain.generation.Sampling;
import dev.attn4j.domain.layers.KvCache;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.parameters.ParameterGroup;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;

/**
 * Whole-model throughput of a preset on one backend (not JMH: one step takes seconds): forward tokens/s, a full
 * training step's tokens/s (forward, backward, AdamW on every group), time to first token of a prompt and cached
 * decode tokens/s (after 64 untimed tokens, then 64 timed). Prints one {@code name value unit} line per figure, plus wall and process CPU seconds, so runs on
 * a shared machine can be read as CPU time too.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.attn4j.benchmarks.ModelThroughput \
 *      --model orca --batch 1 --seq 2048 --repeats 3 [--decode 1024,8192] [--backend cpu] [--checkpoint] [--fuse-qkv]
 *      [--concatenated-glu]
 * </pre>
 */
public final class ModelThroughput {
    private ModelThroughput() {
    }

    public static void main(String[] args) {
        String model = "orca";
        int batch = 1;
        int seq = 2048;
        int repeats = 3;
        String backendName = null;
        boolean checkpoint = false;
        boolean fuseQkv = false;
        boolean splitGlu = true;
        int[] decode = {};
        boolean train = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--seq" -> seq = Integer.parseInt(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--backend" -> backendName = args[++i];
                case "--checkpoint" -> checkpoint = true;
                case "--fuse-qkv" -> fuseQkv = true;
                case "--concatenated-glu" -> splitGlu = false;
                case "--no-train" -> train = false;
                case "--decode" -> decode = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        TransformerConfig config = (TransformerConfig) ModelConfigs.load(model);
        try (Backend backend = backendName == null ? Backends.open() : Backends.open(backendName);
             Transformer m = Transformer.create(backend, config, 1L)) {
            m.stack().checkpoint(checkpoint);
            m.stack().fuseQkv(fuseQkv);
            m.stack().splitGlu(splitGlu);
            System.out.println("# " + model + " on " + backend.name() + " " + backend.devices() + ", B=" + batch + " S=" + seq
                    + ", " + m.parameters().count() + " parameters, checkpoint=" + checkpoint + ", fuse_qkv=" + fuseQkv
                    + ", split_glu=" + splitGlu);
            int[] ids = new int[batch * seq];
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(config.numTokens());
            }
            TokenBatch tokens = TokenBatch.of(ids, batch, seq);
            int[] targets = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                targets[i] = (i + 1) % seq == 0 ? -100 : ids[i + 1];
            }
            long n = (long) batch * seq;
            peakHeapMiB(); // from here on: the phases' own peaks
            measure("forward_tokens_per_s", n, repeats, () -> {
                try (Step step = Step.inference(backend)) {
                    Transformer.Pass pass = m.forward(step, tokens, false);
                    Transformer.Loss loss = m.loss(step, pass, targets);
                    backend.tensors().download(loss.sum());
                }
            });
            if (train) {
                List<DeviceTensor[]> moments = new ArrayList<>();
                for (ParameterGroup g : m.parameters().groups()) {
                    moments.add(new DeviceTensor[] {backend.tensors().zeros(g.values().shape(), DType.F32),
                            backend.tensors().zeros(g.values().shape(), DType.F32)});
                }
                long[] stepNo = {0};
                measure("train_step_tokens_per_s", n, repeats, () -> {
                    m.parameters().zeroGrads();
                    try (Step step = Step.training(backend, 3L, stepNo[0] * 16)) {
                        Transformer.Pass pass = m.forward(step, tokens, true);
                        m.lossAndBackward(step, pass, targets, 1f / n);
                    }
                    stepNo[0]++;
                    int gi = 0;
                    for (ParameterGroup g : m.parameters().groups()) {
                        DeviceTensor[] mv = moments.get(gi++);
                        backend.optimizer().adamW(new AdamWRequest(g.values(), g.grads(), mv[0], mv[1], stepNo[0], 1e-4f,
                                0.9f, 0.999f, 1e-8f, 0.01f, null));
                    }
                    backend.tensors().download(m.parameters().groups().get(0).values().shape().elementCount() > 0
                            ? m.parameters().get(m.parameters().names().get(0)).value() : null);
                });
                moments.forEach(mv -> {
                    mv[0].close();
                    mv[1].close();
                });
            }
            for (int context : decode) {
                int[] prompt = Arrays.copyOf(ids, Math.min(context, ids.length));
                if (prompt.length < context) {
                    prompt = new int[context];
                    for (int i = 0; i < context; i++) {
                        prompt[i] = r.nextInt(config.numTokens());
                    }
                }
                // Untimed tokens first: a decode step runs code (one-row GEMMs, the attention's decode path) that the
                // forward passes above never compiled, and the JIT needs a few dozen steps to finish with it.
                int warmup = 64;
                int newTokens = 64;
                int[] p = prompt;
                try (KvCache cache = new KvCache(backend, 1, context + warmup + newTokens)) {
                    long t0 = System.nanoTime();
                    try (Step step = Step.inference(backend)) {
                        m.decode(step, TokenBatch.of(p, 1, context), cache, null, null);
                    }
                    long t1 = System.nanoTime();
                    System.out.printf("time_to_first_token_ctx%d %.1f ms%n", context, (t1 - t0) / 1e6);
                    int next = 1;
                    for (int t = 0; t < warmup; t++) {
                        try (Step step = Step.inference(backend)) {
                            next = argmax(m.decode(step, TokenBatch.of(new int[] {next}, 1, 1), cache, null, null));
                        }
                    }
                    long cpu0 = cpuNanos();
                    long t2 = System.nanoTime();
                    for (int t = 0; t < newTokens; t++) {
                        try (Step step = Step.inference(backend)) {
                            float[] logits = m.decode(step, TokenBatch.of(new int[] {next}, 1, 1), cache, null, null);
                            next = argmax(logits);
                        }
                    }
                    long t3 = System.nanoTime();
                    System.out.printf("decode_tokens_per_s_ctx%d %.1f tokens/s (%.1f ms/token, cpu %.1f ms/token)%n", context,
                            newTokens / ((t3 - t2) / 1e9), (t3 - t2) / 1e6 / newTokens, (cpuNanos() - cpu0) / 1e6 / newTokens);
                }
            }
            int[][] out = Generator.generate(m, new int[][] {Arrays.copyOf(ids, 8)}, 4, Sampling.greedy(), OptionalInt.empty());
            System.out.println("# generate smoke: " + Arrays.toString(out[0]));
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static void measure(String name, long tokens, int repeats, Runnable body) {
        body.run(); // warm-up
        double[] wall = new double[repeats];
        double[] cpu = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long c0 = cpuNanos();
            long t0 = System.nanoTime();
            body.run();
            wall[i] = (System.nanoTime() - t0) / 1e9;
            cpu[i] = (cpuNanos() - c0) / 1e9;
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        double w = wall[repeats / 2];
        System.out.printf("%s %.1f tokens/s (median wall %.3f s, best %.3f s; process cpu %.2f s; load %.2f)%n", name,
                tokens / w, w, wall[0], cpu[repeats / 2], ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.printf("%s_peak_heap %.0f MiB%n", name.replace("_tokens_per_s", ""), peakHeapMiB());
    }

    /**
     * The most heap in use since the last call, bounded from above by the sum of the heap pools' peaks (then reset;
     * the pools need not peak together): the cpu backend keeps every
     * tensor on the heap, so this is the phase's peak memory, garbage not yet collected included.
     */
    private static double peakHeapMiB() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
                pool.resetPeakUsage();
            }
        }
        return peak / (1024.0 * 1024.0);
    }
}
