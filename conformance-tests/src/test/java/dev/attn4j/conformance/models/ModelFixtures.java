package dev.attn4j.conformance.models;

import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.EncoderDecoder;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.model.XTransformerConfig;
import dev.attn4j.ports.Backend;

import java.util.Map;

/** The parity fixtures' models and inputs, for tests of other passes than the fixtures' own. */
public final class ModelFixtures {
    private ModelFixtures() {
    }

    /** A decoder fixture's model on {@code backend}, with the fixture's weights. */
    public static Transformer decoder(Backend backend, String fixture) {
        ModelFixture f = ModelFixture.load(fixture);
        Transformer model = Transformer.create(backend, (TransformerConfig) ModelConfigs.parse(f.config()), 0L);
        model.loadStateDict(f.weights());
        return model;
    }

    /** The t5_small fixture's model on {@code backend}, with its weights. */
    public static EncoderDecoder encoderDecoder(Backend backend) {
        ModelFixture f = ModelFixture.load("t5_small");
        EncoderDecoder model = EncoderDecoder.create(backend, (XTransformerConfig) ModelConfigs.parse(f.config()), 0L);
        model.loadStateDict(f.weights());
        return model;
    }

    /** A fixture's {@code ids}. */
    public static int[] ids(String fixture) {
        return ints(fixture, "ids");
    }

    /** A fixture's int tensor. */
    public static int[] ints(String fixture, String name) {
        return ModelFixture.load(fixture).ints(name);
    }

    /** A fixture tensor's shape. */
    public static int[] shape(String fixture, String name) {
        return ModelFixture.load(fixture).shapes().get(name);
    }

    /** Every gradient of one training pass of {@code model} on the fixture's batch (fresh gradients). */
    public static Map<String, float[]> gradients(Backend backend, Transformer model, String fixture) {
        ModelFixture f = ModelFixture.load(fixture);
        int[] shape = f.shapes().get("ids");
        boolean[] mask = f.tensors().containsKey("mask") ? f.bools("mask") : null;
        TokenBatch batch = mask == null ? TokenBatch.of(f.ints("ids"), shape[0], shape[1])
                : TokenBatch.masked(f.ints("ids"), mask, shape[0], shape[1]);
        int[] targets = ModelParityTest.nextTokenTargets(f.ints("ids"), mask, shape[0], shape[1]);
        model.parameters().zeroGrads();
        try (Step step = Step.training(backend, 0L, 0L)) {
            model.lossAndBackward(step, model.forward(step, batch, true), targets, 0.01f);
        }
        return model.gradients();
    }
}
