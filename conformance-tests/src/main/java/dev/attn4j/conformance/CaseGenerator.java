package dev.attn4j.conformance;

import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.tensor.DType;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Draws the suite's configurations from one seed. Coverage is built in, not left to chance: core attention
 * configuration {@code c} takes head dim {@code D[c % 8]}, GQA family {@code (c / 8) % 5} (ratio 1, 2, 4, 8,
 * MQA) and causal {@code (c / 40) % 2}, so every 80 core configurations hold every (D, family, causal)
 * triple; sequence lengths are drawn from shapes that include S = 1, Sq = Sk, Sq &gt; Sk (fully masked rows
 * with causal), Sq &lt; Sk and lengths around tile multiples; every 30th core configuration is long (past 128). Every fourth attention configuration is a
 * feature configuration (window, softcap, ALiBi, bias table, FlashMask, dense mask and bias, dropout,
 * reduced dtypes, deterministic backward).
 */
final class CaseGenerator {
    /** Head dims every backend is checked on. */
    static final int[] HEAD_DIMS = {16, 32, 40, 64, 80, 96, 128, 256};
    /** GQA families: ratios H/Hkv, with 0 standing for MQA (Hkv = 1, H > 1). */
    static final int[] GQA_FAMILIES = {1, 2, 4, 8, 0};
    /** Work budget per configuration, in B·H·Sq·Sk·D, so that a suite runs in about a minute on two cores. */
    private static final long BUDGET = 600_000;
    /** Work budget of the long core configurations. */
    private static final long LONG_BUDGET = 2_500_000;
    private static final int FEATURE_KINDS = 18;

    private CaseGenerator() {
    }

    static List<AttentionConfig> attention(int count, long seed) {
        Random r = new Random(seed);
        List<AttentionConfig> out = new ArrayList<>(count);
        int core = 0;
        int feature = 0;
        for (int index = 0; index < count; index++) {
            long dataSeed = r.nextLong();
            if (index % 4 == 3) {
                out.add(feature(index, feature++, r, dataSeed));
            } else {
                out.add(core(index, core++, r, dataSeed));
            }
        }
        return out;
    }

    private static AttentionConfig core(int index, int c, Random r, long dataSeed) {
        int d = HEAD_DIMS[c % HEAD_DIMS.length];
        int family = GQA_FAMILIES[(c / HEAD_DIMS.length) % GQA_FAMILIES.length];
        boolean causal = (c / (HEAD_DIMS.length * GQA_FAMILIES.length)) % 2 == 1;
        int[] heads = heads(family, r);
        // Every 30th core configuration is long (one batch row, lengths past 128) so that GPU-sized tiles
        // (64, 128) end mid-sequence too.
        boolean longOne = c % 30 == 29;
        int batch = longOne ? 1 : 1 + r.nextInt(2);
        int[] s = longOne ? longLengths(r, heads[0] * d) : lengths(r, batch * heads[0] * d);
        Double scale = r.nextInt(6) == 0 ? Double.valueOf(new double[] {0.05, 0.125, 0.3, 0.5}[r.nextInt(4)]) : null;
        return new AttentionConfig(index, batch, s[0], s[1], heads[0], heads[1], d, DType.F32, causal, scale, -1, -1,
                0, AttentionConfig.Alibi.NONE, false, false, 0, 0, false, 0, false, dataSeed);
    }

    private static AttentionConfig feature(int index, int f, Random r, long dataSeed) {
        int kind = f % FEATURE_KINDS;
        int d = HEAD_DIMS[r.nextInt(HEAD_DIMS.length)];
        int family = GQA_FAMILIES[r.nextInt(GQA_FAMILIES.length)];
        int[] heads = heads(family, r);
        int batch = 1 + r.nextInt(2);
        int[] s = lengths(r, batch * heads[0] * d);
        int sq = s[0];
        int sk = s[1];
        boolean causal = r.nextBoolean();
        DType dtype = DType.F32;
        int wl = -1, wr = -1, flashN = 0, flashHeads = 0;
        double softcap = 0, dropout = 0;
        AttentionConfig.Alibi alibi = AttentionConfig.Alibi.NONE;
        boolean table = false, denseBias = false, denseMask = false, deterministic = false;
        switch (kind) {
            case 0 -> { wl = r.nextInt(sk + 1); wr = r.nextInt(sk + 1); causal = false; }
            case 1 -> { wl = r.nextInt(sk + 1); causal = true; }
            case 2 -> softcap = new double[] {1.0, 5.0, 30.0}[r.nextInt(3)];
            case 3 -> alibi = AttentionConfig.Alibi.PER_HEAD;
            case 4 -> { alibi = AttentionConfig.Alibi.PER_BATCH_HEAD; causal = true; }
            case 5 -> table = true;
            case 6, 7, 8, 9 -> {
                causal = kind <= 7;
                flashN = switch (kind) { case 6 -> 1; case 7, 8 -> 2; default -> 4; };
                int[] divisors = divisors(heads[0]);
                flashHeads = divisors[r.nextInt(divisors.length)];
            }
            case 10 -> denseMask = true;
            case 11 -> denseBias = true;
            case 12, 13 -> { dropout = new double[] {0.1, 0.17, 0.25}[r.nextInt(3)]; causal = kind == 13; }
            case 14 -> dtype = DType.BF16;
            case 15 -> dtype = DType.F16;
            case 16 -> { wl = r.nextInt(sk + 1); alibi = AttentionConfig.Alibi.PER_HEAD; softcap = 5.0; causal = true; }
            default -> deterministic = true;
        }
        return new AttentionConfig(index, batch, sq, sk, heads[0], heads[1], d, dtype, causal, null, wl, wr, softcap,
                alibi, table, denseBias, flashN, flashHeads, denseMask, dropout, deterministic, dataSeed);
    }

    /** {H, Hkv} for a family. */
    private static int[] heads(int family, Random r) {
        if (family == 0) {
            int h = new int[] {2, 3, 4, 6}[r.nextInt(4)];
            return new int[] {h, 1};
        }
        int kv = family == 1 ? 1 + r.nextInt(3) : 1 + r.nextInt(2);
        return new int[] {kv * family, kv};
    }

    /** {Sq, Sk} within the work budget for {@code perPair = B·H·D}. */
    private static int[] lengths(Random r, int perPair) {
        int max = (int) Math.max(2, Math.min(160, Math.sqrt((double) BUDGET / perPair)));
        int a = length(r, max);
        int b = length(r, max);
        return switch (r.nextInt(7)) {
            case 0 -> new int[] {a, a};                           // square
            case 1 -> new int[] {1, b};                           // decoding: one query
            case 2 -> new int[] {Math.max(a, b), Math.min(a, b)}; // Sq >= Sk: causal leaves rows fully masked
            case 3 -> new int[] {Math.min(a, b), Math.max(a, b)}; // Sq <= Sk
            case 4 -> new int[] {a, 1};                           // a single key
            default -> new int[] {a, b};
        };
    }

    /** {Sq, Sk}, at least one past 128, within a larger budget for {@code perPair = H·D}. */
    private static int[] longLengths(Random r, int perPair) {
        int max = (int) Math.max(130, Math.min(260, Math.sqrt((double) LONG_BUDGET / perPair)));
        int a = 129 + r.nextInt(max - 128);
        int b = 1 + r.nextInt(max);
        return r.nextBoolean() ? new int[] {a, b} : new int[] {b, a};
    }

    /** A length in [1, max], often next to a multiple of 16 (where tiles end). */
    private static int length(Random r, int max) {
        if (max >= 17 && r.nextInt(3) == 0) {
            int tiles = 1 + r.nextInt(max / 16);
            int l = tiles * 16 + r.nextInt(3) - 1;
            return Math.max(1, Math.min(max, l));
        }
        return 1 + r.nextInt(max);
    }

    private static int[] divisors(int n) {
        return java.util.stream.IntStream.rangeClosed(1, n).filter(x -> n % x == 0).toArray();
    }

    static List<NormConfig> norm(int count, long seed) {
        Random r = new Random(seed ^ 0x5DEECE66DL);
        int[] widths = {1, 7, 31, 64, 100, 127, 128, 255, 333, 512, 1000, 1024};
        List<NormConfig> out = new ArrayList<>(count);
        for (int index = 0; index < count; index++) {
            long dataSeed = r.nextLong();
            int form = index % 9;
            NormKind kind = form % 3 == 2 ? NormKind.RMS_NORM : NormKind.LAYER_NORM;
            boolean beta = form % 3 == 0;
            int residualForm = (form / 3) % 3; // none, plain residual, DeepNorm
            boolean residual = residualForm > 0;
            double alpha = residualForm == 2 ? new double[] {1.68179, 2.0, 2.82843}[r.nextInt(3)] : 1.0;
            boolean dSum = residual && r.nextBoolean();
            int cols = widths[r.nextInt(widths.length)];
            int outer = r.nextInt(3) == 0 ? 2 + r.nextInt(2) : 1;
            int inner = 1 + r.nextInt(Math.max(1, Math.min(17, 8192 / cols)));
            double eps = r.nextBoolean() ? 1e-5 : 1e-6;
            DType dtype = index % 6 == 5 ? (r.nextBoolean() ? DType.BF16 : DType.F16) : DType.F32;
            out.add(new NormConfig(index, kind, outer, inner, cols, beta, residual, alpha, dSum, eps, dtype, dataSeed));
        }
        return out;
    }
}
