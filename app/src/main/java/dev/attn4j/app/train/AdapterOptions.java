package dev.attn4j.app.train;

import dev.attn4j.domain.adapters.Adapter;
import dev.attn4j.domain.adapters.AdapterConfig;
import dev.attn4j.domain.adapters.LoraConfig;
import dev.attn4j.domain.adapters.LoraInit;
import dev.attn4j.domain.adapters.TargetModules;
import dev.attn4j.domain.adapters.VeraConfig;
import dev.attn4j.domain.training.GroupOptions;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code train} command's parameter-efficient fine-tuning options (PEFT's names where it has them): which adapter,
 * its rank, scaling, initialisation and target modules, and LoRA+'s learning-rate ratio.
 */
final class AdapterOptions {
    /** The adapter kinds. */
    enum Kind {
        /** LoRA (with --rslora, --init pissa|pissa_niter_N, --lora-plus-ratio). */
        LORA,
        /** VeRA. */
        VERA
    }

    @Option(names = "--adapter", paramLabel = "lora|vera", converter = KindConverter.class,
            description = "Train an adapter on a frozen base instead of the whole model; the adapter is saved in PEFT's "
                    + "format to DIR/adapter.")
    Kind kind;

    @Option(names = "--lora-r", defaultValue = "8", paramLabel = "R", description = "Adapter rank (LoRA and VeRA). "
            + "Default: ${DEFAULT-VALUE}.")
    int r;

    @Option(names = "--lora-alpha", defaultValue = "8", paramLabel = "ALPHA",
            description = "LoRA scaling numerator: alpha/r (alpha/sqrt(r) with --rslora). Default: ${DEFAULT-VALUE}.")
    double alpha;

    @Option(names = "--rslora", description = "Rank-stabilised LoRA: scale by alpha/sqrt(r).")
    boolean rslora;

    @Option(names = "--lora-dropout", defaultValue = "0", paramLabel = "P",
            description = "Dropout on the adapter's input (LoRA and VeRA). Default: ${DEFAULT-VALUE}.")
    double dropout;

    @Option(names = "--lora-plus-ratio", defaultValue = "1", paramLabel = "RATIO",
            description = "LoRA+: lora_B learns at lr x RATIO (PEFT loraplus_lr_ratio). Default: ${DEFAULT-VALUE} (off).")
    double loraPlusRatio;

    @Option(names = "--init", defaultValue = "true", paramLabel = "true|gaussian|pissa|pissa_niter_N",
            description = "LoRA initialisation, as PEFT's init_lora_weights (true: A kaiming-uniform, B zeros). "
                    + "Default: ${DEFAULT-VALUE}.")
    String init;

    @Option(names = "--target-modules", defaultValue = "to_q,to_v", paramLabel = "NAMES|all-linear|re:REGEX", split = ",",
            description = "Modules to adapt, as PEFT matches target_modules: names or name suffixes, all-linear, or a "
                    + "regex (re:...) matching the whole module path. Default: ${DEFAULT-VALUE}.")
    List<String> targets;

    @Option(names = "--vera-projection-key", defaultValue = "0", paramLabel = "KEY",
            description = "VeRA's projection_prng_key. Default: ${DEFAULT-VALUE}.")
    long projectionKey;

    /** {@return whether an adapter is trained} */
    boolean enabled() {
        return kind != null;
    }

    /** {@return the PEFT target modules} */
    TargetModules targetModules() {
        if (targets.size() == 1 && targets.getFirst().equals(TargetModules.ALL_LINEAR)) {
            return TargetModules.allLinear();
        }
        if (targets.size() == 1 && targets.getFirst().startsWith("re:")) {
            return TargetModules.regex(targets.getFirst().substring(3));
        }
        return TargetModules.names(targets.toArray(String[]::new));
    }

    /** {@return the adapter's configuration} */
    AdapterConfig config(String baseModel) {
        return switch (kind) {
            case LORA -> LoraConfig.of(r, alpha, targetModules()).withRslora(rslora).withInit(LoraInit.parse(
                    init.equals("true") || init.equals("false") ? (Object) Boolean.valueOf(init) : init))
                    .withDropout(dropout).withBaseModel(baseModel);
            case VERA -> VeraConfig.of(r, targetModules()).withProjectionKey(projectionKey).withDropout(dropout)
                    .withBaseModel(baseModel);
        };
    }

    /**
     * The AdamW settings of the adapter's groups: LoRA+'s lr scales, and the weight decay of matrices (λ vectors of
     * VeRA, like other scales, are not decayed).
     */
    Map<String, GroupOptions> groups(Adapter adapter, double weightDecay) {
        Map<String, GroupOptions> out = new LinkedHashMap<>();
        adapter.lrScales(loraPlusRatio).forEach((group, scale) -> out.put(group,
                new GroupOptions(scale, group.startsWith("lora_") ? weightDecay : 0.0)));
        return out;
    }

    /** Parses {@code lora|vera} case-insensitively. */
    static final class KindConverter implements picocli.CommandLine.ITypeConverter<Kind> {
        @Override
        public Kind convert(String value) {
            return Kind.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        }
    }
}
