/**
 * The float64 oracle written straight from the design (docs/design.md §4–5, §9 and the request records' Javadoc), naive
 * and sharing no code with any backend, with its reduced-precision twin ({@link dev.attn4j.oracle.Precision}: the
 * "naive computation in the tested dtype" of the pass rule), and the pass rule itself ({@link
 * dev.attn4j.oracle.PassRule}).
 *
 * <pre>{@code
 * NormOutputs golden = NormOracle.forward(problem, Precision.FP64);
 * NormOutputs ref = NormOracle.forward(problem, Precision.of(DType.BF16));
 * }</pre>
 */
package dev.attn4j.oracle;
