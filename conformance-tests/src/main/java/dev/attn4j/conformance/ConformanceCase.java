package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;

import java.util.List;

/**
 * One case of the conformance suite: an op on fixed, seeded inputs. Ids are stable for a given suite seed,
 * so a failing case can be named in a bug report and replayed.
 *
 * <pre>{@code
 * for (ConformanceCase c : ConformanceSuite.standard().cases()) System.out.println(c.op() + " " + c.id());
 * }</pre>
 */
public interface ConformanceCase {

    /** Op name of an attention forward case. */
    String ATTENTION_FORWARD = "attention_forward";
    /** Op name of an attention backward case. */
    String ATTENTION_BACKWARD = "attention_backward";
    /** Op name of a normalisation forward case. */
    String NORM_FORWARD = "norm_forward";
    /** Op name of a normalisation backward case. */
    String NORM_BACKWARD = "norm_backward";
    /** Op name of a rotary case (tables applied to {@code x}). */
    String ROTARY = "rotary";
    /** Op name of a rotary backward case (the inverse applied to an upstream gradient). */
    String ROTARY_BACKWARD = "rotary_backward";

    /**
     * One of {@link #ATTENTION_FORWARD}, {@link #ATTENTION_BACKWARD}, {@link #NORM_FORWARD}, {@link #NORM_BACKWARD},
     * {@link #ROTARY}, {@link #ROTARY_BACKWARD}.
     */
    String op();

    /** A stable, readable id: the configuration's parameters. */
    String id();

    /** The storage type the case's tensors are uploaded in. */
    DType dtype();

    /**
     * Runs the case on {@code backend} and judges every output with {@link PassRule}: one check per output
     * tensor. Exceptions from the backend propagate ({@link ConformanceSuite#run} turns them into outcomes);
     * every device tensor the case made is closed before returning or throwing.
     */
    List<PassRule.Check> execute(Backend backend);
}
