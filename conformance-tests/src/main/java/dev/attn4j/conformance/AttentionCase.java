package dev.attn4j.conformance;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.tensor.DType;

import java.util.List;

/**
 * An attention forward or backward case on one {@link AttentionConfig}. A configuration yields both:
 * the backward case runs the backend's own forward first and feeds its {@code o, lse} to backward.
 * A case in the {@link AttentionLayout#BHSD BHSD} layout uploads the same data transposed to
 * {@code [B, H, S, D]} and transposes the outputs back, so it is judged against the same oracle; its id ends
 * in {@code bhsd}.
 *
 * <pre>{@code
 * AttentionCase c = new AttentionCase(config, true);
 * c.op();   // "attention_backward"
 * }</pre>
 *
 * @param config   the sizes, options and data seed
 * @param backward whether the case checks backward ({@code dq, dk, dv}, table gradient) rather than forward
 * @param layout   the layout the tensors are given to the backend in
 */
public record AttentionCase(AttentionConfig config, boolean backward, AttentionLayout layout) implements ConformanceCase {

    /** Requires a layout. */
    public AttentionCase {
        java.util.Objects.requireNonNull(layout, "layout");
    }

    /**
     * A case in the default {@link AttentionLayout#BSHD} layout.
     *
     * @param config   the sizes, options and data seed
     * @param backward whether the case checks backward
     */
    public AttentionCase(AttentionConfig config, boolean backward) {
        this(config, backward, AttentionLayout.BSHD);
    }

    @Override
    public String op() {
        return backward ? ATTENTION_BACKWARD : ATTENTION_FORWARD;
    }

    @Override
    public String id() {
        return layout == AttentionLayout.BSHD ? config.id() : config.id() + " bhsd";
    }

    @Override
    public DType dtype() {
        return config.dtype();
    }

    @Override
    public List<PassRule.Check> execute(Backend backend) {
        return AttentionRunner.run(this, backend);
    }
}
