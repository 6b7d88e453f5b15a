package dev.attn4j.conformance.models;

import dev.attn4j.domain.adapters.Adapter;
import dev.attn4j.domain.adapters.AdapterConfigs;
import dev.attn4j.domain.adapters.PeftModel;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.domain.parameters.ParameterGroup;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.TensorEntry;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * PEFT parity (issue 17): the adapter fixtures of {@code src/test/python/make_adapter_fixtures.py} (PEFT's LoRA,
 * rsLoRA and VeRA formulas in torch, on the model fixtures' x-transformers models) loaded from their PEFT adapter
 * directories onto a frozen base give the adapted model's logits, loss, every adapter gradient and the tensors after
 * one AdamW step (LoRA+ groups), within PyTorch's pass rule; the merged weights give the same logits; a saved
 * directory holds exactly the fixture's tensors.
 */
public class AdapterParityTest {
    static final Path DIR = Path.of("src/test/resources/adapters");

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class, OptimizerCapabilities.class})
    void loraGptSmall(Backend backend) {
        parity(backend, "lora_gpt_small");
    }

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class, OptimizerCapabilities.class})
    void veraGptSmall(Backend backend) {
        parity(backend, "vera_gpt_small");
    }

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class, OptimizerCapabilities.class})
    void rsloraOrcaSmall(Backend backend) {
        parity(backend, "rslora_orca_small");
    }

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class, OptimizerCapabilities.class})
    void mergedLoraLogits(Backend backend) {
        mergedLogitsEqualAdapterLogits(backend, "lora_gpt_small");
    }

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class, OptimizerCapabilities.class})
    void switchingAdapters(Backend backend) {
        AdapterBehaviour.switchingAdapters(backend);
    }

    @EachBackend(ports = {LinearCapabilities.class, ElementwiseCapabilities.class, ActivationCapabilities.class,
            RandomCapabilities.class})
    void dropoutMask(Backend backend) {
        AdapterBehaviour.dropoutIsThePhiloxMaskInForwardAndBackward(backend);
    }

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class, OptimizerCapabilities.class})
    void pissaConvertsToLora(Backend backend) throws Exception {
        Path dir = Files.createTempDirectory("attn4j-pissa");
        try {
            AdapterBehaviour.pissaStartsAtTheBaseAndConvertsToLora(backend, dir, 0);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** The golden values of one adapter case. */
    record Golden(String name, String model, Map<String, double[]> expected, Map<String, Double> refErrors,
                  Map<String, String> metadata) {
        static Golden load(String name) {
            try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve(name + ".safetensors"))) {
                Map<String, double[]> expected = new LinkedHashMap<>();
                for (TensorEntry e : r.entries()) {
                    expected.put(e.name().substring("expected.".length()), r.readDoubles(e.name()));
                }
                Map<String, Double> refs = new LinkedHashMap<>();
                r.metadata().forEach((k, v) -> {
                    if (k.startsWith("ref_err.")) {
                        refs.put(k.substring("ref_err.".length()), Double.parseDouble(v));
                    }
                });
                return new Golden(name, r.metadata().get("model"), expected, refs, r.metadata());
            }
        }

        /** PyTorch's pass rule. */
        double tolerance(String output) {
            Double ref = refErrors.get(output);
            if (ref == null) {
                throw new IllegalStateException(name + " has no ref_err." + output);
            }
            return Math.max(1e-5, 5 * ref);
        }

        Path directory() {
            return DIR.resolve(name);
        }

        double meta(String key) {
            return Double.parseDouble(metadata.get(key));
        }
    }

    /** A frozen base model of the fixture's model with its weights, and the fixture's batch. */
    record Base(Transformer model, TokenBatch batch, int[] targets, ModelFixture fixture) {
        static Base load(Backend backend, String modelFixture) {
            ModelFixture f = ModelFixture.load(modelFixture);
            TransformerConfig config = (TransformerConfig) ModelConfigs.parse(f.config());
            int[] shape = f.shapes().get("ids");
            boolean[] mask = f.tensors().containsKey("mask") ? f.bools("mask") : null;
            TokenBatch batch = mask == null ? TokenBatch.of(f.ints("ids"), shape[0], shape[1])
                    : TokenBatch.masked(f.ints("ids"), mask, shape[0], shape[1]);
            Transformer model = Transformer.create(backend, config, 0L, spec -> false);
            model.loadStateDict(f.weights());
            return new Base(model, batch, ModelParityTest.nextTokenTargets(f.ints("ids"), mask, shape[0], shape[1]), f);
        }

        int count() {
            int n = 0;
            for (int t : targets) {
                if (t != -100) {
                    n++;
                }
            }
            return n;
        }
    }

    /** Logits of an inference pass. */
    static float[] logits(Backend backend, Base base) {
        try (Step step = Step.inference(backend)) {
            return backend.tensors().download(base.model().logits(step, base.model().forward(step, base.batch(), false)));
        }
    }

    /** The whole parity check of one case on {@code backend}; fails listing every output outside the pass rule. */
    public static void parity(Backend backend, String name) {
        Golden g = Golden.load(name);
        Base base = Base.load(backend, g.model());
        try (Transformer model = base.model(); PeftModel peft = PeftModel.wrap(model)) {
            assertEquals(0, model.parameters().trainableCount(), "the base is frozen: no gradient buffers at all");
            Adapter adapter = peft.load("default", g.directory(), true);
            List<String> failures = new ArrayList<>();
            float[] adapted;
            try (Step step = Step.training(backend, 1L, 0L)) {
                Transformer.Pass pass = model.forward(step, base.batch(), true);
                adapted = backend.tensors().download(model.logits(step, pass));
                compare(failures, g, "logits", adapted);
                Transformer.Loss loss = model.lossAndBackward(step, pass, base.targets(), 1f / base.count());
                float sum = backend.tensors().download(loss.sum())[0];
                float n = backend.tensors().download(loss.count())[0];
                compare(failures, g, "loss", new float[] {sum / n});
            }
            Map<String, float[]> grads = adapter.gradients();
            assertEquals(adapter.stateDict().keySet().stream().filter(k -> !k.startsWith("base_model.vera_")).toList(),
                    List.copyOf(grads.keySet()), "a gradient for every trained tensor");
            grads.forEach((k, v) -> compare(failures, g, "grad." + k, v));
            // one AdamW step, each group at lr times its LoRA+ scale
            adamWStep(backend, adapter, g.meta("lr"), g.meta("weight_decay"), g.meta("loraplus_lr_ratio"));
            adapter.stateDict().forEach((k, v) -> {
                if (!k.startsWith("base_model.vera_")) {
                    compare(failures, g, "step." + k, v);
                }
            });
            if (!failures.isEmpty()) {
                fail(name + ": " + failures.size() + " outputs outside PyTorch's pass rule:\n  " + String.join("\n  ", failures));
            }
        }
    }

    /** One {@code torch.optim.AdamW} step (t = 1, zero moments) of every trainable group of the adapter. */
    static void adamWStep(Backend backend, Adapter adapter, double lr, double wd, double loraPlusRatio) {
        Map<String, Double> scales = adapter.lrScales(loraPlusRatio);
        for (ParameterGroup group : adapter.parameters().groups()) {
            if (!group.trainable()) {
                continue;
            }
            try (DeviceTensor m = backend.tensors().zeros(group.values().shape(), DType.F32);
                 DeviceTensor v = backend.tensors().zeros(group.values().shape(), DType.F32)) {
                backend.optimizer().adamW(new AdamWRequest(group.values(), group.grads(), m, v, 1,
                        (float) (lr * scales.get(group.name())), 0.9f, 0.999f, 1e-8f, (float) wd, null));
            }
        }
    }

    static void compare(List<String> failures, Golden g, String output, float[] test) {
        double[] golden = g.expected().get(output);
        if (golden == null) {
            failures.add("no golden " + output);
            return;
        }
        if (golden.length != test.length) {
            failures.add(output + ": " + test.length + " values, expected " + golden.length);
            return;
        }
        double tol = g.tolerance(output);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < golden.length; i++) {
            double e = Math.abs(golden[i] - test[i]);
            if (!(e <= worst)) {
                worst = e;
                at = i;
            }
        }
        if (!(worst <= tol)) {
            failures.add(String.format("%s: max error %.3g at %d (golden %.6g, got %.6g) > tolerance %.3g", output, worst,
                    at, golden[at], test[at], tol));
        }
    }

    /**
     * Merging adds the delta to the weights: the merged model's logits equal the adapted model's; unmerging restores
     * the adapted model, disabling gives the base model's logits (the model fixture's).
     */
    public static void mergedLogitsEqualAdapterLogits(Backend backend, String name) {
        Golden g = Golden.load(name);
        Base base = Base.load(backend, g.model());
        try (Transformer model = base.model(); PeftModel peft = PeftModel.wrap(model)) {
            peft.load("default", g.directory(), false);
            List<String> failures = new ArrayList<>();
            float[] adapted = logits(backend, base);
            compare(failures, g, "logits", adapted);
            peft.merge("default");
            compare(failures, g, "logits", logits(backend, base));
            peft.unmerge();
            compare(failures, g, "logits", logits(backend, base));
            peft.disable();
            float[] plain = logits(backend, base);
            double[] golden = base.fixture().expected("logits");
            double worst = 0;
            for (int i = 0; i < golden.length; i++) {
                worst = Math.max(worst, Math.abs(golden[i] - plain[i]));
            }
            if (!(worst <= base.fixture().tolerance("logits"))) {
                failures.add("disabled adapter: base logits off by " + worst);
            }
            if (!failures.isEmpty()) {
                fail(name + ":\n  " + String.join("\n  ", failures));
            }
        }
    }

    /** A loaded adapter saved again holds the fixture directory's keys, shapes and values, bit for bit. */
    public static void savedDirectoryEqualsTheFixture(Backend backend, String name, Path out) throws Exception {
        Golden g = Golden.load(name);
        Base base = Base.load(backend, g.model());
        try (Transformer model = base.model(); PeftModel peft = PeftModel.wrap(model)) {
            peft.load("default", g.directory(), false);
            peft.save("default", out);
        }
        try (SafetensorsReader want = SafetensorsReader.open(g.directory().resolve(AdapterConfigs.WEIGHTS_FILE));
             SafetensorsReader got = SafetensorsReader.open(out.resolve(AdapterConfigs.WEIGHTS_FILE))) {
            assertEquals(names(want), names(got), "the same keys");
            for (TensorEntry e : want.entries()) {
                assertArrayEquals(e.shape(), got.entry(e.name()).shape(), e.name());
                assertArrayEquals(want.readFloats(e.name()), got.readFloats(e.name()), e.name());
            }
            assertEquals("pt", got.metadata().get("format"));
        }
        assertEquals(AdapterConfigs.read(g.directory()), AdapterConfigs.read(out), "the same configuration");
        assertTrue(Files.readString(out.resolve(AdapterConfigs.CONFIG_FILE)).contains("\"peft_version\""));
    }

    private static List<String> names(SafetensorsReader r) {
        return r.entries().stream().map(TensorEntry::name).sorted().toList();
    }

    /** The parameters a frozen base holds: values only, no gradient buffer. */
    static void assertFrozen(Transformer model) {
        for (Parameter p : model.parameters().parameters()) {
            assertTrue(p.grad() == null, p.name() + " has no gradient");
        }
    }
}
