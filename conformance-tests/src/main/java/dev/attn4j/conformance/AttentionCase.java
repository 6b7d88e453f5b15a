package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;

import java.util.List;

/**
 * An attention forward or backward case on one {@link AttentionConfig}. A configuration yields both:
 * the backward case runs the backend's own forward first and feeds its {@code o, lse} to backward.
 *
 * <pre>{@code
 * AttentionCase c = new AttentionCase(config, true);
 * c.op();   // "attention_backward"
 * }</pre>
 *
 * @param config   the sizes, options and data seed
 * @param backward whether the case checks backward ({@code dq, dk, dv}, table gradient) rather than forward
 */
public record AttentionCase(AttentionConfig config, boolean backward) implements ConformanceCase {

    @Override
    public String op() {
        return backward ? ATTENTION_BACKWARD : ATTENTION_FORWARD;
    }

    @Override
    public String id() {
        return config.id();
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
