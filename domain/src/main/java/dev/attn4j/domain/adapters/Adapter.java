package dev.attn4j.domain.adapters;

import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.LinearAdapter;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.parameters.Init;
import dev.attn4j.domain.parameters.ParameterRole;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.Shape;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One named adapter of a {@link PeftModel}: its configuration, its own {@link ParameterStore} (optimizer groups
 * {@value #LORA_A}, {@value #LORA_B}, {@value #VERA_LAMBDA_D}, {@value #VERA_LAMBDA_B}; VeRA's frozen projection
 * slices in the frozen group {@value #VERA_PROJECTIONS}), and one {@link LinearAdapter} per wrapped layer. Parameter
 * names are PEFT's keys without the {@value PeftModel#KEY_PREFIX} prefix, e.g.
 * {@code attn_layers.layers.0.1.to_q.lora_A.weight}, {@code attn_layers.layers.0.1.to_q.vera_lambda_b}; values are in
 * attn4j's head order ({@link #stateDict()} gives the file's).
 *
 * <pre>{@code
 * Adapter lora = peft.add("default", LoraConfig.of(8, 16, TargetModules.names("to_q", "to_v")), 42L);
 * try (AdamW opt = AdamW.create(lora.parameters(), options, groupOptions(lora.lrScales(16.0)))) { ... }
 * }</pre>
 */
public final class Adapter implements AutoCloseable {
    /** Optimizer group of every {@code lora_A}. */
    public static final String LORA_A = "lora_A";
    /** Optimizer group of every {@code lora_B} (LoRA+ trains it at {@code lr·ratio}). */
    public static final String LORA_B = "lora_B";
    /** Optimizer group of VeRA's {@code λ_d}. */
    public static final String VERA_LAMBDA_D = "vera_lambda_d";
    /** Optimizer group of VeRA's {@code λ_b}. */
    public static final String VERA_LAMBDA_B = "vera_lambda_b";
    /** The frozen group of VeRA's projection slices (the store adds its ".frozen" suffix). */
    public static final String VERA_PROJECTIONS = "vera_projections";

    private final String name;
    private final AdapterConfig config;
    private final ParameterStore store;
    private final Map<String, LinearAdapter> layers;
    private final Map<String, Linear> linears;
    private final HeadLayout heads;
    private final Map<String, float[][]> pissaInitial;
    private final float[] veraA;
    private final float[] veraB;
    private final int veraMaxIn;
    private final int veraMaxOut;

    private Adapter(String name, AdapterConfig config, ParameterStore store, Map<String, LinearAdapter> layers,
                    Map<String, Linear> linears, HeadLayout heads, Map<String, float[][]> pissaInitial, float[] veraA,
                    float[] veraB, int veraMaxIn, int veraMaxOut) {
        this.name = name;
        this.config = config;
        this.store = store;
        this.layers = Collections.unmodifiableMap(layers);
        this.linears = linears;
        this.heads = heads;
        this.pissaInitial = pissaInitial;
        this.veraA = veraA;
        this.veraB = veraB;
        this.veraMaxIn = veraMaxIn;
        this.veraMaxOut = veraMaxOut;
    }

    // ------------------------------------------------------------------------------------------------- building

    /** The model's linear layers this configuration wraps, in model order; at least one. */
    static List<Linear> targets(Transformer model, AdapterConfig config) {
        List<Linear> out = new ArrayList<>();
        for (Linear l : model.linears()) {
            if (config.wraps(l.path())) {
                out.add(l);
            }
        }
        InvalidRequestException.check(!out.isEmpty(), "target_modules",
                "at least one of the model's linear layers (e.g. " + model.linears().getFirst().path() + ")",
                config.targetModules().names() != null ? config.targetModules().names() : config.targetModules().pattern());
        return out;
    }

    /**
     * A LoRA adapter on {@code model}, initialised by {@code config.init()} from {@code seed} (PiSSA also rewrites the
     * targeted base weights into their residuals) unless {@code loaded} gives its values.
     */
    static Adapter lora(String name, Transformer model, LoraConfig config, long seed, boolean trainable,
                        Map<String, float[]> loaded) {
        List<Linear> targets = targets(model, config);
        int r = config.r();
        List<ParameterSpec> specs = new ArrayList<>();
        for (Linear l : targets) {
            Init a = switch (config.init().kind()) {
                case DEFAULT, RANDOM -> Init.uniformFanIn(l.inFeatures());      // kaiming_uniform_(a=√5)
                case GAUSSIAN -> Init.normal(1.0 / r);
                case PISSA -> Init.zeros();                                    // set from the SVD below
            };
            Init b = config.init().kind() == LoraInit.Kind.RANDOM ? Init.uniformFanIn(r) : Init.zeros();
            specs.add(new ParameterSpec(l.path() + ".lora_A.weight", Shape.of(r, l.inFeatures()), ParameterRole.WEIGHT, a));
            specs.add(new ParameterSpec(l.path() + ".lora_B.weight", Shape.of(l.outFeatures(), r), ParameterRole.WEIGHT, b));
        }
        ParameterStore store = ParameterStore.allocate(model.parameters().backend(), specs,
                s -> s.name().endsWith(".lora_A.weight") ? LORA_A : LORA_B, s -> trainable, seed);
        try {
            HeadLayout heads = new HeadLayout(model.config().attnLayers());
            Map<String, float[][]> initial = new LinkedHashMap<>();
            if (config.init().kind() == LoraInit.Kind.PISSA) {
                // PEFT runs pissa_init whenever a config says "pissa" (also when loading one), so the base becomes the
                // residual of its own SVD; the initial A₀, B₀ are kept for the conversion to plain LoRA on saving
                for (Linear l : targets) {
                    initial.put(l.path(), pissa(model, l, config, seed));
                    if (loaded == null) {
                        store.set(l.path() + ".lora_A.weight", initial.get(l.path())[0]);
                        store.set(l.path() + ".lora_B.weight", initial.get(l.path())[1]);
                    }
                }
            }
            if (loaded != null) {
                Map<String, float[]> own = new LinkedHashMap<>();
                for (Linear l : targets) {
                    own.put(l.path() + ".lora_A.weight",
                            heads.inputColumns(l.path(), loaded.get(l.path() + ".lora_A.weight"), r, false));
                    own.put(l.path() + ".lora_B.weight",
                            heads.outputRows(l.path(), loaded.get(l.path() + ".lora_B.weight"), r, false));
                }
                store.load(own, n -> false);
            }
            Map<String, LinearAdapter> layers = new LinkedHashMap<>();
            Map<String, Linear> linears = new LinkedHashMap<>();
            for (Linear l : targets) {
                layers.put(l.path(), new LoraAdapter(l, store.get(l.path() + ".lora_A.weight"),
                        store.get(l.path() + ".lora_B.weight"), config.scaling(), config.loraDropout()));
                linears.put(l.path(), l);
            }
            return new Adapter(name, config, store, layers, linears, heads, initial, null, null, 0, 0);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** PiSSA of one layer: sets the base weight to its residual and returns {A₀, B₀} (attn4j's order). */
    private static float[][] pissa(Transformer model, Linear l, LoraConfig config, long seed) {
        ParameterStore base = model.parameters();
        String weight = l.weight().name();
        float[] w = base.value(weight);
        Pissa.Init p = Pissa.init(w, l.outFeatures(), l.inFeatures(), config.r(), config.scaling(), config.init().niter(),
                pissaSeed(seed, l.path()));
        base.set(weight, p.residual());
        return new float[][] {p.a(), p.b()};
    }

    /** The randomized SVD's seed for one layer: the adapter's seed mixed with the layer's path. */
    static long pissaSeed(long seed, String path) {
        return seed ^ nameHash(path);
    }

    private static long nameHash(String s) {
        long h = 1125899906842597L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = 31 * h + b;
        }
        return h;
    }

    /**
     * A VeRA adapter on {@code model}: projections from {@code projection_prng_key} (or {@code loaded}'s
     * {@code vera_A}/{@code vera_B}), {@code λ_d = d_initial}, {@code λ_b = 0} (or {@code loaded}'s).
     */
    static Adapter vera(String name, Transformer model, VeraConfig config, boolean trainable, Map<String, float[]> loaded,
                        int[] loadedAShape, int[] loadedBShape) {
        List<Linear> targets = targets(model, config);
        int r = config.r();
        int maxIn = 0;
        int maxOut = 0;
        for (Linear l : targets) {
            maxIn = Math.max(maxIn, l.inFeatures());
            maxOut = Math.max(maxOut, l.outFeatures());
        }
        float[] veraA;
        float[] veraB;
        int aCols = maxIn;
        int bRows = maxOut;
        if (loaded != null && loaded.containsKey(PeftModel.VERA_A)) {
            // PEFT accepts projections at least as large as needed and slices them
            InvalidRequestException.check(loadedAShape.length == 2 && loadedAShape[0] == r && loadedAShape[1] >= maxIn,
                    "base_model.vera_A", "[" + r + ", >= " + maxIn + "]", java.util.Arrays.toString(loadedAShape));
            InvalidRequestException.check(loadedBShape.length == 2 && loadedBShape[1] == r && loadedBShape[0] >= maxOut,
                    "base_model.vera_B", "[>= " + maxOut + ", " + r + "]", java.util.Arrays.toString(loadedBShape));
            veraA = loaded.get(PeftModel.VERA_A);
            veraB = loaded.get(PeftModel.VERA_B);
            aCols = loadedAShape[1];
            bRows = loadedBShape[0];
        } else {
            // PEFT's _init_vera_A_vera_B: one generator, vera_A [r, max_in] first, then vera_B [max_out, r]
            TorchCpuGenerator g = new TorchCpuGenerator(config.projectionPrngKey());
            veraA = g.kaimingUniform(r, maxIn);
            veraB = g.kaimingUniform(maxOut, r);
        }
        HeadLayout heads = new HeadLayout(model.config().attnLayers());
        // each layer's slices vera_A[:, :in] and vera_B[:out, :], in its head order; equal slices are stored once
        Map<String, float[]> slices = new LinkedHashMap<>();
        Map<String, String[]> sliceOf = new LinkedHashMap<>();
        List<ParameterSpec> specs = new ArrayList<>();
        for (Linear l : targets) {
            int in = l.inFeatures();
            int out = l.outFeatures();
            String aKey = "vera_A[:, :" + in + "]" + (HeadLayout.headInputs(l.path()) && heads.permutes(l.path()) ? ".heads" : "");
            String bKey = "vera_B[:" + out + ", :]" + (HeadLayout.headOutputs(l.path()) && heads.permutes(l.path()) ? ".heads" : "");
            if (!slices.containsKey(aKey)) {
                float[] a = new float[Math.multiplyExact(r, in)];
                for (int i = 0; i < r; i++) {
                    System.arraycopy(veraA, i * aCols, a, i * in, in);
                }
                slices.put(aKey, heads.inputColumns(l.path(), a, r, false));
                specs.add(frozenSpec(aKey, Shape.of(r, in), slices.get(aKey)));
            }
            if (!slices.containsKey(bKey)) {
                float[] b = java.util.Arrays.copyOf(veraB, Math.multiplyExact(out, r));
                slices.put(bKey, heads.outputRows(l.path(), b, r, false));
                specs.add(frozenSpec(bKey, Shape.of(out, r), slices.get(bKey)));
            }
            sliceOf.put(l.path(), new String[] {aKey, bKey});
            specs.add(new ParameterSpec(l.path() + ".vera_lambda_d", Shape.of(r), ParameterRole.SCALE,
                    Init.constant((float) config.dInitial())));
            specs.add(new ParameterSpec(l.path() + ".vera_lambda_b", Shape.of(out), ParameterRole.SCALE, Init.zeros()));
        }
        ParameterStore store = ParameterStore.allocate(model.parameters().backend(), specs,
                s -> s.name().endsWith(".vera_lambda_d") ? VERA_LAMBDA_D : s.name().endsWith(".vera_lambda_b")
                        ? VERA_LAMBDA_B : VERA_PROJECTIONS,
                s -> trainable && s.role() == ParameterRole.SCALE, 0L);
        try {
            if (loaded != null) {
                Map<String, float[]> own = new LinkedHashMap<>();
                for (Linear l : targets) {
                    own.put(l.path() + ".vera_lambda_d", loaded.get(l.path() + ".vera_lambda_d"));
                    own.put(l.path() + ".vera_lambda_b", heads.outputRows(l.path(), loaded.get(l.path() + ".vera_lambda_b"), 1, false));
                }
                store.load(own, n -> slices.containsKey(n));
            }
            Map<String, LinearAdapter> layers = new LinkedHashMap<>();
            Map<String, Linear> linears = new LinkedHashMap<>();
            for (Linear l : targets) {
                String[] s = sliceOf.get(l.path());
                layers.put(l.path(), new VeraAdapter(l, store.get(s[0]).value(), store.get(s[1]).value(),
                        store.get(l.path() + ".vera_lambda_d"), store.get(l.path() + ".vera_lambda_b"), config.veraDropout()));
                linears.put(l.path(), l);
            }
            return new Adapter(name, config, store, layers, linears, heads, Map.of(), veraA, veraB, aCols, bRows);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private static ParameterSpec frozenSpec(String name, Shape shape, float[] values) {
        return new ParameterSpec(name, shape, ParameterRole.WEIGHT, (v, random) -> System.arraycopy(values, 0, v, 0, v.length));
    }

    // ------------------------------------------------------------------------------------------------- access

    /** {@return the adapter's name} */
    public String name() {
        return name;
    }

    /** {@return its configuration} */
    public AdapterConfig config() {
        return config;
    }

    /** {@return its parameters (what an optimizer updates)} */
    public ParameterStore parameters() {
        return store;
    }

    /** {@return each wrapped layer's adapter by module path, in model order} */
    public Map<String, LinearAdapter> layers() {
        return layers;
    }

    /** {@return the backend} */
    Backend backend() {
        return store.backend();
    }

    /**
     * The learning-rate multiplier of each trainable optimizer group: LoRA+ ({@code loraplus_lr_ratio} in PEFT's
     * {@code create_loraplus_optimizer}, {@code lora_plus_scale} in PaddleNLP) trains {@code lora_B} at
     * {@code lr·ratio} and {@code lora_A} at {@code lr}; {@code ratio = 1} is plain LoRA. VeRA's groups train at
     * {@code lr} (LoRA+ is a LoRA method: a ratio other than 1 is refused for VeRA).
     *
     * <pre>{@code
     * adapter.lrScales(16.0)   // {lora_A=1.0, lora_B=16.0}
     * }</pre>
     *
     * @param loraPlusRatio {@code ηB/ηA}, finite and {@code > 0}
     * @return group name to multiplier, for the trainable groups
     */
    public Map<String, Double> lrScales(double loraPlusRatio) {
        InvalidRequestException.check(Double.isFinite(loraPlusRatio) && loraPlusRatio > 0, "loraplus_lr_ratio",
                "a finite number > 0", loraPlusRatio);
        InvalidRequestException.check(config instanceof LoraConfig || loraPlusRatio == 1.0, "loraplus_lr_ratio",
                "1 for a VeRA adapter (LoRA+ scales LoRA's B matrices)", loraPlusRatio);
        Map<String, Double> out = new LinkedHashMap<>();
        store.groups().stream().filter(g -> g.trainable()).forEach(g -> out.put(g.name(),
                g.name().equals(LORA_B) ? loraPlusRatio : 1.0));
        return out;
    }

    /** The layers this adapter wraps. */
    Map<String, Linear> linears() {
        return linears;
    }

    /** {@return whether it was initialised with PiSSA (its base weights are then residuals)} */
    public boolean pissa() {
        return !pissaInitial.isEmpty();
    }

    // --------------------------------------------------------------------------------------------- state dict

    /**
     * The adapter as PEFT saves it ({@code get_peft_model_state_dict}): keys {@code base_model.model.<path>.lora_A.weight}
     * / {@code .lora_B.weight}, or {@code .vera_lambda_d} / {@code .vera_lambda_b} plus {@code base_model.vera_A} and
     * {@code base_model.vera_B} when {@code save_projection}; values in x-transformers' head order.
     *
     * @return key to values, with {@link #shapes()} giving each shape
     */
    public Map<String, float[]> stateDict() {
        Map<String, float[]> values = store.values();
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Linear l : linears.values()) {
            String k = PeftModel.KEY_PREFIX + l.path();
            if (config instanceof LoraConfig c) {
                out.put(k + ".lora_A.weight", heads.inputColumns(l.path(), values.get(l.path() + ".lora_A.weight"), c.r(), true));
                out.put(k + ".lora_B.weight", heads.outputRows(l.path(), values.get(l.path() + ".lora_B.weight"), c.r(), true));
            } else {
                out.put(k + ".vera_lambda_b", heads.outputRows(l.path(), values.get(l.path() + ".vera_lambda_b"), 1, true));
                out.put(k + ".vera_lambda_d", values.get(l.path() + ".vera_lambda_d"));
            }
        }
        if (config instanceof VeraConfig v && v.saveProjection()) {
            out.put(PeftModel.VERA_A_KEY, veraA.clone());
            out.put(PeftModel.VERA_B_KEY, veraB.clone());
        }
        return out;
    }

    /**
     * The trained tensors' gradients under {@link #stateDict()}'s keys, in x-transformers' head order (empty for a
     * frozen adapter).
     *
     * @return key to gradient
     */
    public Map<String, float[]> gradients() {
        Map<String, float[]> grads = store.grads();
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Linear l : linears.values()) {
            String k = PeftModel.KEY_PREFIX + l.path();
            String p = l.path();
            if (config instanceof LoraConfig c) {
                if (grads.containsKey(p + ".lora_A.weight")) {
                    out.put(k + ".lora_A.weight", heads.inputColumns(p, grads.get(p + ".lora_A.weight"), c.r(), true));
                    out.put(k + ".lora_B.weight", heads.outputRows(p, grads.get(p + ".lora_B.weight"), c.r(), true));
                }
            } else if (grads.containsKey(p + ".vera_lambda_b")) {
                out.put(k + ".vera_lambda_b", heads.outputRows(p, grads.get(p + ".vera_lambda_b"), 1, true));
                out.put(k + ".vera_lambda_d", grads.get(p + ".vera_lambda_d"));
            }
        }
        return out;
    }

    /**
     * The shapes of {@link #stateDict()}'s entries (or, with {@code converted}, of the PiSSA-to-LoRA conversion's).
     */
    Map<String, int[]> shapes(boolean converted) {
        Map<String, int[]> out = new LinkedHashMap<>();
        int f = converted ? 2 : 1;
        for (Linear l : linears.values()) {
            String k = PeftModel.KEY_PREFIX + l.path();
            if (config instanceof LoraConfig c) {
                out.put(k + ".lora_A.weight", new int[] {f * c.r(), l.inFeatures()});
                out.put(k + ".lora_B.weight", new int[] {l.outFeatures(), f * c.r()});
            } else {
                out.put(k + ".vera_lambda_b", new int[] {l.outFeatures()});
                out.put(k + ".vera_lambda_d", new int[] {config.r()});
            }
        }
        if (config instanceof VeraConfig v && v.saveProjection()) {
            out.put(PeftModel.VERA_A_KEY, new int[] {v.r(), veraMaxIn});
            out.put(PeftModel.VERA_B_KEY, new int[] {veraMaxOut, v.r()});
        }
        return out;
    }

    /**
     * The shapes of {@link #stateDict()}'s entries.
     *
     * @return key to shape
     */
    public Map<String, int[]> shapes() {
        return shapes(false);
    }

    /**
     * PEFT's conversion of a PiSSA adapter to a plain LoRA adapter on the original weights
     * ({@code save_pretrained(path_initial_model_for_weight_conversion=...)}, {@code LoraModel.subtract_mutated_init}):
     * {@code ΔW = s·(B·A − B₀·A₀) = s'·B'·A'} with {@code A' = [A; A₀]}, {@code B' = [B, −B₀]} and a configuration of
     * rank {@code 2r} and alpha {@code 2α} ({@code √2·α} with rsLoRA), so {@code s' = s}.
     */
    Map<String, float[]> convertedStateDict() {
        InvalidRequestException.check(pissa(), "convert", "a PiSSA-initialised LoRA adapter", config);
        LoraConfig c = (LoraConfig) config;
        int r = c.r();
        Map<String, float[]> values = store.values();
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Linear l : linears.values()) {
            int in = l.inFeatures();
            int o = l.outFeatures();
            float[] a = values.get(l.path() + ".lora_A.weight");
            float[] b = values.get(l.path() + ".lora_B.weight");
            float[][] init = pissaInitial.get(l.path());
            float[] a2 = new float[Math.multiplyExact(2 * r, in)];
            System.arraycopy(a, 0, a2, 0, a.length);
            System.arraycopy(init[0], 0, a2, a.length, init[0].length);
            float[] b2 = new float[Math.multiplyExact(o, 2 * r)];
            for (int row = 0; row < o; row++) {
                for (int i = 0; i < r; i++) {
                    b2[row * 2 * r + i] = b[row * r + i];
                    b2[row * 2 * r + r + i] = -init[1][row * r + i];
                }
            }
            String k = PeftModel.KEY_PREFIX + l.path();
            out.put(k + ".lora_A.weight", heads.inputColumns(l.path(), a2, 2 * r, true));
            out.put(k + ".lora_B.weight", heads.outputRows(l.path(), b2, 2 * r, true));
        }
        return out;
    }

    /** Frees the adapter's parameters (detaching is the {@link PeftModel}'s job). */
    @Override
    public void close() {
        store.close();
    }

    @Override
    public String toString() {
        return "Adapter[" + name + ", " + config.peftType() + ", r=" + config.r() + ", " + layers.size() + " layers, "
                + store.trainableCount() + " trainable]";
    }
}
