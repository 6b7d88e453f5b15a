package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One activation of the suite, plain ({@code y = f(x)}) or as a gated linear unit ({@code y = a ⊙ f(g)} over the
 * two halves of {@code x [..., 2F]}, uploaded as it is or, for the split form, as two tensors {@code [..., F]}). Inputs spread over {@code ±3σ = ±7.5} so GELU's and SiLU's tails count, and
 * include exact zeros (ReLU's derivative is 0 there, as PyTorch's).
 *
 * <pre>{@code
 * for (ActivationConfig c : ActivationConfig.standard(ConformanceSuite.SEED)) System.out.println(c.id());
 * }</pre>
 *
 * @param index    position among the activation configurations (part of the id)
 * @param function the activation (the gate's, for a GLU)
 * @param glu      whether the configuration is a GLU
 * @param split    whether the GLU runs in its split form ({@link dev.attn4j.ports.activation.GluRequest#split})
 * @param shape    {@code x}'s shape (last dimension even for a GLU; the split form uploads its halves as two
 *                 tensors of the output's shape)
 * @param dtype    storage type
 * @param dataSeed seed of the inputs
 */
public record ActivationConfig(int index, Activation function, boolean glu, boolean split, Shape shape, DType dtype,
                               long dataSeed)
        implements CaseConfig {

    /**
     * Host data.
     *
     * @param x  the input
     * @param dy the upstream gradient, shaped as the output
     */
    public record Data(double[] x, double[] dy) {
    }

    /** Checks a GLU's even last dimension. */
    public ActivationConfig {
        if (glu && shape.dim(-1) % 2 != 0) {
            throw new IllegalArgumentException("a GLU's input needs an even last dimension, got " + shape);
        }
        if (split && !glu) {
            throw new IllegalArgumentException("only a GLU has a split form");
        }
    }

    /**
     * Each function plain and as a GLU on two shapes each (one element, odd widths, rank 1 to 3) in F32, then four
     * configurations in BF16 and F16, then each function as a split GLU in F32 and two split GLUs in BF16 and F16
     * (appended, so the earlier ids stay as they were).
     *
     * @param seed the suite's seed (the configurations' data seeds are drawn from it)
     * @return the configurations
     */
    public static List<ActivationConfig> standard(long seed) {
        Random r = new Random(seed ^ 0xAC71_A7E5L);
        Shape[] plain = {Shape.of(1), Shape.of(3, 17), Shape.of(2, 5, 33), Shape.of(129)};
        Shape[] gated = {Shape.of(1, 2), Shape.of(3, 34), Shape.of(2, 5, 66), Shape.of(7, 128)};
        List<ActivationConfig> out = new ArrayList<>();
        int index = 0;
        for (Activation f : Activation.values()) {
            for (int s = 0; s < 2; s++) {
                int pick = (f.ordinal() + 2 * s) % plain.length;
                out.add(new ActivationConfig(index++, f, false, false, plain[pick], DType.F32, r.nextLong()));
                out.add(new ActivationConfig(index++, f, true, false, gated[pick], DType.F32, r.nextLong()));
            }
        }
        out.add(new ActivationConfig(index++, Activation.GELU, false, false, Shape.of(4, 31), DType.BF16, r.nextLong()));
        out.add(new ActivationConfig(index++, Activation.SILU, true, false, Shape.of(3, 46), DType.F16, r.nextLong()));
        out.add(new ActivationConfig(index++, Activation.GELU_TANH, false, false, Shape.of(5, 13), DType.F16, r.nextLong()));
        out.add(new ActivationConfig(index++, Activation.GELU, true, false, Shape.of(2, 30), DType.BF16, r.nextLong()));
        Shape[] split = {Shape.of(1, 2), Shape.of(5, 94), Shape.of(2, 3, 38), Shape.of(67, 34)};
        for (Activation f : Activation.values()) {
            out.add(new ActivationConfig(index++, f, true, true, split[f.ordinal() % split.length], DType.F32, r.nextLong()));
        }
        out.add(new ActivationConfig(index++, Activation.SILU, true, true, Shape.of(4, 46), DType.BF16, r.nextLong()));
        out.add(new ActivationConfig(index, Activation.GELU, true, true, Shape.of(3, 30), DType.F16, r.nextLong()));
        return out;
    }

    /** {@return rows of the GLU view {@code [rows, 2F]}} */
    public int rows() {
        return Draw.count(shape) / shape.dim(-1);
    }

    /** {@return {@code F} of a GLU} */
    public int half() {
        return shape.dim(-1) / 2;
    }

    /** {@return the output's shape} */
    public Shape outputShape() {
        if (!glu) {
            return shape;
        }
        int[] d = shape.dims();
        d[d.length - 1] /= 2;
        return Shape.of(d);
    }

    /** {@return the ops: forward, then backward} */
    @Override
    public List<Op> ops() {
        return glu ? List.of(Op.GLU_FORWARD, Op.GLU_BACKWARD) : List.of(Op.ACTIVATION_FORWARD, Op.ACTIVATION_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        Op checked = checked(op);
        return ActivationRunner.run(this, checked == Op.GLU_BACKWARD || checked == Op.ACTIVATION_BACKWARD, backend);
    }

    /** {@return A stable, readable id, e.g. {@code f004 silu glu 3x34 f32}} */
    @Override
    public String id() {
        return String.format("f%03d %s%s %s %s", index, function.name().toLowerCase(java.util.Locale.ROOT),
                split ? " glu split" : glu ? " glu" : "", Draw.dims(shape), Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        double[] x = Draw.gaussian(r, Draw.count(shape), 2.5, store);
        for (int i = 0; i < x.length; i += 11) {
            x[i] = 0;
        }
        double[] dy = Draw.gaussian(r, Draw.count(outputShape()), 1, store);
        return new Data(x, dy);
    }
}
