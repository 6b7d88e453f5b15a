package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One AdamW step of the suite over a parameter group of {@code shape} (F32, as AdamW's state always is): the first
 * step from zero moments or a later one from non-zero moments, with and without weight decay, and with global-norm
 * clipping that bites ({@code maxNorm} below the norm) or does not. The squared norm given to the clip is the
 * group's own plus other groups' share, as a trainer accumulates it with {@code sumOfSquares}.
 *
 * <pre>{@code
 * AdamWConfig c = AdamWConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index       position among the AdamW configurations (part of the id)
 * @param shape       the group's shape
 * @param step        the step number {@code t}
 * @param lr          learning rate
 * @param beta1       β₁
 * @param beta2       β₂
 * @param eps         ε
 * @param weightDecay decoupled weight decay
 * @param maxNorm     the clip's largest norm, 0 without clipping
 * @param dataSeed    seed of the inputs
 */
public record AdamWConfig(int index, Shape shape, long step, float lr, float beta1, float beta2, float eps,
                          float weightDecay, float maxNorm, long dataSeed) implements CaseConfig {

    /**
     * Host data.
     *
     * @param params       the parameters
     * @param grads        the gradients
     * @param expAvg       {@code m} before the step
     * @param expAvgSq     {@code v} before the step
     * @param sumOfSquares the squared global norm the clip reads (a float), 0 without clipping
     */
    public record Data(double[] params, double[] grads, double[] expAvg, double[] expAvgSq, double sumOfSquares) {
    }

    /**
     * One element, odd sizes, steps 1 to 1000, β₁ = 0, with and without weight decay, clipping that bites and that
     * does not.
     *
     * @param seed the suite's seed (the configurations' data seeds are drawn from it)
     * @return the configurations
     */
    public static List<AdamWConfig> standard(long seed) {
        Random r = new Random(seed ^ 0xADA3L);
        Object[][] rows = {
                // shape, step, lr, beta1, beta2, eps, wd, maxNorm
                {Shape.of(1), 1L, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, 0f},
                {Shape.of(7), 1L, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 0f},
                {Shape.of(3, 17), 3L, 5e-2f, 0.8f, 0.99f, 1e-6f, 0.1f, 1f},
                {Shape.of(1031), 10L, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1000f},
                {Shape.of(64, 65), 1000L, 3e-2f, 0.9f, 0.95f, 1e-8f, 0.05f, 0f},
                {Shape.of(4099), 2L, 0.2f, 0f, 0.999f, 1e-5f, 0f, 0.5f},
        };
        List<AdamWConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Object[] c = rows[i];
            out.add(new AdamWConfig(i, (Shape) c[0], (long) c[1], (float) c[2], (float) c[3], (float) c[4], (float) c[5],
                    (float) c[6], (float) c[7], r.nextLong()));
        }
        return out;
    }

    /** {@return always F32} */
    @Override
    public DType dtype() {
        return DType.F32;
    }

    /** {@return the ops: the one op} */
    @Override
    public List<Op> ops() {
        return List.of(Op.ADAMW);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        checked(op);
        return OptimizerRunner.adamW(this, backend);
    }

    /** {@return A stable, readable id, e.g. {@code o002 3x17 step3 lr(0.05) betas(0.8,0.99) wd(0.1) clip(1.0)}} */
    @Override
    public String id() {
        return String.format("o%03d %s step%d lr(%s) betas(%s,%s) eps(%s) wd(%s)%s f32", index, Draw.dims(shape), step, lr,
                beta1, beta2, eps, weightDecay, maxNorm > 0 ? " clip(" + maxNorm + ")" : "");
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision f32 = Precision.FP32;
        int n = Draw.count(shape);
        double[] params = Draw.gaussian(r, n, 1, f32);
        double[] grads = Draw.gaussian(r, n, 1, f32);
        double[] m = new double[n];
        double[] v = new double[n];
        if (step > 1) {
            // the moments of earlier steps: m of the gradients' scale, v positive
            m = Draw.gaussian(r, n, 0.3, f32);
            for (int i = 0; i < n; i++) {
                v[i] = f32.round(0.05 + Math.abs(r.nextGaussian()) * 0.5);
            }
        }
        double ss = 0;
        if (maxNorm > 0) {
            for (double g : grads) {
                ss += g * g;
            }
            ss = f32.round(ss + n * r.nextDouble());   // other groups' share of the global norm
        }
        return new Data(params, grads, m, v, ss);
    }
}
