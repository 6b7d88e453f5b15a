package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.tensor.DType;

import java.util.List;

/**
 * An attention configuration run with its tensors in another layout: the same data transposed to {@code [B, H, S, D]}
 * for {@link AttentionLayout#BHSD}, the outputs transposed back, judged against the same oracle. Its id is the
 * configuration's with the layout appended ({@code ... bhsd}).
 *
 * <pre>{@code
 * CaseConfig bhsd = new AttentionLayoutConfig(config, AttentionLayout.BHSD);
 * }</pre>
 *
 * @param config the attention configuration
 * @param layout the layout its tensors are handed to the backend in
 */
public record AttentionLayoutConfig(AttentionConfig config, AttentionLayout layout) implements CaseConfig {

    /** Requires both. */
    public AttentionLayoutConfig {
        java.util.Objects.requireNonNull(config, "config");
        java.util.Objects.requireNonNull(layout, "layout");
    }

    @Override
    public String id() {
        return config.id() + " " + layout.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public DType dtype() {
        return config.dtype();
    }

    @Override
    public List<Op> ops() {
        return config.ops();
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return AttentionRunner.run(config, checked(op) == Op.ATTENTION_BACKWARD, layout, backend);
    }
}
