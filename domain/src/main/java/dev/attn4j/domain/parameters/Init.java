package dev.attn4j.domain.parameters;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * How a fresh parameter is filled, on the host, from a seeded generator (one per parameter, derived from the
 * model seed and the parameter's name, so adding a parameter does not change the others' values). The
 * formulas are PyTorch's, so a fresh model has the reference implementation's statistics.
 *
 * <pre>{@code
 * Init.uniformFanIn(512)            // nn.Linear's default: U(−1/√fan_in, 1/√fan_in)
 * Init.xavierNormal(0.38, 512, 512) // DeepNorm's β-scaled xavier_normal_
 * }</pre>
 */
@FunctionalInterface
public interface Init {

    /**
     * Fills {@code values} (the parameter, row-major) from {@code random}.
     *
     * @param values the parameter's elements, row-major; every one is overwritten
     * @param random the parameter's own generator (derived from the store's seed and the parameter's name)
     */
    void fill(float[] values, SplittableRandom random);

    /**
     * Every element {@code value}.
     *
     * @param value the value of every element
     * @return the initialiser
     */
    static Init constant(float value) {
        return (values, random) -> Arrays.fill(values, value);
    }

    /** {@return an initialiser that fills with zeros} */
    static Init zeros() {
        return constant(0f);
    }

    /** {@return an initialiser that fills with ones} */
    static Init ones() {
        return constant(1f);
    }

    /**
     * {@code U(−bound, bound)}.
     *
     * @param bound the half-width of the interval, positive
     * @return the initialiser
     */
    static Init uniform(double bound) {
        return (values, random) -> {
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
            }
        };
    }

    /**
     * {@code N(0, std²)}.
     *
     * @param std the standard deviation
     * @return the initialiser
     */
    static Init normal(double std) {
        return (values, random) -> {
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (gaussian(random) * std);
            }
        };
    }

    /**
     * PyTorch's {@code nn.Linear} default for weights and biases ({@code kaiming_uniform_(a=√5)} for the weight
     * works out to the same bound): {@code U(−1/√fanIn, 1/√fanIn)}.
     *
     * @param fanIn the layer's input features
     * @return the initialiser
     */
    static Init uniformFanIn(int fanIn) {
        return uniform(1.0 / Math.sqrt(fanIn));
    }

    /**
     * {@code xavier_normal_(gain)}: {@code N(0, gain²·2/(fanIn + fanOut))}.
     *
     * @param gain the scale PyTorch's {@code gain} argument gives (DeepNorm's β)
     * @param fanIn the layer's input features
     * @param fanOut the layer's output features
     * @return the initialiser
     */
    static Init xavierNormal(double gain, int fanIn, int fanOut) {
        return normal(gain * Math.sqrt(2.0 / (fanIn + fanOut)));
    }

    /**
     * {@code kaiming_normal_} with fan-in {@code fanIn} (x-transformers' token embedding): {@code N(0, 2/fanIn)}.
     *
     * @param fanIn the fan-in PyTorch computes for the tensor (for an embedding {@code [V, D]}, D)
     * @return the initialiser
     */
    static Init kaimingNormal(int fanIn) {
        return normal(Math.sqrt(2.0 / fanIn));
    }

    /** A standard normal draw (Box–Muller on the generator, so it is reproducible from the seed alone). */
    private static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
