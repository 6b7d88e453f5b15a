package dev.attn4j.conformance;

import dev.attn4j.ports.Backend;

import dev.attn4j.oracle.PassRule;

import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * One rotary configuration: {@code x [B, S, H, D]} rotated on its first {@code R} features by tables made in the
 * case (cosines and sines of random angles, positive xPos-like scales), so that the suite owns no position
 * formula (those belong to the domain; the port only applies tables). Data is regenerated from
 * {@code dataSeed}, rounded to the storage types ({@code x}, {@code dy} in {@code dtype}, tables in F32).
 *
 * <pre>{@code
 * RotaryConfig c = RotaryConfig.standard(ConformanceSuite.SEED).getFirst();
 * RotaryConfig.Data data = c.data();
 * }</pre>
 *
 * @param index     position among the rotary configurations (part of the id)
 * @param batch     B
 * @param seq       S
 * @param heads     H
 * @param headDim   D
 * @param rotaryDim R (even, at most D)
 * @param layout    pair layout
 * @param xpos      whether a scale table is given
 * @param dtype     storage type of {@code x} and {@code dy}
 * @param dataSeed  seed of the inputs
 */
public record RotaryConfig(int index, int batch, int seq, int heads, int headDim, int rotaryDim, RotaryLayout layout,
                           boolean xpos, DType dtype, long dataSeed) implements CaseConfig {

    /**
     * Host data: input, upstream gradient and the {@code [S, R/2]} tables ({@code scale} null without xPos).
     *
     * @param x the input
     * @param dy gradient of the loss w.r.t. the output
     * @param cos cosine table
     * @param sin sine table
     * @param scale the scale
     */
    public record Data(double[] x, double[] dy, double[] cos, double[] sin, double[] scale) {
    }

    /** Checks the sizes. */
    public RotaryConfig {
        if (batch < 1 || seq < 1 || heads < 1 || headDim < 2) {
            throw new IllegalArgumentException("B, S, H >= 1 and D >= 2 expected, got " + batch + ", " + seq + ", "
                    + heads + ", " + headDim);
        }
        if (rotaryDim < 2 || rotaryDim % 2 != 0 || rotaryDim > headDim) {
            throw new IllegalArgumentException("rotaryDim: expected an even number in [2, D = " + headDim + "], got "
                    + rotaryDim);
        }
    }

    /**
     * The standard rotary configurations: both layouts × {@code R = D} and {@code R < D} × with and without xPos in
     * F32 (odd S and H throughout), then one BF16 and one F16 configuration.
     *
     * @param seed the seed
     * @return the configurations
     */
    public static List<RotaryConfig> standard(long seed) {
        Random r = new Random(seed ^ 0x0707_A7E5L);
        int[][] sizes = {{1, 7, 3, 16}, {2, 13, 1, 40}, {1, 33, 5, 64}, {2, 5, 3, 32}};
        List<RotaryConfig> out = new java.util.ArrayList<>();
        int index = 0;
        for (RotaryLayout layout : RotaryLayout.values()) {
            for (boolean partial : new boolean[] {false, true}) {
                for (boolean xpos : new boolean[] {false, true}) {
                    int[] s = sizes[index % sizes.length];
                    out.add(new RotaryConfig(index++, s[0], s[1], s[2], s[3], rotary(r, s[3], partial), layout, xpos,
                            DType.F32, r.nextLong()));
                }
            }
        }
        out.add(new RotaryConfig(index++, 2, 9, 3, 40, rotary(r, 40, true), RotaryLayout.INTERLEAVED, true, DType.BF16,
                r.nextLong()));
        out.add(new RotaryConfig(index, 1, 11, 5, 32, 32, RotaryLayout.SPLIT_HALF, true, DType.F16, r.nextLong()));
        return out;
    }

    /** R = D, or an even R < D (sometimes with an odd number of pairs). */
    private static int rotary(Random r, int d, boolean partial) {
        return partial ? 2 * (1 + r.nextInt(d / 2 - 1)) : d;
    }

    /** {@return number of rotated pairs, {@code R/2}} */
    public int pairs() {
        return rotaryDim / 2;
    }

    /** {@return elements of {@code x}} */
    public int size() {
        return batch * seq * heads * headDim;
    }

    /** The rotation of {@code x}, then the inverse applied to {@code dy}. */
    @Override
    public List<Op> ops() {
        return List.of(Op.ROTARY, Op.ROTARY_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return RotaryRunner.run(this, checked(op) == Op.ROTARY_BACKWARD, backend);
    }

    /** {@return a stable, readable id, e.g. {@code r003 b1 s7 h3 d16 r10 interleaved xpos f32}} */
    @Override
    public String id() {
        return String.format("r%03d b%d s%d h%d d%d r%d %s%s %s", index, batch, seq, heads, headDim, rotaryDim,
                layout == RotaryLayout.INTERLEAVED ? "interleaved" : "split-half", xpos ? " xpos" : "",
                dtype.name().toLowerCase(Locale.ROOT));
    }

    /**
     * Regenerates the data from {@code dataSeed}.
     *
     * @return the case's data
     */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        double[] x = new double[size()];
        double[] dy = new double[size()];
        for (int n = 0; n < x.length; n++) {
            x[n] = store.round(r.nextGaussian());
            dy[n] = store.round(r.nextGaussian());
        }
        int table = seq * pairs();
        double[] cos = new double[table];
        double[] sin = new double[table];
        double[] scale = xpos ? new double[table] : null;
        for (int n = 0; n < table; n++) {
            double angle = 2 * Math.PI * r.nextDouble();
            cos[n] = Precision.FP32.round(Math.cos(angle));
            sin[n] = Precision.FP32.round(Math.sin(angle));
            if (xpos) {
                scale[n] = Precision.FP32.round(0.5 + 1.5 * r.nextDouble());
            }
        }
        return new Data(x, dy, cos, sin, scale);
    }
}
