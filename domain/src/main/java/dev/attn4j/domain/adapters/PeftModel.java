package dev.attn4j.domain.adapters;

import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.LinearAdapter;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.domain.safetensors.SafetensorsFormatException;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.domain.safetensors.TensorEntry;
import dev.attn4j.ports.InvalidRequestException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@link Transformer} with named PEFT adapters (Hugging Face PEFT's {@code PeftModel} over a {@code LoraModel} or
 * {@code VeraModel}): adapters are added fresh or loaded from PEFT directories ({@code adapter_config.json} +
 * {@code adapter_model.safetensors}), one is active at a time (attached to its layers through
 * {@link Linear#attach}), and one can be merged into the base weights, unmerged, or merged for good and saved as a
 * plain model.
 *
 * <p>The base model should be created frozen ({@code Transformer.create(backend, config, seed, spec -> false)}):
 * then it has no gradient buffers, runs no weight-gradient GEMM, and only the active adapter's
 * {@link Adapter#parameters()} get gradients; an optimizer is made over that store.
 *
 * <p>Files follow PEFT exactly: keys {@code base_model.model.<module path>.lora_A.weight} ({@code lora_B},
 * {@code vera_lambda_d}, {@code vera_lambda_b}), VeRA's shared {@code base_model.vera_A} / {@code base_model.vera_B},
 * no adapter name in the keys, x-transformers' module paths and head order; metadata {@code format: pt}.
 *
 * <pre>{@code
 * try (Transformer base = Transformer.create(backend, config, 0L, spec -> false);
 *      PeftModel peft = PeftModel.wrap(base)) {
 *     base.loadStateDict(weights);
 *     Adapter lora = peft.add("default", LoraConfig.of(8, 16, TargetModules.names("to_q", "to_v")), 42L);
 *     ... train lora.parameters() ...
 *     peft.save("default", Path.of("out/adapter"));
 *     peft.load("other", Path.of("downloaded-adapter"), false);
 *     peft.setActive("other");
 * }
 * }</pre>
 */
public final class PeftModel implements AutoCloseable {
    /** The prefix of every per-layer key: {@code PeftModel.base_model} ({@code LoraModel}) {@code .model}. */
    public static final String KEY_PREFIX = "base_model.model.";
    /** VeRA's shared {@code vera_A} key. */
    public static final String VERA_A_KEY = "base_model.vera_A";
    /** VeRA's shared {@code vera_B} key. */
    public static final String VERA_B_KEY = "base_model.vera_B";
    static final String VERA_A = "vera_A";
    static final String VERA_B = "vera_B";

    private final Transformer model;
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private String active;
    private String merged;
    private boolean closed;

    private PeftModel(Transformer model) {
        this.model = model;
    }

    /**
     * Wraps {@code model} (not closed by the wrapper); any adapter already attached to its layers is detached.
     *
     * @param model the base model
     * @return a wrapper without adapters
     */
    public static PeftModel wrap(Transformer model) {
        InvalidRequestException.check(model != null, "model", "a model", "null");
        model.linears().forEach(l -> l.attach(null));
        return new PeftModel(model);
    }

    /** {@return the base model} */
    public Transformer model() {
        return model;
    }

    /** {@return the adapters' names, in the order added} */
    public Set<String> names() {
        return java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(adapters.keySet()));
    }

    /** {@return the active adapter's name, or {@code null} when none is (the base model alone)} */
    public String active() {
        return active;
    }

    /** {@return the merged adapter's name, or {@code null}} */
    public String merged() {
        return merged;
    }

    /**
     * The named adapter.
     *
     * @param name its name
     * @return the adapter
     * @throws InvalidRequestException naming the adapters there are
     */
    public Adapter adapter(String name) {
        Adapter a = adapters.get(name);
        InvalidRequestException.check(a != null, "adapter", "one of " + adapters.keySet(), name);
        return a;
    }

    /**
     * Adds a fresh, trainable adapter and makes it the active one. A PiSSA initialisation rewrites the targeted base
     * weights into their residuals (so it should not be combined with other adapters, as PEFT warns).
     *
     * @param name   its name (PEFT's default is {@code "default"})
     * @param config the configuration
     * @param seed   the seed of its initialisation
     * @return the adapter
     */
    public Adapter add(String name, AdapterConfig config, long seed) {
        requireNew(name);
        InvalidRequestException.check(config != null, "config", "an adapter configuration", "null");
        Adapter a = switch (config) {
            case LoraConfig l -> Adapter.lora(name, model, l, seed, true, null);
            case VeraConfig v -> Adapter.vera(name, model, v, true, null, null, null);
        };
        adapters.put(name, a);
        setActive(name);
        return a;
    }

    /**
     * Loads a PEFT adapter directory ({@code adapter_config.json}, {@code adapter_model.safetensors}) and makes it the
     * active adapter. Every tensor the configuration implies for this model must be in the file with its shape, and
     * the file must hold nothing else (a key for a module this model lacks means another base model). As in PEFT, an
     * adapter whose {@code init_lora_weights} is PiSSA re-derives the residual base weights from the base model's SVD
     * before its trained matrices are loaded.
     *
     * @param name      its name
     * @param dir       the directory
     * @param trainable whether its parameters get gradients (PEFT's {@code is_trainable})
     * @return the adapter
     * @throws InvalidRequestException for a bad directory, configuration or weights file
     */
    public Adapter load(String name, Path dir, boolean trainable) {
        requireNew(name);
        AdapterConfig config = AdapterConfigs.read(dir);
        Path file = dir.resolve(AdapterConfigs.WEIGHTS_FILE);
        InvalidRequestException.check(Files.isRegularFile(file), "adapter", "a directory holding "
                + AdapterConfigs.WEIGHTS_FILE, dir);
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (TensorEntry e : r.entries()) {
                tensors.put(e.name(), r.readFloats(e.name()));
                shapes.put(e.name(), e.shape());
            }
        } catch (SafetensorsFormatException | IllegalArgumentException e) {
            throw new InvalidRequestException(AdapterConfigs.WEIGHTS_FILE, "a safetensors file of floating tensors",
                    e.getMessage());
        }
        List<Linear> targets = Adapter.targets(model, config);
        Map<String, int[]> expected = new LinkedHashMap<>();
        for (Linear l : targets) {
            String k = KEY_PREFIX + l.path();
            if (config instanceof LoraConfig c) {
                expected.put(k + ".lora_A.weight", new int[] {c.r(), l.inFeatures()});
                expected.put(k + ".lora_B.weight", new int[] {l.outFeatures(), c.r()});
            } else {
                expected.put(k + ".vera_lambda_d", new int[] {config.r()});
                expected.put(k + ".vera_lambda_b", new int[] {l.outFeatures()});
            }
        }
        boolean projections = config instanceof VeraConfig v && v.saveProjection();
        Set<String> unexpected = new TreeSet<>(tensors.keySet());
        unexpected.removeAll(expected.keySet());
        if (projections) {
            InvalidRequestException.check(tensors.containsKey(VERA_A_KEY) && tensors.containsKey(VERA_B_KEY), VERA_A_KEY,
                    "vera_A and vera_B in the file (save_projection is true)", "none");
            unexpected.remove(VERA_A_KEY);
            unexpected.remove(VERA_B_KEY);
        }
        InvalidRequestException.check(unexpected.isEmpty(), AdapterConfigs.WEIGHTS_FILE,
                "only the tensors of the layers " + config.targetModules() + " selects in this model",
                "unexpected " + unexpected);
        Map<String, float[]> own = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            float[] v = tensors.get(e.getKey());
            InvalidRequestException.check(v != null, e.getKey(), "a tensor of shape " + Arrays.toString(e.getValue()),
                    "none in " + file);
            InvalidRequestException.check(Arrays.equals(shapes.get(e.getKey()), e.getValue()), e.getKey(),
                    "shape " + Arrays.toString(e.getValue()), Arrays.toString(shapes.get(e.getKey())));
            own.put(e.getKey().substring(KEY_PREFIX.length()), v);
        }
        Adapter a;
        if (config instanceof LoraConfig l) {
            a = Adapter.lora(name, model, l, 0L, trainable, own);
        } else {
            if (projections) {
                own.put(VERA_A, tensors.get(VERA_A_KEY));
                own.put(VERA_B, tensors.get(VERA_B_KEY));
            }
            a = Adapter.vera(name, model, (VeraConfig) config, trainable, own, shapes.get(VERA_A_KEY), shapes.get(VERA_B_KEY));
        }
        adapters.put(name, a);
        setActive(name);
        return a;
    }

    private void requireNew(String name) {
        requireOpen();
        InvalidRequestException.check(name != null && !name.isBlank(), "adapter name", "a non-blank name", name);
        InvalidRequestException.check(!adapters.containsKey(name), "adapter name", "a name not in use " + adapters.keySet(),
                name);
        InvalidRequestException.check(merged == null, "adapters", "none merged (unmerge first)", "'" + merged + "' merged");
    }

    /**
     * Makes {@code name} the active adapter (attached to its layers), detaching every other one; {@code null} leaves
     * the base model alone ({@link #disable()}).
     *
     * @param name an adapter's name, or {@code null}
     */
    public void setActive(String name) {
        requireOpen();
        InvalidRequestException.check(merged == null, "adapters", "none merged (unmerge first)", "'" + merged + "' merged");
        Adapter a = name == null ? null : adapter(name);
        model.linears().forEach(l -> l.attach(null));
        if (a != null) {
            for (Map.Entry<String, Linear> e : a.linears().entrySet()) {
                e.getValue().attach(a.layers().get(e.getKey()));
            }
        }
        active = name;
    }

    /** Detaches every adapter: the base model alone (PEFT's {@code disable_adapter}). */
    public void disable() {
        setActive(null);
    }

    /**
     * Adds the named adapter's delta ({@code s·B·A}, or VeRA's {@code (λ_b ⊙ B_s)·(λ_d ⊙ A_s)}) into the base weights
     * in place and detaches it, so the model computes the same function with no adapter work per token (PEFT's
     * {@code merge_adapter}). Dropout does not apply to a merged adapter (as in evaluation).
     *
     * @param name the adapter
     */
    public void merge(String name) {
        requireOpen();
        InvalidRequestException.check(merged == null, "adapters", "none merged yet", "'" + merged + "' merged");
        Adapter a = adapter(name);
        model.linears().forEach(l -> l.attach(null));
        apply(a, 1);
        merged = name;
    }

    /** Subtracts the merged adapter's delta again and re-attaches the active adapter (PEFT's {@code unmerge_adapter}). */
    public void unmerge() {
        requireOpen();
        InvalidRequestException.check(merged != null, "adapters", "one merged", "none");
        apply(adapter(merged), -1);
        merged = null;
        setActive(active);
    }

    private void apply(Adapter a, int sign) {
        for (LinearAdapter layer : a.layers().values()) {
            switch (layer) {
                case LoraAdapter l -> l.mergeInto(a.backend(), sign);
                case VeraAdapter v -> v.mergeInto(a.backend(), sign);
                default -> throw new IllegalStateException("unknown adapter " + layer);
            }
        }
    }

    /**
     * Merges the named adapter for good and removes every adapter (PEFT's {@code merge_and_unload}): the wrapped
     * model is then a plain model whose {@link Transformer#stateDict()} holds the merged weights.
     *
     * @param name the adapter to merge
     * @return the base model, now with merged weights
     */
    public Transformer mergeAndUnload(String name) {
        merge(name);
        merged = null;
        active = null;
        adapters.values().forEach(Adapter::close);
        adapters.clear();
        return model;
    }

    /**
     * Removes an adapter (PEFT's {@code delete_adapter}), detaching it if it is active.
     *
     * @param name the adapter
     */
    public void remove(String name) {
        requireOpen();
        Adapter a = adapter(name);
        InvalidRequestException.check(!name.equals(merged), "adapter", "an unmerged adapter (unmerge first)", name);
        if (name.equals(active)) {
            disable();
        }
        adapters.remove(name).close();
    }

    /**
     * Saves the named adapter as PEFT's {@code save_pretrained} does.
     *
     * @param name the adapter
     * @param dir  the directory (created; its two files replaced)
     */
    public void save(String name, Path dir) {
        save(name, dir, false);
    }

    /**
     * Saves the named adapter; with {@code convertPissaToLora} a PiSSA adapter is written as the plain LoRA adapter
     * that applies to the original (not residual) weights, as PEFT's
     * {@code save_pretrained(path_initial_model_for_weight_conversion=...)} writes it: {@code A' = [A; A₀]},
     * {@code B' = [B, −B₀]}, {@code r} doubled, {@code lora_alpha} doubled (times √2 with rsLoRA, keeping the scaling),
     * {@code init_lora_weights = true}.
     *
     * @param name               the adapter
     * @param dir                the directory (created; its two files replaced)
     * @param convertPissaToLora whether to convert a PiSSA adapter
     */
    public void save(String name, Path dir, boolean convertPissaToLora) {
        requireOpen();
        Adapter a = adapter(name);
        AdapterConfig config = a.config();
        Map<String, float[]> values;
        Map<String, int[]> shapes;
        if (convertPissaToLora) {
            InvalidRequestException.check(a.pissa(), "convertPissaToLora", "a PiSSA-initialised adapter", name);
            LoraConfig c = (LoraConfig) config;
            config = c.withRank(2 * c.r(), c.useRslora() ? c.loraAlpha() * Math.sqrt(2) : 2 * c.loraAlpha())
                    .withInit(LoraInit.DEFAULT);
            values = a.convertedStateDict();
            shapes = a.shapes(true);
        } else {
            values = a.stateDict();
            shapes = a.shapes(false);
        }
        SafetensorsWriter w = SafetensorsWriter.create();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            w.f32(e.getKey(), e.getValue(), shapes.get(e.getKey()));
        }
        w.metadata("format", "pt");
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        w.write(dir.resolve(AdapterConfigs.WEIGHTS_FILE));
        AdapterConfigs.write(dir, config);
    }

    /**
     * Writes a model's state dict (x-transformers' names and head order, e.g. after {@link #mergeAndUnload}) as a
     * safetensors file with each parameter's shape (metadata {@code format: pt}).
     *
     * @param model the model
     * @param file  the file (written atomically)
     */
    public static void writeModel(Transformer model, Path file) {
        ParameterStore store = model.parameters();
        SafetensorsWriter w = SafetensorsWriter.create();
        for (Map.Entry<String, float[]> e : model.stateDict().entrySet()) {
            int[] shape = store.contains(e.getKey()) ? store.get(e.getKey()).shape().dims() : new int[] {e.getValue().length};
            w.f32(e.getKey(), e.getValue(), shape);
        }
        w.metadata("format", "pt");
        w.write(file);
    }

    /** {@return each adapter's wrapped module paths, for reports} */
    public Map<String, List<String>> wrapped() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        adapters.forEach((n, a) -> out.put(n, new ArrayList<>(a.layers().keySet())));
        return out;
    }

    private void requireOpen() {
        if (closed) {
            throw new dev.attn4j.ports.Attn4jException("PEFT model is closed");
        }
    }

    /** Detaches and frees every adapter (the base model stays open, merged weights stay merged). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        model.linears().forEach(l -> l.attach(null));
        adapters.values().forEach(Adapter::close);
        adapters.clear();
    }
}
