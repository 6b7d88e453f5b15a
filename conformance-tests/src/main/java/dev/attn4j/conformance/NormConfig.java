package dev.attn4j.conformance;

import java.util.List;

import dev.attn4j.ports.Backend;

import dev.attn4j.oracle.PassRule;

import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.tensor.DType;

import java.util.Locale;
import java.util.Random;

/**
 * One normalisation configuration of the suite. The input is {@code [outer, inner, C]} (rank 3) when
 * {@code outer > 1}, else {@code [inner, C]}; γ and β are uploaded as F32 whatever the storage type.
 * Data is regenerated from {@code dataSeed} with {@link Random}, rounded to the storage type.
 *
 * <pre>{@code
 * NormConfig.Data data = config.data();
 * }</pre>
 *
 * @param index    position in the suite (part of the id)
 * @param kind     LayerNorm or RMSNorm
 * @param outer    leading dimension (1 = rank-2 input)
 * @param inner    second dimension
 * @param cols     C
 * @param beta     whether LayerNorm has a bias
 * @param residual whether the fused residual form {@code h = α·residual + input} is used
 * @param alpha    α (1 for the plain fused form, > 1 for DeepNorm)
 * @param dSum     whether backward receives an extra gradient on {@code h}
 * @param eps      epsilon
 * @param dtype    storage type of input, residual, y and their gradients
 * @param dataSeed seed of the inputs
 */
public record NormConfig(int index, NormKind kind, int outer, int inner, int cols, boolean beta, boolean residual,
                         double alpha, boolean dSum, double eps, DType dtype, long dataSeed) implements CaseConfig {

    /**
     * The host data: the oracle problem and the upstream gradients ({@code dSum} may be {@code null}).
     *
     * @param problem the problem to compute
     * @param dy gradient of the loss w.r.t. the output
     * @param dSum whether backward receives an extra gradient on {@code h}
     */
    public record Data(NormProblem problem, double[] dy, double[] dSum) {
    }

    /** Checks the combination. */
    public NormConfig {
        if (outer < 1 || inner < 1 || cols < 1) {
            throw new IllegalArgumentException("sizes must be >= 1");
        }
        if (beta && kind != NormKind.LAYER_NORM) {
            throw new IllegalArgumentException("beta is for LayerNorm only");
        }
        if (dSum && !residual) {
            throw new IllegalArgumentException("dSum needs a residual");
        }
    }

    /** {@return number of normalised rows} */
    public int rows() {
        return outer * inner;
    }

    /** {@return the input's dimensions} */
    public int[] inputDims() {
        return outer > 1 ? new int[] {outer, inner, cols} : new int[] {inner, cols};
    }

    /** {@return whether the configuration is F32 (the core every backend is expected to run)} */
    public boolean core() {
        return dtype == DType.F32;
    }

    /** Forward, then backward. */
    @Override
    public List<Op> ops() {
        return List.of(Op.NORM_FORWARD, Op.NORM_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return NormRunner.run(this, checked(op) == Op.NORM_BACKWARD, backend);
    }

    /** {@return a stable, readable id, e.g. {@code n0007 layernorm+beta 4x100 deepnorm(1.68) f32}} */
    @Override
    public String id() {
        StringBuilder s = new StringBuilder(String.format("n%04d %s", index,
                kind == NormKind.LAYER_NORM ? (beta ? "layernorm+beta" : "layernorm") : "rmsnorm"));
        s.append(' ');
        if (outer > 1) s.append(outer).append('x');
        s.append(inner).append('x').append(cols);
        if (residual) s.append(alpha == 1.0 ? " residual" : " deepnorm(" + alpha + ")");
        if (dSum) s.append(" +dsum");
        s.append(" eps(").append(eps).append(") ").append(dtype.name().toLowerCase(Locale.ROOT));
        return s.toString();
    }

    /**
     * Regenerates the data from {@code dataSeed}.
     *
     * @return the case's data
     */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        int n = rows() * cols;
        // A per-row offset and spread, so mean subtraction and the variance matter.
        double[] input = new double[n];
        for (int row = 0; row < rows(); row++) {
            double shift = 2 * r.nextGaussian();
            double spread = 0.5 + 2 * r.nextDouble();
            for (int c = 0; c < cols; c++) {
                input[row * cols + c] = store.round(shift + spread * r.nextGaussian());
            }
        }
        double[] res = residual ? values(r, n, 1, store) : null;
        double[] gamma = new double[cols];
        for (int c = 0; c < cols; c++) {
            gamma[c] = (float) (1 + 0.5 * r.nextGaussian());
        }
        double[] b = beta ? values(r, cols, 0.5, Precision.FP32) : null;
        double[] dy = values(r, n, 1, store);
        double[] ds = dSum ? values(r, n, 1, store) : null;
        return new Data(new NormProblem(kind, rows(), cols, input, res, alpha, gamma, b, eps), dy, ds);
    }

    private static double[] values(Random r, int n, double sigma, Precision store) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = store.round(sigma * r.nextGaussian());
        }
        return x;
    }
}
