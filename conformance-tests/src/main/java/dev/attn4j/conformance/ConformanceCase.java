package dev.attn4j.conformance;

import dev.attn4j.ports.tensor.DType;

/**
 * One case of the conformance suite: an op on fixed, seeded inputs. Ids are stable for a given suite seed,
 * so a failing case can be named in a bug report and replayed.
 *
 * <pre>{@code
 * for (ConformanceCase c : ConformanceSuite.standard().cases()) System.out.println(c.op() + " " + c.id());
 * }</pre>
 */
public sealed interface ConformanceCase permits AttentionCase, NormCase {

    /** Op name of an attention forward case. */
    String ATTENTION_FORWARD = "attention_forward";
    /** Op name of an attention backward case. */
    String ATTENTION_BACKWARD = "attention_backward";
    /** Op name of a normalisation forward case. */
    String NORM_FORWARD = "norm_forward";
    /** Op name of a normalisation backward case. */
    String NORM_BACKWARD = "norm_backward";

    /** One of {@link #ATTENTION_FORWARD}, {@link #ATTENTION_BACKWARD}, {@link #NORM_FORWARD}, {@link #NORM_BACKWARD}. */
    String op();

    /** A stable, readable id: the configuration's parameters. */
    String id();

    /** The storage type the case's tensors are uploaded in. */
    DType dtype();
}
