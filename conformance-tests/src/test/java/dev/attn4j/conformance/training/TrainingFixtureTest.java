package dev.attn4j.conformance.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.domain.data.DataLoader;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.NeftuneScaling;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.parameters.Grouping;
import dev.attn4j.domain.parameters.Init;
import dev.attn4j.domain.parameters.ParameterRole;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.training.AdamW;
import dev.attn4j.domain.training.AdamWOptions;
import dev.attn4j.domain.training.LearningRateSchedule;
import dev.attn4j.domain.training.LogRecord;
import dev.attn4j.domain.training.ScheduleKind;
import dev.attn4j.domain.training.Trainer;
import dev.attn4j.domain.training.TrainingConfig;
import dev.attn4j.domain.training.TrainingData;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.attn4j.conformance.training.TrainingFixtures.DIR;
import static dev.attn4j.conformance.training.TrainingFixtures.assertPasses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer against PyTorch (fixtures by conformance-tests/src/test/python/make_training_fixtures.py): the
 * learning-rate schedules against {@code LambdaLR} with Hugging Face's lambdas, three AdamW updates with
 * global-norm clipping and two parameter groups against {@code torch.optim.AdamW} + {@code clip_grad_norm_}, and
 * 20 optimizer steps of a small Orca-configured model (two micro-batches per step, cosine schedule with warm-up,
 * weight decay on weights and embeddings only, clipping) against x-transformers trained by PyTorch: every step's
 * loss and gradient norm, and every weight at the end, within the pass rule.
 */
class TrainingFixtureTest {

    @Test
    void schedulesMatchLambdaLrWithHuggingFacesLambdas() throws IOException {
        JsonNode root = new ObjectMapper().readTree(DIR.resolve("schedules.json").toFile());
        int cases = 0;
        for (JsonNode c : root.path("cases")) {
            LearningRateSchedule s = new LearningRateSchedule(ScheduleKind.valueOf(c.path("kind").asText().toUpperCase()),
                    c.path("base_lr").asDouble(), c.path("warmup").asLong(), c.path("total").asLong());
            JsonNode lrs = c.path("lrs");
            assertEquals(s.totalSteps(), lrs.size());
            for (int step = 0; step < lrs.size(); step++) {
                double expected = lrs.get(step).asDouble();
                // the same double arithmetic; cos may differ from the C library's in the last place
                assertEquals(expected, s.at(step), 4 * Math.ulp(Math.max(expected, Double.MIN_NORMAL)) + 1e-300,
                        c + " step " + step);
            }
            cases++;
        }
        assertEquals(7, cases);
    }

    @EachBackend(ports = {OptimizerCapabilities.class})
    void adamWWithClippingAndTwoGroupsMatchesTorch(Backend backend) {
        try (SafetensorsReader f = SafetensorsReader.open(DIR.resolve("adamw_steps.safetensors"))) {
            Map<String, String> meta = f.metadata();
            List<ParameterSpec> specs = List.of(
                    new ParameterSpec("w1", Shape.of(7, 5), ParameterRole.WEIGHT, Init.zeros()),
                    new ParameterSpec("w2", Shape.of(4, 6), ParameterRole.WEIGHT, Init.zeros()),
                    new ParameterSpec("b", Shape.of(5), ParameterRole.BIAS, Init.zeros()));
            AdamWOptions options = new AdamWOptions(Double.parseDouble(meta.get("beta1")),
                    Double.parseDouble(meta.get("beta2")), Double.parseDouble(meta.get("eps")),
                    Double.parseDouble(meta.get("weight_decay")), Double.parseDouble(meta.get("max_norm")));
            try (ParameterStore store = ParameterStore.allocate(backend, specs, Grouping.decay(), s -> true, 1L);
                 AdamW adamW = AdamW.create(store, options)) {
                assertEquals(List.of(new AdamW.GroupSettings("decay", store.groups().get(0).size(), 1.0, 0.1),
                        new AdamW.GroupSettings("no_decay", store.groups().get(1).size(), 1.0, 0.0)), adamW.groups());
                for (String n : List.of("w1", "w2", "b")) {
                    store.set(n, f.readFloats("value." + n));
                }
                int steps = Integer.parseInt(meta.get("steps"));
                for (int t = 1; t <= steps; t++) {
                    for (String n : List.of("w1", "w2", "b")) {
                        setGrad(backend, store, n, f.readFloats("grad." + n + "." + t));
                    }
                    adamW.step(Double.parseDouble(meta.get("lr")));
                    for (String n : List.of("w1", "w2", "b")) {
                        assertPasses(n + " after step " + t, f.readDoubles("expected." + n + "." + t),
                                Double.parseDouble(meta.get("ref_err." + n + "." + t)), store.value(n));
                    }
                }
                assertEquals(steps, adamW.steps());
            }
        }
    }

    static void setGrad(Backend backend, ParameterStore store, String name, float[] grad) {
        try (DeviceTensor staged = backend.tensors().upload(grad, store.get(name).shape(), DType.F32)) {
            backend.tensors().copy(CopyRequest.into(staged, store.get(name).grad(), 0));
        }
    }

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, OptimizerCapabilities.class,
            RandomCapabilities.class, NormCapabilities.class, AttentionCapabilities.class, RotaryCapabilities.class})
    void twentyStepsOfASmallOrcaMatchPyTorch(Backend backend) throws IOException {
        try (SafetensorsReader f = SafetensorsReader.open(DIR.resolve("train_20_steps.safetensors"))) {
            Map<String, String> meta = f.metadata();
            JsonNode training = new ObjectMapper().readTree(meta.get("training"));
            TransformerConfig config = (TransformerConfig) ModelConfigs.parse(meta.get("config"));
            Map<String, float[]> weights = new LinkedHashMap<>();
            f.entries().stream().filter(e -> e.name().startsWith("weights."))
                    .forEach(e -> weights.put(e.name().substring("weights.".length()), f.readFloats(e.name())));
            int rows = training.path("rows").asInt();
            int seq = training.path("seq").asInt();
            int steps = training.path("steps").asInt();
            // PyTorch takes 4 rows a step as one batch; here 2 micro-batches of 2 rows: the same mean loss
            DataLoader loader = DataLoader.inOrder(TrainingFixtures.wholeRows(f.readInts("ids"), rows, seq), 2, false);
            TrainingConfig tc = new TrainingConfig(steps, training.path("batch").asInt() / 2,
                    training.path("lr").asDouble(), ScheduleKind.COSINE, training.path("warmup").asLong(),
                    new AdamWOptions(training.path("betas").get(0).asDouble(), training.path("betas").get(1).asDouble(),
                            training.path("eps").asDouble(), training.path("weight_decay").asDouble(),
                            training.path("max_norm").asDouble()), 0L, 0.0, NeftuneScaling.HUGGING_FACE, 1, 0, 0, 1);
            try (Transformer model = Transformer.create(backend, config, 0L);
                 Trainer trainer = new Trainer(model, tc, new TrainingData(loader, false, null))) {
                model.loadStateDict(weights);
                Trainer.Result result = trainer.run();
                assertEquals(steps, result.steps());
                float[] losses = new float[steps];
                float[] norms = new float[steps];
                for (int s = 0; s < steps; s++) {
                    LogRecord r = result.logs().get(s);
                    assertEquals(s + 1, r.step());
                    assertEquals(44, r.trainedTokens(), "4 rows of 11 targets");
                    losses[s] = (float) r.loss();
                    norms[s] = (float) r.gradNorm();
                }
                assertPasses("loss", f.readDoubles("expected.loss"), Double.parseDouble(meta.get("ref_err.loss")), losses);
                assertPasses("grad_norm", f.readDoubles("expected.grad_norm"),
                        Double.parseDouble(meta.get("ref_err.grad_norm")), norms);
                Map<String, float[]> trained = model.stateDict();
                int checked = 0;
                for (String name : f.entries().stream().map(e -> e.name()).filter(n -> n.startsWith("expected.weights."))
                        .toList()) {
                    String param = name.substring("expected.weights.".length());
                    assertPasses(param, f.readDoubles(name), Double.parseDouble(meta.get("ref_err.weights." + param)),
                            trained.get(param));
                    checked++;
                }
                assertEquals(model.parameters().names().size(), checked, "every parameter is compared");
                assertTrue(result.logs().getLast().loss() < result.logs().getFirst().loss() - 1.0, "it learned");
            }
        }
    }
}
