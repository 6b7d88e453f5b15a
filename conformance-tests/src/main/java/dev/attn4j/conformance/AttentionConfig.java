package dev.attn4j.conformance;

import java.util.List;

import dev.attn4j.ports.Backend;

import dev.attn4j.oracle.PassRule;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.DenseBias;
import dev.attn4j.oracle.DenseMaskFlags;
import dev.attn4j.oracle.FlashMaskIndices;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DType;

import java.util.Random;

/**
 * One attention configuration of the suite: sizes, options and the seed its data is drawn from. The data
 * ({@link #data()}) is regenerated from {@code dataSeed} on demand with {@link Random} (whose algorithm the
 * JDK specifies), so a configuration is reproducible from its record alone. Values are rounded to the
 * storage type before anyone sees them, so oracle and backend start from identical inputs.
 *
 * <p>Fixed layouts of the optional tensors: ALiBi slopes {@code [H]} or {@code [B, H]} per {@link #alibi};
 * dense bias {@code [1, H, Sq, Sk]} (broadcast over the batch); dense mask {@code [B, 1, Sq, Sk]} (broadcast
 * over heads); FlashMask {@code [B, Hm, Sk, n]}.
 *
 * <pre>{@code
 * AttentionConfig c = ConformanceSuite.standard().cases().stream()
 *         .map(ConformanceCase::config).filter(x -> x instanceof AttentionConfig).map(x -> (AttentionConfig) x)
 *         .findFirst().orElseThrow();
 * AttentionConfig.Data data = c.data();
 * }</pre>
 *
 * @param index          position in the suite (part of the id)
 * @param batch          B
 * @param seqQ           Sq
 * @param seqK           Sk
 * @param heads          H
 * @param kvHeads        Hkv
 * @param headDim        D
 * @param dtype          storage type of q, k, v, o, dO and the gradients
 * @param causal         causal mask
 * @param scale          explicit scale, or {@code null} for {@code 1/sqrt(D)}
 * @param windowLeft     −1 = unbounded
 * @param windowRight    −1 = unbounded
 * @param softcap        0 = off
 * @param alibi          which ALiBi slope layout, if any
 * @param biasTable      whether a relative bias table is given (its gradient is then asked for in backward)
 * @param denseBias      whether a dense additive bias is given
 * @param flashMaskN     FlashMask indices per column (1, 2, 4), 0 = none
 * @param flashMaskHeads Hm
 * @param denseMask      whether a dense boolean mask is given
 * @param dropoutP       dropout probability, 0 = none
 * @param deterministic  whether backward must be bit-identical run to run (the suite runs it twice)
 * @param dataSeed       seed of the inputs
 * @param grid           whether the configuration is a cell of the {@link FeatureGrid} (id prefix {@code g}, and
 *                       ALiBi slopes with a zero on every third head, so that "some heads unbiased" is always
 *                       exercised) rather than a random one (id prefix {@code a})
 */
public record AttentionConfig(int index, int batch, int seqQ, int seqK, int heads, int kvHeads, int headDim,
                              DType dtype, boolean causal, Double scale, int windowLeft, int windowRight,
                              double softcap, Alibi alibi, boolean biasTable, boolean denseBias, int flashMaskN,
                              int flashMaskHeads, boolean denseMask, double dropoutP, boolean deterministic,
                              long dataSeed, boolean grid) implements CaseConfig {

    /** Where ALiBi slopes come from. */
    public enum Alibi {
        /** No ALiBi. */
        NONE,
        /** Slopes {@code [H]}. */
        PER_HEAD,
        /** Slopes {@code [B, H]}. */
        PER_BATCH_HEAD
    }

    /**
     * The case's host data: the oracle problem and the upstream gradient {@code dO}.
     *
     * @param problem the problem to compute
     * @param dO gradient of the loss w.r.t. o
     */
    public record Data(AttentionProblem problem, double[] dO) {
    }

    /** Checks the sizes (by building {@link AttentionDims}). */
    public AttentionConfig {
        new AttentionDims(batch, seqQ, seqK, heads, kvHeads, headDim);
        if (alibi == null) {
            alibi = Alibi.NONE;
        }
    }

    /**
     * A random (non-grid) configuration.
     *
     * @param index position in the suite (part of the id)
     * @param batch B
     * @param seqQ Sq
     * @param seqK Sk
     * @param heads H
     * @param kvHeads Hkv
     * @param headDim D
     * @param dtype storage type of q, k, v, o, dO and the gradients
     * @param causal causal mask
     * @param scale explicit scale, or {@code null} for {@code 1/sqrt(D)}
     * @param windowLeft −1 = unbounded
     * @param windowRight −1 = unbounded
     * @param softcap 0 = off
     * @param alibi which ALiBi slope layout, if any
     * @param biasTable whether a relative bias table is given (its gradient is then asked for in backward)
     * @param denseBias whether a dense additive bias is given
     * @param flashMaskN FlashMask indices per column (1, 2, 4), 0 = none
     * @param flashMaskHeads Hm
     * @param denseMask whether a dense boolean mask is given
     * @param dropoutP dropout probability, 0 = none
     * @param deterministic whether backward must be bit-identical run to run (the suite runs it twice)
     * @param dataSeed seed of the inputs
     */
    public AttentionConfig(int index, int batch, int seqQ, int seqK, int heads, int kvHeads, int headDim, DType dtype,
                           boolean causal, Double scale, int windowLeft, int windowRight, double softcap, Alibi alibi,
                           boolean biasTable, boolean denseBias, int flashMaskN, int flashMaskHeads, boolean denseMask,
                           double dropoutP, boolean deterministic, long dataSeed) {
        this(index, batch, seqQ, seqK, heads, kvHeads, headDim, dtype, causal, scale, windowLeft, windowRight, softcap,
                alibi, biasTable, denseBias, flashMaskN, flashMaskHeads, denseMask, dropoutP, deterministic, dataSeed,
                false);
    }

    /** {@return the sizes} */
    public AttentionDims dims() {
        return new AttentionDims(batch, seqQ, seqK, heads, kvHeads, headDim);
    }

    /** {@return whether the configuration uses only the core features: F32, causal or not, GQA/MQA, scale} */
    public boolean core() {
        return dtype == DType.F32 && !excludes(windowLeft, seqK) && !excludes(windowRight, seqQ) && softcap == 0
                && alibi == Alibi.NONE && !biasTable && !denseBias && flashMaskN == 0 && !denseMask && dropoutP == 0
                && !deterministic;
    }

    /**
     * Whether a window side excludes any key: a left window below Sk − 1 (a right one below Sq − 1). A wider one is
     * unbounded, and the request records store it as −1, so it needs no sliding-window capability.
     */
    private static boolean excludes(int window, int opposite) {
        return window >= 0 && window < opposite - 1;
    }

    /** {@return the dropout of the configuration: seed and offset derived from the data seed} */
    public Dropout dropout() {
        return dropoutP > 0 ? new Dropout(dropoutP, dataSeed * 31 + 7, index) : Dropout.NONE;
    }

    /** {@return the scale in use} */
    public double resolvedScale() {
        return scale != null ? scale : 1.0 / Math.sqrt(headDim);
    }

    /** Forward, then backward on the backend's own {@code o, lse}. */
    @Override
    public List<Op> ops() {
        return List.of(Op.ATTENTION_FORWARD, Op.ATTENTION_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return AttentionRunner.run(this, checked(op) == Op.ATTENTION_BACKWARD, AttentionLayout.BSHD, backend);
    }

    /** {@return a stable, readable id, e.g. {@code a0042 b2 sq37 sk64 h8 kv2 d40 causal f32} ({@code g017 ...} in the grid)} */
    @Override
    public String id() {
        StringBuilder s = new StringBuilder();
        s.append(grid ? String.format("g%03d", index) : String.format("a%04d", index));
        s.append(String.format(" b%d sq%d sk%d h%d kv%d d%d", batch, seqQ, seqK, heads, kvHeads, headDim));
        s.append(causal ? " causal" : " full").append(' ').append(dtype.name().toLowerCase(java.util.Locale.ROOT));
        if (scale != null) s.append(" scale(").append(scale).append(')');
        if (windowLeft >= 0 || windowRight >= 0) s.append(" window(").append(windowLeft).append(',').append(windowRight).append(')');
        if (softcap > 0) s.append(" softcap(").append(softcap).append(')');
        if (alibi == Alibi.PER_HEAD) s.append(" alibi[H]");
        if (alibi == Alibi.PER_BATCH_HEAD) s.append(" alibi[B,H]");
        if (biasTable) s.append(" table+grad");
        if (denseBias) s.append(" dense-bias");
        if (flashMaskN > 0) s.append(" flashmask(n=").append(flashMaskN).append(",hm=").append(flashMaskHeads).append(')');
        if (denseMask) s.append(" dense-mask");
        if (dropoutP > 0) s.append(" dropout(").append(dropoutP).append(')');
        if (deterministic) s.append(" deterministic");
        return s.toString();
    }

    /**
     * Regenerates the data from {@code dataSeed}; values rounded to their storage types.
     *
     * @return the case's data
     */
    public Data data() {
        Random r = new Random(dataSeed);
        AttentionDims d = dims();
        Precision store = Precision.of(dtype);
        double[] q = gaussian(r, d.querySize(), 1, store);
        double[] k = gaussian(r, d.keySize(), 1, store);
        double[] v = gaussian(r, d.keySize(), 1, store);
        double[] dO = gaussian(r, d.querySize(), 1, store);
        double[] slopes = null;
        if (alibi != Alibi.NONE) {
            int n = alibi == Alibi.PER_HEAD ? heads : batch * heads;
            slopes = new double[n];
            for (int x = 0; x < n; x++) {
                // ALiBi-like geometric slopes, some heads unbiased (slope 0), as "ALiBi on some heads" is expressed.
                if (grid) {
                    slopes[x] = x % 3 == 0 ? 0 : (float) Math.pow(2, -1 - r.nextInt(8));
                } else {
                    slopes[x] = r.nextInt(4) == 0 ? 0 : (float) Math.pow(2, -1 - r.nextInt(8));
                }
            }
        }
        double[] table = biasTable ? gaussian(r, heads * d.tableWidth(), 0.5, Precision.FP32) : null;
        DenseBias bias = denseBias ? new DenseBias(1, heads, gaussian(r, heads * seqQ * seqK, 0.5, Precision.FP32)) : null;
        DenseMaskFlags mask = null;
        if (denseMask) {
            boolean[] allowed = new boolean[batch * seqQ * seqK];
            for (int x = 0; x < allowed.length; x++) {
                allowed[x] = r.nextInt(5) != 0;
            }
            mask = new DenseMaskFlags(batch, 1, allowed);
        }
        FlashMaskIndices flash = flashMaskN > 0 ? new FlashMaskIndices(flashMaskHeads, flashMaskN, flashRows(r)) : null;
        AttentionProblem problem = new AttentionProblem(d, q, k, v, resolvedScale(), causal, windowLeft, windowRight,
                softcap, slopes, table, bias, flash, mask, dropout());
        return new Data(problem, dO);
    }

    /** Structured FlashMask indices in [0, Sq + 2] (values above Sq must act as Sq), sorted within a column. */
    private int[] flashRows(Random r) {
        int n = flashMaskN;
        int[] rows = new int[batch * flashMaskHeads * seqK * n];
        int[] col = new int[n];
        for (int c = 0; c < batch * flashMaskHeads * seqK; c++) {
            for (int x = 0; x < n; x++) {
                col[x] = r.nextInt(seqQ + 3);
            }
            java.util.Arrays.sort(col);
            if (!causal && n == 2) {
                // [LTS, UTE]: the lower start sits below the upper end in real masks; keep both orders sometimes.
                if (r.nextInt(4) != 0) {
                    int t = col[0];
                    col[0] = col[1];
                    col[1] = t;
                }
            }
            System.arraycopy(col, 0, rows, c * n, n);
        }
        return rows;
    }

    private static double[] gaussian(Random r, int n, double sigma, Precision store) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = store.round(sigma * r.nextGaussian());
        }
        return x;
    }
}
