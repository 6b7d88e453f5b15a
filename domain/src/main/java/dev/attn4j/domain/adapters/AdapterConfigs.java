package dev.attn4j.domain.adapters;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.attn4j.ports.InvalidRequestException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code adapter_config.json} in PEFT's field names ({@code PeftConfig.save_pretrained} writes
 * {@code dataclasses.asdict} of {@code LoraConfig} / {@code VeraConfig}): read with PEFT's defaults for absent
 * fields, unknown fields ignored (as PEFT drops keys its config class lacks), and fields that would change the
 * computation in ways attn4j does not implement ({@code use_dora}, {@code layers_to_transform},
 * {@code rank_pattern}, {@code modules_to_save}, a bias mode other than {@code "none"}, ...) rejected with the field
 * named. {@code fan_in_fan_out} is ignored: it only applies to GPT-2's {@code Conv1D}, and PEFT itself resets it to
 * false for {@code nn.Linear} layers, which are all attn4j has.
 *
 * <p>Written files carry {@code peft_version} (the PEFT release whose format they follow) and
 * {@code attn4j_version} (what wrote them; PEFT ignores the key).
 *
 * <pre>{@code
 * AdapterConfig c = AdapterConfigs.read(Path.of("my-adapter"));        // my-adapter/adapter_config.json
 * String json = AdapterConfigs.toJson(LoraConfig.of(8, 16, TargetModules.names("to_q", "to_v")));
 * }</pre>
 */
public final class AdapterConfigs {
    /** The configuration file of an adapter directory. */
    public static final String CONFIG_FILE = "adapter_config.json";
    /** The weights file of an adapter directory. */
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** The PEFT release whose file format attn4j writes and reads (the source read for it: peft 0.20.1.dev0). */
    public static final String PEFT_FORMAT_VERSION = "0.20.1.dev0";
    /** attn4j's version, recorded in written configurations. */
    public static final String ATTN4J_VERSION = "0.1.0-SNAPSHOT";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private AdapterConfigs() {
    }

    /**
     * Reads {@code dir/adapter_config.json}.
     *
     * @param dir an adapter directory
     * @return the configuration
     * @throws InvalidRequestException for a missing file, malformed JSON, an unsupported method or field value
     */
    public static AdapterConfig read(Path dir) {
        Path file = dir.resolve(CONFIG_FILE);
        InvalidRequestException.check(Files.isRegularFile(file), "adapter", "a directory holding " + CONFIG_FILE, dir);
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses the text of an {@code adapter_config.json}.
     *
     * @param json the file's text
     * @return the configuration
     * @throws InvalidRequestException for malformed JSON, an unsupported method or field value
     */
    public static AdapterConfig parse(String json) {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException(CONFIG_FILE, "a JSON object", e.getOriginalMessage());
        }
        InvalidRequestException.check(o != null && o.isObject(), CONFIG_FILE, "a JSON object", o);
        String type = text(o, "peft_type", null);
        InvalidRequestException.check(type != null, "peft_type", "LORA or VERA", "none");
        rejectUnless(o, "modules_to_save", AdapterConfigs::emptyContainer, "none (attn4j trains no base module)");
        rejectUnless(o, "layers_to_transform", AdapterConfigs::emptyContainer, "null (every matching layer)");
        rejectUnless(o, "layers_pattern", n -> emptyContainer(n) || n.isTextual() && n.textValue().isEmpty(), "null");
        TargetModules targets = targets(o.get("target_modules"), "target_modules");
        InvalidRequestException.check(targets != null, "target_modules",
                "the layers to wrap (attn4j has no per-architecture default)", "none");
        TargetModules exclude = targets(o.get("exclude_modules"), "exclude_modules");
        String bias = text(o, "bias", AdapterConfig.BIAS_NONE);
        String task = text(o, "task_type", null);
        String base = text(o, "base_model_name_or_path", null);
        switch (type) {
            case "LORA" -> {
                rejectUnless(o, "use_dora", n -> !n.asBoolean(), "false (DoRA is not implemented)");
                rejectUnless(o, "lora_bias", n -> !n.asBoolean(), "false");
                rejectUnless(o, "rank_pattern", AdapterConfigs::emptyContainer, "{} (one rank for every layer)");
                rejectUnless(o, "alpha_pattern", AdapterConfigs::emptyContainer, "{} (one alpha for every layer)");
                rejectUnless(o, "target_parameters", AdapterConfigs::emptyContainer, "null");
                rejectUnless(o, "trainable_token_indices", AdapterConfigs::emptyContainer, "null");
                rejectUnless(o, "use_qalora", n -> !n.asBoolean(), "false");
                int r = integer(o, "r", 8);
                double alpha = number(o, "lora_alpha", 8);
                boolean rslora = bool(o, "use_rslora", false);
                JsonNode init = o.get("init_lora_weights");
                LoraInit li = init == null || init.isNull() ? LoraInit.DEFAULT
                        : LoraInit.parse(init.isBoolean() ? (Object) init.booleanValue() : init.isTextual() ? init.textValue() : init.toString());
                double dropout = number(o, "lora_dropout", 0.0);
                return new LoraConfig(r, alpha, targets, exclude, rslora, li, dropout, bias, task, base);
            }
            case "VERA" -> {
                int r = integer(o, "r", 256);
                JsonNode key = o.get("projection_prng_key");
                long k = key == null || key.isNull() ? 0L : longValue(key, "projection_prng_key");
                boolean save = bool(o, "save_projection", true);
                rejectUnless(o, "init_weights", JsonNode::asBoolean, "true (PEFT's only documented setting)");
                double d = number(o, "d_initial", 0.1);
                double dropout = number(o, "vera_dropout", 0.0);
                return new VeraConfig(r, targets, exclude, k, save, d, dropout, bias, task, base);
            }
            default -> throw new InvalidRequestException("peft_type", "LORA or VERA (the methods attn4j implements)", type);
        }
    }

    /**
     * Writes {@code dir/adapter_config.json} (creating {@code dir}).
     *
     * @param dir    the adapter directory
     * @param config the configuration
     */
    public static void write(Path dir, AdapterConfig config) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(CONFIG_FILE), toJson(config) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(CONFIG_FILE) + ": " + e.getMessage(), e);
        }
    }

    /**
     * The configuration as PEFT writes it (its fields for the method, the defaults of those attn4j does not use).
     *
     * @param config the configuration
     * @return indented JSON
     */
    public static String toJson(AdapterConfig config) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("auto_mapping", null);
        m.put("base_model_name_or_path", config.baseModelNameOrPath());
        m.put("bias", config.bias());
        m.put("exclude_modules", config.excludeModules() == null ? null : targetsJson(config.excludeModules()));
        m.put("fan_in_fan_out", false);
        m.put("inference_mode", true);
        m.put("layers_pattern", null);
        m.put("layers_to_transform", null);
        m.put("modules_to_save", null);
        switch (config) {
            case LoraConfig l -> {
                m.put("alpha_pattern", Map.of());
                m.put("init_lora_weights", l.init().jsonValue());
                m.put("lora_alpha", l.loraAlpha() == Math.rint(l.loraAlpha()) && Math.abs(l.loraAlpha()) < 1e15
                        ? (Object) (long) l.loraAlpha() : l.loraAlpha());
                m.put("lora_bias", false);
                m.put("lora_dropout", l.loraDropout());
                m.put("rank_pattern", Map.of());
                m.put("use_dora", false);
                m.put("use_rslora", l.useRslora());
            }
            case VeraConfig v -> {
                m.put("d_initial", v.dInitial());
                m.put("init_weights", true);
                m.put("projection_prng_key", v.projectionPrngKey());
                m.put("save_projection", v.saveProjection());
                m.put("vera_dropout", v.veraDropout());
            }
        }
        m.put("peft_type", config.peftType().name());
        m.put("r", config.r());
        m.put("revision", null);
        m.put("target_modules", targetsJson(config.targetModules()));
        m.put("task_type", config.taskType());
        m.put("peft_version", PEFT_FORMAT_VERSION);
        m.put("attn4j_version", ATTN4J_VERSION);
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object targetsJson(TargetModules t) {
        return t.names() != null ? t.names() : t.pattern();
    }

    private static TargetModules targets(JsonNode n, String field) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isTextual()) {
            return n.textValue().equalsIgnoreCase(TargetModules.ALL_LINEAR) ? TargetModules.allLinear()
                    : TargetModules.regex(n.textValue());
        }
        InvalidRequestException.check(n.isArray(), field, "a list of module names or a pattern string", n);
        List<String> names = new ArrayList<>();
        for (JsonNode e : n) {
            InvalidRequestException.check(e.isTextual(), field, "module names (strings)", n);
            names.add(e.textValue());
        }
        return new TargetModules(names, null);
    }

    /** An empty list or object (a number or string is not "empty" here, unlike JsonNode.isEmpty()). */
    private static boolean emptyContainer(JsonNode n) {
        return (n.isArray() || n.isObject()) && n.isEmpty();
    }

    private interface Check {
        boolean ok(JsonNode n);
    }

    /** Rejects a present, non-null field unless {@code ok}: a setting attn4j would otherwise silently ignore. */
    private static void rejectUnless(JsonNode o, String field, Check ok, String expected) {
        JsonNode n = o.get(field);
        if (n != null && !n.isNull() && !ok.ok(n)) {
            throw new InvalidRequestException(field, expected, n.toString());
        }
    }

    private static String text(JsonNode o, String field, String fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        InvalidRequestException.check(n.isTextual(), field, "a string", n);
        return n.textValue();
    }

    private static boolean bool(JsonNode o, String field, boolean fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        InvalidRequestException.check(n.isBoolean(), field, "true or false", n);
        return n.booleanValue();
    }

    private static double number(JsonNode o, String field, double fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        InvalidRequestException.check(n.isNumber(), field, "a number", n);
        return n.doubleValue();
    }

    private static int integer(JsonNode o, String field, int fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        InvalidRequestException.check(n.isIntegralNumber() && n.canConvertToInt(), field, "an integer", n);
        return n.intValue();
    }

    private static long longValue(JsonNode n, String field) {
        InvalidRequestException.check(n.isIntegralNumber() && n.canConvertToLong(), field, "a 64-bit integer", n);
        return n.longValue();
    }
}
