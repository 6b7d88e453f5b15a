package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;

import java.util.List;

/**
 * A normalisation forward or backward case on one {@link NormConfig}.
 *
 * <pre>{@code
 * NormCase c = new NormCase(config, false);
 * c.op();   // "norm_forward"
 * }</pre>
 *
 * @param config   the sizes, kind, residual form and data seed
 * @param backward whether the case checks backward rather than forward
 */
public record NormCase(NormConfig config, boolean backward) implements ConformanceCase {

    @Override
    public String op() {
        return backward ? NORM_BACKWARD : NORM_FORWARD;
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
        return NormRunner.run(this, backend);
    }
}
