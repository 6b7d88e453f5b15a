package dev.attn4j.conformance.models;

import dev.attn4j.domain.layers.FeedForward;
import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.parameters.Grouping;
import dev.attn4j.domain.parameters.Init;
import dev.attn4j.domain.parameters.ParameterRole;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A gated feed-forward's split form (the projection's two row halves as two GEMMs, docs/design.md §10) against its
 * whole projection on the same backend: the branch output, {@code du} and every trainable gradient agree to
 * rounding, with the gradients accumulated over two micro-batches (so the halves add onto what is already there),
 * for every mix of trainable and frozen weight and bias, and with no bias. F = 128 and B·S = 10 keep the halves
 * viewable on backends that align views (POCL: 128 elements), so each backend runs the split path it ships.
 */
class SplitGluFeedForwardTest {
    private static final int D = 32;
    private static final int F = 128;
    private static final int B = 2;
    private static final int S = 5;

    @EachBackend(ports = {LinearCapabilities.class, ActivationCapabilities.class, ElementwiseCapabilities.class})
    void trainableWeightAndBias(Backend backend) {
        compareForms(backend, true, n -> true);
    }

    @EachBackend(ports = {LinearCapabilities.class, ActivationCapabilities.class, ElementwiseCapabilities.class})
    void frozenWeightTrainableBias(Backend backend) {
        compareForms(backend, true, n -> !n.equals("ff.proj.weight"));
    }

    @EachBackend(ports = {LinearCapabilities.class, ActivationCapabilities.class, ElementwiseCapabilities.class})
    void trainableWeightFrozenBias(Backend backend) {
        compareForms(backend, true, n -> !n.equals("ff.proj.bias"));
    }

    @EachBackend(ports = {LinearCapabilities.class, ActivationCapabilities.class, ElementwiseCapabilities.class})
    void noBias(Backend backend) {
        compareForms(backend, false, n -> true);
    }

    @EachBackend(ports = {LinearCapabilities.class, ActivationCapabilities.class, ElementwiseCapabilities.class})
    void frozenProjection(Backend backend) {
        compareForms(backend, true, n -> !n.startsWith("ff.proj"));
    }

    /** Runs both forms from one initialisation and compares what they return and accumulate. */
    private static void compareForms(Backend backend, boolean bias, Predicate<String> trainable) {
        Result split = run(backend, bias, trainable, true);
        Result whole = run(backend, bias, trainable, false);
        close(split.y(), whole.y(), "y");
        for (int i = 0; i < split.du().size(); i++) {
            close(split.du().get(i), whole.du().get(i), "du of micro-batch " + i);
        }
        assertEquals(whole.grads().keySet(), split.grads().keySet());
        for (String name : whole.grads().keySet()) {
            close(split.grads().get(name), whole.grads().get(name), "grad " + name);
        }
    }

    private record Result(float[] y, List<float[]> du, Map<String, float[]> grads) {
    }

    private static Result run(Backend backend, boolean bias, Predicate<String> trainable, boolean split) {
        List<ParameterSpec> specs = new ArrayList<>();
        specs.add(new ParameterSpec("ff.proj.weight", Shape.of(2 * F, D), ParameterRole.WEIGHT, Init.normal(0.3)));
        if (bias) specs.add(new ParameterSpec("ff.proj.bias", Shape.of(2 * F), ParameterRole.BIAS, Init.normal(0.3)));
        specs.add(new ParameterSpec("ff.out.weight", Shape.of(D, F), ParameterRole.WEIGHT, Init.normal(0.1)));
        specs.add(new ParameterSpec("ff.out.bias", Shape.of(D), ParameterRole.BIAS, Init.normal(0.1)));
        try (ParameterStore store = ParameterStore.allocate(backend, specs, Grouping.decay(),
                s -> trainable.test(s.name()), 11L)) {
            Linear in = new Linear("ff.proj", store.get("ff.proj.weight"), bias ? store.get("ff.proj.bias") : null);
            Linear out = new Linear("ff.out", store.get("ff.out.weight"), store.get("ff.out.bias"));
            FeedForward ff = new FeedForward(in, out, Activation.SILU, true);
            ff.splitGlu(split);
            assertEquals(split, ff.splitsGlu(backend, (long) B * S), "whether the branch runs split");
            float[] y = null;
            List<float[]> du = new ArrayList<>();
            for (int micro = 0; micro < 2; micro++) {
                try (Step step = Step.training(backend, 0L, 0L)) {
                    DeviceTensor u = step.own(backend.tensors().upload(gaussian(B * S * D, 20 + micro),
                            Shape.of(B, S, D), DType.F32));
                    DeviceTensor dOut = step.own(backend.tensors().upload(gaussian(B * S * D, 40 + micro),
                            Shape.of(B, S, D), DType.F32));
                    FeedForward.Output o = ff.forward(step, u, true);
                    assertEquals(split, o.saved().gate() != null, "the saved form");
                    if (micro == 0) {
                        y = backend.tensors().download(o.y());
                    }
                    du.add(backend.tensors().download(ff.backward(step, o.saved(), u, dOut)));
                }
            }
            Map<String, float[]> grads = new java.util.TreeMap<>();
            for (ParameterSpec s : specs) {
                if (trainable.test(s.name())) {
                    grads.put(s.name(), store.grad(s.name()));
                }
            }
            return new Result(y, du, grads);
        }
    }

    private static float[] gaussian(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** Agreement to float rounding of sums of at most 2F terms: relative 1e-5 of the tensor's largest value. */
    private static void close(float[] got, float[] want, String what) {
        assertEquals(want.length, got.length, what + " length");
        double scale = 0;
        for (float w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        assertTrue(scale > 0, what + " is all zero: the comparison would prove nothing");
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * scale, what + " [" + i + "]");
        }
    }
}
