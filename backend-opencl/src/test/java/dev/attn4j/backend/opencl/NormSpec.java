package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.NormProblem;
import dev.attn4j.ports.norm.NormKind;

/** A normalisation test case: rows × cols, LayerNorm or RMSNorm, optional beta and residual; {@link #problem} for the oracle. */
record NormSpec(boolean layerNorm, int rows, int cols, double eps, double alpha, boolean residual, boolean beta) {

    NormKind kind() {
        return layerNorm ? NormKind.LAYER_NORM : NormKind.RMS_NORM;
    }

    /** The case with these inputs ({@code res}, {@code b} null when absent), as the oracle takes it. */
    NormProblem problem(double[] x, double[] res, double[] gamma, double[] b) {
        return new NormProblem(kind(), rows, cols, x, res, alpha, gamma, b, eps);
    }
}
