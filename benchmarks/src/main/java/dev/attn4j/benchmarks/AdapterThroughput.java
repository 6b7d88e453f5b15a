package dev.attn4j.benchmarks;

import dev.attn4j.domain.adapters.Adapter;
import dev.attn4j.domain.adapters.LoraConfig;
import dev.attn4j.domain.adapters.PeftModel;
import dev.attn4j.domain.adapters.TargetModules;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.parameters.ParameterGroup;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * LoRA against full fine-tuning on one backend, in one process, alternating the two so both see the same machine
 * state (issue 17): trainable parameters, gradient and AdamW-moment memory, and the tokens/s of a whole training step
 * (forward, loss, backward, AdamW on every trainable group). Full fine-tuning trains every parameter of the preset;
 * LoRA freezes the base (no gradient buffers, no weight-gradient GEMMs) and trains rank-{@code r} adapters on the
 * chosen layers.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.attn4j.benchmarks.AdapterThroughput \
 *      --model orca --batch 1 --seq 512 --rounds 3 --r 8 --targets to_q,to_v [--backend cpu]
 * </pre>
 */
public final class AdapterThroughput {
    private AdapterThroughput() {
    }

    public static void main(String[] args) {
        String model = "orca";
        int batch = 1;
        int seq = 512;
        int rounds = 3;
        int rank = 8;
        String[] targets = {"to_q", "to_v"};
        String backendName = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--seq" -> seq = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--r" -> rank = Integer.parseInt(args[++i]);
                case "--targets" -> targets = args[++i].split(",");
                case "--backend" -> backendName = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        TransformerConfig config = (TransformerConfig) ModelConfigs.load(model);
        int[] ids = new int[batch * seq];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(config.numTokens());
        }
        TokenBatch tokens = TokenBatch.of(ids, batch, seq);
        int[] next = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            next[i] = (i + 1) % seq == 0 ? -100 : ids[i + 1];
        }
        long n = (long) batch * seq;
        try (Backend backend = backendName == null ? Backends.open() : Backends.open(backendName);
             Transformer full = Transformer.create(backend, config, 1L);
             Transformer base = Transformer.create(backend, config, 1L, spec -> false);
             PeftModel peft = PeftModel.wrap(base)) {
            Adapter lora = peft.add("default", LoraConfig.of(rank, 2.0 * rank, TargetModules.names(targets)), 2L);
            System.out.println("# " + model + " on " + backend.name() + " " + backend.devices() + ", B=" + batch + " S=" + seq
                    + ", " + full.parameters().count() + " parameters; LoRA r=" + rank + " on " + Arrays.toString(targets)
                    + " (" + lora.layers().size() + " layers)");
            report("full", full.parameters());
            report("lora", lora.parameters());
            Trainable f = new Trainable(backend, full, full.parameters());
            Trainable l = new Trainable(backend, base, lora.parameters());
            f.step(tokens, next, n);      // warm-up
            l.step(tokens, next, n);
            double[] fw = new double[rounds];
            double[] lw = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                fw[i] = f.step(tokens, next, n);
                lw[i] = l.step(tokens, next, n);
            }
            Arrays.sort(fw);
            Arrays.sort(lw);
            double fm = fw[rounds / 2];
            double lm = lw[rounds / 2];
            System.out.printf("full_train_step_tokens_per_s %.1f tokens/s (median %.3f s, best %.3f s)%n", n / fm, fm, fw[0]);
            System.out.printf("lora_train_step_tokens_per_s %.1f tokens/s (median %.3f s, best %.3f s)%n", n / lm, lm, lw[0]);
            System.out.printf("lora_speedup %.2fx (median step time full / lora; load %.2f)%n", fm / lm,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            f.close();
            l.close();
        }
    }

    private static void report(String name, ParameterStore store) {
        long trainable = store.trainableCount();
        long gradElements = 0;
        for (ParameterGroup g : store.groups()) {
            if (g.trainable()) {
                gradElements += g.size();
            }
        }
        System.out.printf("%s_trainable_parameters %d%n", name, trainable);
        System.out.printf("%s_gradient_bytes %d%n", name, 4 * gradElements);
        System.out.printf("%s_adamw_moment_bytes %d%n", name, 8 * gradElements);
    }

    /** A model and the store an optimizer trains, with its AdamW moments. */
    private static final class Trainable {
        private final Backend backend;
        private final Transformer model;
        private final ParameterStore store;
        private final List<DeviceTensor[]> moments = new ArrayList<>();
        private long steps;

        Trainable(Backend backend, Transformer model, ParameterStore store) {
            this.backend = backend;
            this.model = model;
            this.store = store;
            for (ParameterGroup g : store.groups()) {
                if (g.trainable()) {
                    moments.add(new DeviceTensor[] {backend.tensors().zeros(g.values().shape(), DType.F32),
                            backend.tensors().zeros(g.values().shape(), DType.F32)});
                }
            }
        }

        /** One training step; returns its wall seconds (ending with a download, so the device has finished). */
        double step(TokenBatch tokens, int[] targets, long n) {
            long t0 = System.nanoTime();
            store.zeroGrads();
            try (Step step = Step.training(backend, 3L, steps * 16)) {
                Transformer.Pass pass = model.forward(step, tokens, true);
                Transformer.Loss loss = model.lossAndBackward(step, pass, targets, 1f / n);
                backend.tensors().download(loss.sum());
            }
            steps++;
            int gi = 0;
            for (ParameterGroup g : store.groups()) {
                if (!g.trainable()) {
                    continue;
                }
                DeviceTensor[] mv = moments.get(gi++);
                backend.optimizer().adamW(new AdamWRequest(g.values(), g.grads(), mv[0], mv[1], steps, 1e-4f, 0.9f, 0.999f,
                        1e-8f, 0.01f, null));
            }
            backend.tensors().download(store.parameters().get(0).value());
            return (System.nanoTime() - t0) / 1e9;
        }

        void close() {
            moments.forEach(mv -> {
                mv[0].close();
                mv[1].close();
            });
        }
    }
}
