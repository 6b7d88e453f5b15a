package dev.attn4j.conformance.models;

import dev.attn4j.domain.adapters.Adapter;
import dev.attn4j.domain.adapters.AdapterConfigs;
import dev.attn4j.domain.adapters.LoraAdapter;
import dev.attn4j.domain.adapters.LoraConfig;
import dev.attn4j.domain.adapters.LoraInit;
import dev.attn4j.domain.adapters.PeftModel;
import dev.attn4j.domain.adapters.Pissa;
import dev.attn4j.domain.adapters.TargetModules;
import dev.attn4j.domain.adapters.VeraConfig;
import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.parameters.Grouping;
import dev.attn4j.domain.parameters.Init;
import dev.attn4j.domain.parameters.ParameterRole;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adapter behaviour beyond the PEFT parity fixtures, run on a backend with the model ports: VeRA's projections from
 * the key, PiSSA against torch's SVDs and through training and conversion, several adapters switched on one base,
 * and the input dropout's Philox mask in forward and backward.
 */
public final class AdapterBehaviour {
    private AdapterBehaviour() {
    }

    /** A fresh VeRA adapter draws PEFT's projections from {@code projection_prng_key}: the fixture's, bit for bit. */
    public static void veraProjectionsComeFromTheKey(Backend backend) {
        AdapterParityTest.Golden g = AdapterParityTest.Golden.load("vera_gpt_small");
        AdapterParityTest.Base base = AdapterParityTest.Base.load(backend, g.model());
        try (Transformer model = base.model(); PeftModel peft = PeftModel.wrap(model);
             SafetensorsReader file = SafetensorsReader.open(g.directory().resolve(AdapterConfigs.WEIGHTS_FILE))) {
            VeraConfig config = (VeraConfig) AdapterConfigs.read(g.directory());
            Adapter fresh = peft.add("fresh", config, 0L);
            Map<String, float[]> state = fresh.stateDict();
            assertArrayEquals(file.readFloats(PeftModel.VERA_A_KEY), state.get(PeftModel.VERA_A_KEY));
            assertArrayEquals(file.readFloats(PeftModel.VERA_B_KEY), state.get(PeftModel.VERA_B_KEY));
            // λ_d = d_initial, λ_b = 0: the fresh adapter is the identity
            state.forEach((k, v) -> {
                if (k.endsWith(".vera_lambda_b")) {
                    assertArrayEquals(new float[v.length], v, k);
                } else if (k.endsWith(".vera_lambda_d")) {
                    for (float x : v) {
                        assertEquals(0.1f, x, k);
                    }
                }
            });
            float[] adapted = AdapterParityTest.logits(backend, base);
            peft.disable();
            assertClose(AdapterParityTest.logits(backend, base), adapted, 0, "a fresh VeRA adapter changes nothing");
        }
    }

    /** PiSSA's A, B and residual, and the randomized SVD given torch's test matrix, against the fixture. */
    public static void pissaMatchesTorchsSvd() {
        try (SafetensorsReader r = SafetensorsReader.open(AdapterParityTest.DIR.resolve("pissa.safetensors"))) {
            float[] w = r.readFloats("w");
            int out = r.entry("w").shape()[0];
            int in = r.entry("w").shape()[1];
            int rank = Integer.parseInt(r.metadata().get("r"));
            double scaling = Double.parseDouble(r.metadata().get("lora_alpha")) / rank;
            Pissa.Svd svd = normalised(Pissa.svd(w, out, in, rank), out, in);
            Pissa.Init p = Pissa.fromSvd(w, out, in, rank, scaling, svd);
            assertClose(r.readDoubles("expected.a"), p.a(), 2e-6, "lora_A");
            assertClose(r.readDoubles("expected.b"), p.b(), 2e-6, "lora_B");
            assertClose(r.readDoubles("expected.residual"), p.residual(), 2e-6, "residual");
            // the residual does not depend on the signs: the unnormalised init gives it too
            assertClose(r.readDoubles("expected.residual"), Pissa.init(w, out, in, rank, scaling, 0, 0L).residual(), 2e-6,
                    "residual of init");

            float[] lw = r.readFloats("lowrank.w");
            int lo = r.entry("lowrank.w").shape()[0];
            int li = r.entry("lowrank.w").shape()[1];
            int niter = Integer.parseInt(r.metadata().get("niter"));
            Pissa.Svd low = normalised(Pissa.svdLowRank(lw, lo, li, rank, niter, r.readDoubles("lowrank.test_matrix")), lo, li);
            assertClose(r.readDoubles("lowrank.s"), toFloats(low.s()), 1e-6, "svd_lowrank S");
            assertClose(r.readDoubles("lowrank.u"), toFloats(low.u()), 1e-5, "svd_lowrank U");
            assertClose(r.readDoubles("lowrank.v"), toFloats(low.v()), 1e-5, "svd_lowrank V");
        }
    }

    /** Each left vector's largest-magnitude entry positive, its right vector flipped alike (the fixture's rule). */
    private static Pissa.Svd normalised(Pissa.Svd s, int out, int in) {
        int k = s.k();
        double[] u = s.u().clone();
        double[] v = s.v().clone();
        for (int i = 0; i < k; i++) {
            int arg = 0;
            for (int row = 1; row < out; row++) {
                if (Math.abs(u[row * k + i]) > Math.abs(u[arg * k + i])) {
                    arg = row;
                }
            }
            if (u[arg * k + i] < 0) {
                for (int row = 0; row < out; row++) {
                    u[row * k + i] = -u[row * k + i];
                }
                for (int c = 0; c < in; c++) {
                    v[c * k + i] = -v[c * k + i];
                }
            }
        }
        return new Pissa.Svd(u, s.s(), v, k);
    }

    /**
     * PiSSA on a model: the adapted model starts as the base model (the residual plus the adapter is the weight); after
     * its matrices change (as training changes them), the adapter saved with PEFT's conversion to LoRA, loaded onto
     * the original weights, gives the PiSSA model's logits, and so does the unconverted adapter loaded onto the
     * original weights (PEFT re-derives the residual from the SVD on loading).
     */
    public static void pissaStartsAtTheBaseAndConvertsToLora(Backend backend, Path dir, int niter) {
        String fixture = "gpt_small";
        AdapterParityTest.Base base = AdapterParityTest.Base.load(backend, fixture);
        float[] original = AdapterParityTest.logits(backend, base);
        float[] trained;
        Path converted = dir.resolve("converted");
        Path plain = dir.resolve("pissa");
        LoraConfig config = LoraConfig.of(4, 8, TargetModules.names("to_q", "to_v", "ff.2"))
                .withInit(niter == 0 ? LoraInit.PISSA : LoraInit.pissaNiter(niter));
        try (Transformer model = base.model(); PeftModel peft = PeftModel.wrap(model)) {
            Adapter a = peft.add("pissa", config, 9L);
            assertTrue(a.pissa());
            assertClose(original, AdapterParityTest.logits(backend, base), 2e-5, "PiSSA at init = the base model");
            // move A and B as a training step would
            SplittableRandom random = new SplittableRandom(3);
            for (var p : a.parameters().parameters()) {
                float[] v = a.parameters().value(p.name());
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) (0.05 * (random.nextDouble() - 0.5));
                }
                a.parameters().set(p.name(), v);
            }
            trained = AdapterParityTest.logits(backend, base);
            assertTrue(maxDiff(original, trained) > 1e-3, "the changed adapter changes the model");
            peft.save("pissa", converted, true);
            peft.save("pissa", plain);
        }
        LoraConfig written = (LoraConfig) AdapterConfigs.read(converted);
        assertEquals(8, written.r());
        assertEquals(16.0, written.loraAlpha());
        assertEquals(LoraInit.DEFAULT, written.init());
        AdapterParityTest.Base fresh = AdapterParityTest.Base.load(backend, fixture);
        try (Transformer model = fresh.model(); PeftModel peft = PeftModel.wrap(model)) {
            peft.load("lora", converted, false);
            assertClose(trained, AdapterParityTest.logits(backend, fresh), 2e-5, "converted LoRA on the original weights");
        }
        if (niter == 0) {
            AdapterParityTest.Base again = AdapterParityTest.Base.load(backend, fixture);
            try (Transformer model = again.model(); PeftModel peft = PeftModel.wrap(model)) {
                peft.load("pissa", plain, false);
                assertClose(trained, AdapterParityTest.logits(backend, again), 2e-4, "PiSSA adapter reloaded on the original weights");
            }
        }
    }

    /**
     * Two adapters (LoRA and VeRA) loaded onto one base under their names: each active one gives its own fixture's
     * logits, none gives the base model's.
     */
    public static void switchingAdapters(Backend backend) {
        AdapterParityTest.Golden lora = AdapterParityTest.Golden.load("lora_gpt_small");
        AdapterParityTest.Golden vera = AdapterParityTest.Golden.load("vera_gpt_small");
        AdapterParityTest.Base base = AdapterParityTest.Base.load(backend, "gpt_small");
        try (Transformer model = base.model(); PeftModel peft = PeftModel.wrap(model)) {
            peft.load("lora", lora.directory(), false);
            peft.load("vera", vera.directory(), false);
            assertEquals("vera", peft.active());
            List<String> failures = new java.util.ArrayList<>();
            AdapterParityTest.compare(failures, vera, "logits", AdapterParityTest.logits(backend, base));
            peft.setActive("lora");
            AdapterParityTest.compare(failures, lora, "logits", AdapterParityTest.logits(backend, base));
            peft.merge("vera");                   // merge the inactive one: the model is base + VeRA
            AdapterParityTest.compare(failures, vera, "logits", AdapterParityTest.logits(backend, base));
            peft.unmerge();                       // back to the active LoRA
            AdapterParityTest.compare(failures, lora, "logits", AdapterParityTest.logits(backend, base));
            peft.disable();
            float[] plain = AdapterParityTest.logits(backend, base);
            double[] golden = base.fixture().expected("logits");
            for (int i = 0; i < golden.length; i++) {
                assertEquals(golden[i], plain[i], base.fixture().tolerance("logits"), "base logits at " + i);
            }
            assertTrue(failures.isEmpty(), String.join("\n", failures));
        }
    }

    /**
     * LoRA's input dropout: a training pass computes the adapter of {@code x ⊙ m} with {@code m} the Philox keep mask
     * ({@code u >= p} from the random port at the step's first offset, scaled by {@code 1/(1 − p)}), its backward gives
     * the gradients of that same function ({@code dA} of the masked input, {@code dx} masked again), and an
     * inference pass drops nothing.
     */
    public static void dropoutIsThePhiloxMaskInForwardAndBackward(Backend backend) {
        int rows = 37;
        int in = 24;
        int out = 20;
        int r = 4;
        double p = 0.3;
        long seed = 99L;
        long offset = 5L;
        List<ParameterSpec> specs = List.of(
                new ParameterSpec("w", Shape.of(out, in), ParameterRole.WEIGHT, Init.uniformFanIn(in)),
                new ParameterSpec("a", Shape.of(r, in), ParameterRole.WEIGHT, Init.uniformFanIn(in)),
                new ParameterSpec("b", Shape.of(out, r), ParameterRole.WEIGHT, Init.uniform(0.3)));
        try (ParameterStore store = ParameterStore.allocate(backend, specs, Grouping.single("g"), s -> !s.name().equals("w"), 1L)) {
            Linear linear = new Linear("layer", store.get("w"), null);
            LoraAdapter dropping = new LoraAdapter(linear, store.get("a"), store.get("b"), 2.0, p);
            LoraAdapter plain = new LoraAdapter(linear, store.get("a"), store.get("b"), 2.0, 0.0);
            float[] x = new float[rows * in];
            float[] dy = new float[rows * out];
            SplittableRandom random = new SplittableRandom(8);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextDouble() * 2 - 1);
            }
            for (int i = 0; i < dy.length; i++) {
                dy[i] = (float) (random.nextDouble() * 2 - 1);
            }
            // the mask from the definition: u >= p at (seed, offset), kept values scaled by 1/(1 - p)
            float[] u;
            try (DeviceTensor t = backend.tensors().allocate(Shape.of(rows * in), DType.F32)) {
                backend.random().uniform(new UniformRequest(t, 0f, 1f, seed, offset));
                u = backend.tensors().download(t);
            }
            float[] masked = new float[x.length];
            int kept = 0;
            for (int i = 0; i < x.length; i++) {
                boolean keep = u[i] >= p;
                kept += keep ? 1 : 0;
                masked[i] = keep ? (float) (x[i] / (1 - p)) : 0f;
            }
            assertTrue(Math.abs(kept / (double) x.length - (1 - p)) < 0.06, "about 1 - p kept: " + kept);
            float[] yDrop;
            float[] dxDrop;
            Map<String, float[]> gDrop;
            try (Step step = Step.training(backend, seed, offset);
                 DeviceTensor xt = backend.tensors().upload(x, Shape.of(rows, in), DType.F32);
                 DeviceTensor dyt = backend.tensors().upload(dy, Shape.of(rows, out), DType.F32)) {
                linear.attach(dropping);
                yDrop = backend.tensors().download(linear.forward(step, xt));
                store.zeroGrads();
                dxDrop = backend.tensors().download(linear.backward(step, xt, dyt, true));
                gDrop = store.grads();
            }
            float[] yRef;
            float[] dxRef;
            Map<String, float[]> gRef;
            try (Step step = Step.training(backend, seed, offset);
                 DeviceTensor xm = backend.tensors().upload(masked, Shape.of(rows, in), DType.F32);
                 DeviceTensor xt = backend.tensors().upload(x, Shape.of(rows, in), DType.F32);
                 DeviceTensor dyt = backend.tensors().upload(dy, Shape.of(rows, out), DType.F32)) {
                // reference: base(x) + adapter(x ⊙ m) with no dropout; dA from the masked input, dx = base's + m ⊙ adapter's
                linear.attach(null);
                float[] baseY = backend.tensors().download(linear.forward(step, xt));
                float[] baseDx = backend.tensors().download(linear.backward(step, xt, dyt, true));
                float[] delta;
                try (DeviceTensor d = plain.forward(step, xm)) {
                    delta = backend.tensors().download(d);
                }
                yRef = new float[baseY.length];
                for (int i = 0; i < yRef.length; i++) {
                    yRef[i] = baseY[i] + delta[i];
                }
                store.zeroGrads();
                float[] adx;
                try (DeviceTensor d = plain.backward(step, xm, dyt, true)) {
                    adx = backend.tensors().download(d);
                }
                gRef = store.grads();
                dxRef = new float[baseDx.length];
                for (int i = 0; i < dxRef.length; i++) {
                    dxRef[i] = baseDx[i] + (u[i] >= p ? (float) (adx[i] / (1 - p)) : 0f);
                }
            }
            assertClose(yRef, yDrop, 1e-5, "forward of the masked input");
            assertClose(dxRef, dxDrop, 1e-5, "dx masked again");
            assertClose(gRef.get("a"), gDrop.get("a"), 1e-5, "dA from the masked input");
            assertClose(gRef.get("b"), gDrop.get("b"), 1e-5, "dB");
            try (Step step = Step.inference(backend);
                 DeviceTensor xt = backend.tensors().upload(x, Shape.of(rows, in), DType.F32)) {
                linear.attach(dropping);
                float[] yEval = backend.tensors().download(linear.forward(step, xt));
                linear.attach(plain);
                assertClose(yEval, backend.tensors().download(linear.forward(step, xt)), 0, "no dropout in inference");
            }
        }
    }

    /**
     * The host merge of an adapter directory into a state dict ({@code PeftMerge}, what {@code attn4j merge} runs)
     * equals the merge on the device ({@code PeftModel.mergeAndUnload}) for every weight.
     */
    public static void hostMergeEqualsDeviceMerge(Backend backend, String name) {
        AdapterParityTest.Golden g = AdapterParityTest.Golden.load(name);
        AdapterParityTest.Base base = AdapterParityTest.Base.load(backend, g.model());
        try (Transformer model = base.model(); PeftModel peft = PeftModel.wrap(model)) {
            Map<String, float[]> weights = model.stateDict();
            Map<String, int[]> shapes = new java.util.LinkedHashMap<>();
            model.parameters().parameters().forEach(p -> shapes.put(p.name(), p.shape().dims()));
            Map<String, float[]> host = dev.attn4j.domain.adapters.PeftMerge.merge(weights, shapes, g.directory());
            peft.load("default", g.directory(), false);
            Map<String, float[]> device = peft.mergeAndUnload("default").stateDict();
            assertEquals(device.keySet(), host.keySet());
            int changed = 0;
            for (String k : device.keySet()) {
                assertClose(device.get(k), host.get(k), 2e-6, k);
                changed += maxDiff(weights.get(k), host.get(k)) > 0 ? 1 : 0;
            }
            assertEquals(peft.names().size(), 0, "unloaded");
            assertTrue(changed > 0, "the merge changed weights");
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double d = maxDiff(want, got);
        assertTrue(d <= tol, what + ": max difference " + d + " > " + tol);
    }

    static void assertClose(double[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        assertTrue(worst <= tol, what + ": max difference " + worst + " > " + tol);
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
