package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;

import java.util.List;

/**
 * One seeded configuration of an op family: its sizes, options and the seed its data is drawn from, and the ops
 * it is checked on (a forward and its backward, or a few related ops on the same data). Each op of a configuration
 * is one {@link ConformanceCase}. Adding an op to the suite means one record implementing this (with a
 * {@code standard(seed)} list of configurations, registered in {@link ConformanceSuite}) and one runner it
 * delegates {@link #run} to.
 *
 * <pre>{@code
 * for (CaseConfig c : LinearConfig.standard(ConformanceSuite.SEED)) {
 *     for (Op op : c.ops()) System.out.println(op + " " + c.id());
 * }
 * }</pre>
 */
public interface CaseConfig {

    /** {@return a stable, readable id: the configuration's parameters (unique within its ops)} */
    String id();

    /** {@return the storage type the configuration's data is uploaded in} */
    DType dtype();

    /** {@return the ops this configuration is checked on, forward first} */
    List<Op> ops();

    /**
     * Runs {@code op} on {@code backend} and judges every output with {@link PassRule}: one check per output tensor.
     * Exceptions from the backend propagate ({@link ConformanceSuite#run} turns them into outcomes); every device
     * tensor the run made is closed before returning or throwing.
     *
     * @param op      one of {@link #ops()}
     * @param backend the backend
     * @return one check per output
     * @throws IllegalArgumentException when {@code op} is not one of {@link #ops()}
     */
    List<PassRule.Check> run(Op op, Backend backend);

    /**
     * {@code op}, checked to be one of {@link #ops()}.
     *
     * @param op the op asked for
     * @return {@code op}
     * @throws IllegalArgumentException otherwise
     */
    default Op checked(Op op) {
        if (!ops().contains(op)) {
            throw new IllegalArgumentException("op: expected one of " + ops() + " for " + id() + ", got " + op);
        }
        return op;
    }
}
