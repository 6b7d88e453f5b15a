package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Objects;

/**
 * One case of the conformance suite: an op on one seeded configuration. Ids are stable for a given suite seed,
 * so a failing case can be named in a bug report and replayed.
 *
 * <pre>{@code
 * for (ConformanceCase c : ConformanceSuite.standard().cases()) System.out.println(c.op() + " " + c.id());
 * }</pre>
 *
 * @param op     the op checked
 * @param config the configuration it runs on; {@code op} is one of its {@link CaseConfig#ops()}
 */
public record ConformanceCase(Op op, CaseConfig config) {

    /** Checks that the configuration has the op. */
    public ConformanceCase {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(config, "config");
        if (!config.ops().contains(op)) {
            throw new IllegalArgumentException("op: expected one of " + config.ops() + " for " + config.id() + ", got " + op);
        }
    }

    /** {@return the configuration's id} */
    public String id() {
        return config.id();
    }

    /** {@return the storage type the case's tensors are uploaded in} */
    public DType dtype() {
        return config.dtype();
    }

    /** {@return whether the op is a backward (its id ends in {@code _backward})} */
    public boolean backward() {
        return op.id().endsWith("_backward");
    }

    /**
     * Runs the case on {@code backend}: {@link CaseConfig#run}.
     *
     * @param backend the backend
     * @return one check per output
     */
    public List<PassRule.Check> execute(Backend backend) {
        return config.run(op, backend);
    }
}
