package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;

import java.util.List;

/**
 * A rotary case on one {@link RotaryConfig}: {@code rotary} applies the tables to {@code x};
 * {@code rotary_backward} applies the inverse to an upstream gradient, which must equal the oracle's inverse
 * (the adjoint of forward, so it is the gradient with respect to {@code x}).
 *
 * <pre>{@code
 * RotaryCase c = new RotaryCase(config, true);
 * c.op();   // "rotary_backward"
 * }</pre>
 *
 * @param config   sizes, layout, xPos and data seed
 * @param backward whether the case checks the inverse on {@code dy} rather than forward on {@code x}
 */
public record RotaryCase(RotaryConfig config, boolean backward) implements ConformanceCase {

    @Override
    public String op() {
        return backward ? ROTARY_BACKWARD : ROTARY;
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
        return RotaryRunner.run(this, backend);
    }
}
