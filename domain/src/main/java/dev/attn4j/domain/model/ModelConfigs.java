package dev.attn4j.domain.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.ports.InvalidRequestException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Model configurations as JSON, and the presets. The JSON is the x-transformers constructor call written out, so
 * a configuration is copied from Python as it is:
 * <pre>{@code
 * {"num_tokens": 20000, "max_seq_len": 8192, "use_abs_pos_emb": false,
 *  "attn_layers": {"kind": "decoder", "dim": 512, "depth": 6, "heads": 8, "alibi_pos_bias": true,
 *                  "alibi_num_heads": 4, "rotary_xpos": true, "attn_flash": true, "deepnorm": true,
 *                  "shift_tokens": 1, "attn_one_kv_head": true}}
 * }</pre>
 * An {@code XTransformer} call is the flat object of its arguments ({@code dim}, {@code enc_*}, {@code dec_*}).
 *
 * <p>Stricter than x-transformers, which silently ignores options it does not know: an unknown option is an error
 * naming it, and so is an option x-transformers knows but attn4j does not implement, unless it has its default
 * value. {@code attn_flash} is accepted either way: flash attention computes the same function, and attn4j's
 * attention is always the tiled kind.
 *
 * <pre>{@code
 * ModelConfig orca = ModelConfigs.load("orca");             // a preset name, or a path to a .json file
 * String json = ModelConfigs.toJson(orca);
 * }</pre>
 */
public final class ModelConfigs {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Layer options attn4j implements (names as x-transformers' AttentionLayers / Attention / FeedForward take them). */
    private static final Set<String> LAYER_OPTIONS = Set.of("dim", "depth", "heads", "attn_dim_head", "attn_kv_heads",
            "attn_one_kv_head", "alibi_pos_bias", "alibi_num_heads", "rel_pos_bias", "rel_pos_num_buckets",
            "rel_pos_max_distance", "rotary_pos_emb", "rotary_emb_dim", "rotary_xpos", "rotary_xpos_scale_base", "deepnorm",
            "pre_norm", "scale_residual", "shift_tokens", "ff_mult", "ff_glu", "ff_swish", "use_rmsnorm", "cross_attend",
            "attn_flash", "pre_norm_has_final_norm");

    /**
     * Options x-transformers 1.20 knows that attn4j does not implement, with the default value that is accepted
     * (x-transformers' own default: the option is then off).
     */
    private static final Map<String, Object> UNIMPLEMENTED = Map.ofEntries(
            Map.entry("use_scalenorm", false), Map.entry("use_simple_rmsnorm", false), Map.entry("residual_attn", false),
            Map.entry("cross_residual_attn", false), Map.entry("macaron", false), Map.entry("sandwich_norm", false),
            Map.entry("resi_dual", false), Map.entry("gate_residual", false), Map.entry("dynamic_pos_bias", false),
            Map.entry("only_cross", false), Map.entry("layer_dropout", 0.0), Map.entry("cross_attn_tokens_dropout", 0.0),
            Map.entry("rotary_interpolation_factor", 1.0), Map.entry("rotary_base_rescale_factor", 1.0),
            Map.entry("scale_residual_constant", 1.0), Map.entry("zero_init_branch_output", false),
            Map.entry("attn_dropout", 0.0), Map.entry("ff_dropout", 0.0), Map.entry("attn_qk_norm", false),
            Map.entry("attn_talking_heads", false), Map.entry("attn_gate_values", false), Map.entry("attn_head_scale", false),
            Map.entry("attn_num_mem_kv", 0.0), Map.entry("attn_shared_kv", false), Map.entry("attn_on_attn", false),
            Map.entry("attn_sparse_topk", "null"), Map.entry("attn_value_dim_head", "null"),
            Map.entry("attn_max_attend_past", "null"), Map.entry("attn_add_zero_kv", false),
            Map.entry("attn_zero_init_output", false), Map.entry("ff_post_act_ln", false), Map.entry("ff_no_bias", false),
            Map.entry("ff_relu_squared", false), Map.entry("ff_glu_mult_bias", false), Map.entry("ff_zero_init_output", false),
            Map.entry("sandwich_coef", "null"), Map.entry("par_ratio", "null"), Map.entry("custom_layers", "null"),
            // wrapper options
            Map.entry("emb_dropout", 0.0), Map.entry("post_emb_norm", false), Map.entry("scaled_sinu_pos_emb", false),
            Map.entry("l2norm_embed", false), Map.entry("num_memory_tokens", 0.0), Map.entry("max_mem_len", 0.0),
            Map.entry("shift_mem_down", 0.0), Map.entry("emb_frac_gradient", 1.0));

    private static final Set<String> WRAPPER_OPTIONS = Set.of("num_tokens", "max_seq_len", "use_abs_pos_emb",
            "tie_embedding", "attn_layers", "emb_dim", "logits_dim", "attn_z_loss_weight");

    private ModelConfigs() {
    }

    /**
     * {@return Orca exactly as the seed configures it (x-transformers 1.20: DeepNorm, ALiBi on 4 of 8 heads, rotary
     * xPos, token shift, one KV head)}
     */
    public static TransformerConfig orca() {
        return new TransformerConfig(20000, 8192, false, false, new LayersConfig(true, 512, 6, 8, 64, 1, true, 4, false,
                32, 128, false, 0, true, 512, true, true, false, 1, 4, false, false, false, false));
    }

    /**
     * {@return a GPT-style pre-norm decoder: rotary, grouped-query attention (8 query heads on 2 KV heads), SwiGLU,
     * RMSNorm}
     */
    public static TransformerConfig gpt() {
        return new TransformerConfig(20000, 2048, false, false, new LayersConfig(true, 512, 6, 8, 64, 2, false, 8, false, 32,
                128, true, 0, false, 512, false, true, false, 0, 4, true, true, true, false));
    }

    /**
     * {@return a T5-style encoder–decoder: bucketed relative bias, RMSNorm, GEGLU, cross-attention (6 + 6 layers, D =
     * 512)}
     */
    public static XTransformerConfig t5() {
        LayersConfig enc = new LayersConfig(false, 512, 6, 8, 64, 8, false, 8, true, 32, 128, false, 0, false, 512, false,
                true, false, 0, 2, true, false, true, false);
        LayersConfig dec = new LayersConfig(true, 512, 6, 8, 64, 8, false, 8, true, 32, 128, false, 0, false, 512, false,
                true, false, 0, 2, true, false, true, true);
        return new XTransformerConfig(new TransformerConfig(20000, 512, false, false, enc),
                new TransformerConfig(20000, 512, false, false, dec), false);
    }

    /** {@return the preset names {@link #load} knows} */
    public static Set<String> presets() {
        return Set.of("orca", "gpt", "t5");
    }

    /**
     * A preset by name ({@code orca}, {@code gpt}, {@code t5}) or the configuration in a JSON file.
     *
     * @param presetOrPath one of {@link #presets()}, or the path of a JSON file {@link #parse} reads
     * @return the configuration, validated
     * @throws InvalidRequestException for a name that is neither, or an invalid configuration
     */
    public static ModelConfig load(String presetOrPath) {
        switch (presetOrPath) {
            case "orca" -> {
                return orca();
            }
            case "gpt" -> {
                return gpt();
            }
            case "t5" -> {
                return t5();
            }
            default -> {
                Path p = Path.of(presetOrPath);
                InvalidRequestException.check(Files.isRegularFile(p), "model",
                        "a preset (" + String.join(", ", presets()) + ") or a JSON file", presetOrPath);
                try {
                    return parse(Files.readString(p));
                } catch (IOException e) {
                    throw new UncheckedIOException("reading " + p, e);
                }
            }
        }
    }

    /**
     * Parses a configuration (a TransformerWrapper call, or an XTransformer call).
     *
     * @param json the keyword arguments of x-transformers' {@code TransformerWrapper} (with {@code attn_layers}) or
     *             {@code XTransformer} call, as a JSON object
     * @return a {@link TransformerConfig} or an {@link XTransformerConfig}, validated
     * @throws InvalidRequestException for text that is not a JSON object, or an unknown or invalid option
     */
    public static ModelConfig parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("model config", "JSON", e.getOriginalMessage());
        }
        InvalidRequestException.check(root != null && root.isObject(), "model config", "a JSON object", root);
        if (root.has("attn_layers")) {
            return wrapper((ObjectNode) root, null);
        }
        return xtransformer((ObjectNode) root);
    }

    private static TransformerConfig wrapper(ObjectNode o, LayersConfig layers) {
        Set<String> known = new LinkedHashSet<>(WRAPPER_OPTIONS);
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                unimplemented(k, o.get(k), "");
            }
        }
        if (layers == null) {
            JsonNode l = o.get("attn_layers");
            InvalidRequestException.check(l != null && l.isObject(), "attn_layers", "an object {\"kind\": ..., ...}", l);
            layers = layers((ObjectNode) l, "");
        }
        int numTokens = integer(o, "num_tokens", null, "");
        int dim = layers.dim();
        if (o.has("emb_dim")) {
            InvalidRequestException.check(integer(o, "emb_dim", dim, "") == dim, "emb_dim",
                    "dim = " + dim + " (a projected embedding is not implemented)", o.get("emb_dim"));
        }
        if (o.has("logits_dim")) {
            InvalidRequestException.check(integer(o, "logits_dim", numTokens, "") == numTokens, "logits_dim",
                    "num_tokens = " + numTokens + " (other widths are not implemented)", o.get("logits_dim"));
        }
        return new TransformerConfig(numTokens, integer(o, "max_seq_len", null, ""),
                bool(o, "use_abs_pos_emb", true, ""), bool(o, "tie_embedding", false, ""), layers);
    }

    private static LayersConfig layers(ObjectNode o, String prefix) {
        String kind = prefix.isEmpty() ? text(o, "kind") : null;
        boolean causal;
        if (prefix.isEmpty()) {
            InvalidRequestException.check("decoder".equals(kind) || "encoder".equals(kind), "attn_layers.kind",
                    "\"decoder\" or \"encoder\"", kind);
            causal = "decoder".equals(kind);
        } else {
            causal = prefix.equals("dec_");
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String full = it.next();
            if (prefix.isEmpty() && full.equals("kind")) {
                continue;
            }
            if (!full.startsWith(prefix)) {
                continue;
            }
            String k = full.substring(prefix.length());
            if (!LAYER_OPTIONS.contains(k) && !(prefix.length() > 0 && Set.of("num_tokens", "max_seq_len",
                    "use_abs_pos_emb").contains(k))) {
                unimplemented(k, o.get(full), prefix);
            }
        }
        int heads = integer(o, "heads", 8, prefix);
        boolean oneKv = bool(o, "attn_one_kv_head", false, prefix);
        int kvHeads = integer(o, "attn_kv_heads", oneKv ? 1 : heads, prefix);
        InvalidRequestException.check(!(oneKv && kvHeads != 1), prefix + "attn_kv_heads",
                "unset (or 1) with attn_one_kv_head", kvHeads);
        boolean deepnorm = bool(o, "deepnorm", false, prefix);
        boolean crossAttend = bool(o, "cross_attend", prefix.equals("dec_"), prefix);
        if (o.has(prefix + "attn_flash")) {
            bool(o, "attn_flash", false, prefix); // either value: the same function
        }
        return new LayersConfig(causal, integer(o, "dim", null, prefix), integer(o, "depth", null, prefix), heads,
                integer(o, "attn_dim_head", LayersConfig.DEFAULT_DIM_HEAD, prefix), kvHeads,
                bool(o, "alibi_pos_bias", false, prefix), integer(o, "alibi_num_heads", heads, prefix),
                bool(o, "rel_pos_bias", false, prefix), integer(o, "rel_pos_num_buckets", 32, prefix),
                integer(o, "rel_pos_max_distance", 128, prefix), bool(o, "rotary_pos_emb", false, prefix),
                integer(o, "rotary_emb_dim", 0, prefix), bool(o, "rotary_xpos", false, prefix),
                number(o, "rotary_xpos_scale_base", 512, prefix), deepnorm,
                // DeepNorm overrides pre_norm (x-transformers: post-norm whatever pre_norm says)
                !deepnorm && bool(o, "pre_norm", true, prefix), bool(o, "scale_residual", false, prefix),
                integer(o, "shift_tokens", 0, prefix), number(o, "ff_mult", 4, prefix), bool(o, "ff_glu", false, prefix),
                bool(o, "ff_swish", false, prefix), bool(o, "use_rmsnorm", false, prefix), crossAttend);
    }

    private static XTransformerConfig xtransformer(ObjectNode o) {
        Set<String> top = Set.of("dim", "tie_token_emb", "ignore_index", "pad_value", "deepnorm", "cross_attn_tokens_dropout");
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.startsWith("enc_") && !k.startsWith("dec_") && !top.contains(k)) {
                throw new InvalidRequestException(k, "an XTransformer option (dim, tie_token_emb, enc_*, dec_*)",
                        "an unknown option (x-transformers would silently drop it)");
            }
        }
        InvalidRequestException.check(o.has("dim"), "dim", "the model width of an XTransformer", "none");
        InvalidRequestException.check(integer(o, "ignore_index", -100, "") == -100, "ignore_index", "-100", o.get("ignore_index"));
        InvalidRequestException.check(!bool(o, "deepnorm", false, ""), "deepnorm",
                "false (XTransformer's deepnorm scaling is not implemented)", true);
        InvalidRequestException.check(number(o, "cross_attn_tokens_dropout", 0, "") == 0, "cross_attn_tokens_dropout",
                "0 (not implemented)", o.get("cross_attn_tokens_dropout"));
        int dim = integer(o, "dim", null, "");
        ObjectNode enc = o.deepCopy();
        enc.put("enc_dim", dim);
        ObjectNode dec = o.deepCopy();
        dec.put("dec_dim", dim);
        LayersConfig encLayers = layers(enc, "enc_");
        LayersConfig decLayers = layers(dec, "dec_");
        TransformerConfig e = new TransformerConfig(integer(o, "enc_num_tokens", null, ""),
                integer(o, "enc_max_seq_len", null, ""), bool(o, "enc_use_abs_pos_emb", true, ""), false, encLayers);
        TransformerConfig d = new TransformerConfig(integer(o, "dec_num_tokens", null, ""),
                integer(o, "dec_max_seq_len", null, ""), bool(o, "dec_use_abs_pos_emb", true, ""), false, decLayers);
        InvalidRequestException.check(!bool(o, "tie_token_emb", false, ""), "tie_token_emb",
                "false (a shared encoder/decoder embedding is not implemented)", true);
        return new XTransformerConfig(e, d, false);
    }

    private static void unimplemented(String key, JsonNode value, String prefix) {
        String name = prefix + key;
        if (!UNIMPLEMENTED.containsKey(key)) {
            throw new InvalidRequestException(name, "an option attn4j knows", "an unknown option (x-transformers 1.20 "
                    + "would silently ignore it)");
        }
        Object def = UNIMPLEMENTED.get(key);
        boolean isDefault = value == null || value.isNull()
                || (def instanceof Boolean b && value.isBoolean() && value.booleanValue() == b)
                || (def instanceof Double d && value.isNumber() && value.doubleValue() == d);
        InvalidRequestException.check(isDefault, name, (def.equals("null") ? "null" : def) + " (the option is not implemented by attn4j)",
                value);
    }

    private static JsonNode field(ObjectNode o, String key, String prefix) {
        return o.get(prefix + key);
    }

    private static int integer(ObjectNode o, String key, Integer fallback, String prefix) {
        JsonNode v = field(o, key, prefix);
        if (v == null || v.isNull()) {
            InvalidRequestException.check(fallback != null, prefix + key, "a value (required)", "none");
            return fallback;
        }
        InvalidRequestException.check(v.canConvertToInt() && v.isIntegralNumber(), prefix + key, "an integer", v);
        return v.intValue();
    }

    private static double number(ObjectNode o, String key, double fallback, String prefix) {
        JsonNode v = field(o, key, prefix);
        if (v == null || v.isNull()) {
            return fallback;
        }
        InvalidRequestException.check(v.isNumber(), prefix + key, "a number", v);
        return v.doubleValue();
    }

    private static boolean bool(ObjectNode o, String key, boolean fallback, String prefix) {
        JsonNode v = field(o, key, prefix);
        if (v == null || v.isNull()) {
            return fallback;
        }
        InvalidRequestException.check(v.isBoolean(), prefix + key, "true or false", v);
        return v.booleanValue();
    }

    private static String text(ObjectNode o, String key) {
        JsonNode v = o.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    /**
     * The configuration as the JSON of its constructor call (options at their defaults left out).
     *
     * @param config a configuration
     * @return a JSON object {@link #parse} reads back to an equal configuration
     */
    public static String toJson(ModelConfig config) {
        ObjectNode root = JSON.createObjectNode();
        switch (config) {
            case TransformerConfig t -> {
                root.put("num_tokens", t.numTokens());
                root.put("max_seq_len", t.maxSeqLen());
                root.put("use_abs_pos_emb", t.useAbsPosEmb());
                if (t.tieEmbedding()) {
                    root.put("tie_embedding", true);
                }
                ObjectNode l = root.putObject("attn_layers");
                l.put("kind", t.attnLayers().causal() ? "decoder" : "encoder");
                writeLayers(l, t.attnLayers(), "");
            }
            case XTransformerConfig x -> {
                root.put("dim", x.dim());
                if (x.tieTokenEmb()) {
                    root.put("tie_token_emb", true);
                }
                writeSide(root, x.encoder(), "enc_");
                writeSide(root, x.decoder(), "dec_");
            }
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeSide(ObjectNode root, TransformerConfig t, String p) {
        root.put(p + "num_tokens", t.numTokens());
        root.put(p + "max_seq_len", t.maxSeqLen());
        root.put(p + "use_abs_pos_emb", t.useAbsPosEmb());
        writeLayers(root, t.attnLayers(), p);
    }

    private static void writeLayers(ObjectNode o, LayersConfig l, String p) {
        if (p.isEmpty()) {
            o.put("dim", l.dim());
        }
        o.put(p + "depth", l.depth());
        o.put(p + "heads", l.heads());
        if (l.dimHead() != LayersConfig.DEFAULT_DIM_HEAD) o.put(p + "attn_dim_head", l.dimHead());
        if (l.kvHeads() == 1 && l.heads() > 1) {
            o.put(p + "attn_one_kv_head", true);
        } else if (l.kvHeads() != l.heads()) {
            o.put(p + "attn_kv_heads", l.kvHeads());
        }
        if (l.alibiPosBias()) {
            o.put(p + "alibi_pos_bias", true);
            if (l.alibiNumHeads() != l.heads()) o.put(p + "alibi_num_heads", l.alibiNumHeads());
        }
        if (l.relPosBias()) {
            o.put(p + "rel_pos_bias", true);
            if (l.relPosNumBuckets() != 32) o.put(p + "rel_pos_num_buckets", l.relPosNumBuckets());
            if (l.relPosMaxDistance() != 128) o.put(p + "rel_pos_max_distance", l.relPosMaxDistance());
        }
        if (l.rotaryPosEmb()) o.put(p + "rotary_pos_emb", true);
        if (l.rotaryEmbDim() != 0) o.put(p + "rotary_emb_dim", l.rotaryEmbDim());
        if (l.rotaryXpos()) o.put(p + "rotary_xpos", true);
        if (l.rotaryXposScaleBase() != 512) o.put(p + "rotary_xpos_scale_base", l.rotaryXposScaleBase());
        if (l.deepnorm()) o.put(p + "deepnorm", true);
        if (!l.deepnorm() && !l.preNorm()) o.put(p + "pre_norm", false);
        if (l.scaleResidual()) o.put(p + "scale_residual", true);
        if (l.shiftTokens() != 0) o.put(p + "shift_tokens", l.shiftTokens());
        if (l.ffMult() != 4) o.put(p + "ff_mult", l.ffMult());
        if (l.ffGlu()) o.put(p + "ff_glu", true);
        if (l.ffSwish()) o.put(p + "ff_swish", true);
        if (l.useRmsnorm()) o.put(p + "use_rmsnorm", true);
        if (l.crossAttend() && p.isEmpty()) o.put(p + "cross_attend", true);
    }
}
