package dev.attn4j.conformance;

import dev.attn4j.ports.tensor.DType;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The systematic part of the suite: every mask kind × bias kind × causal × GQA family that is legal, one
 * small configuration each (lengths at most {@value #MAX_LENGTH}, never a multiple of 16, {@code Sq ≠ Sk} in
 * three configurations of four), so that a feature that only breaks in combination with another cannot hide
 * behind the random cases. Every {@value #DROPOUT_EVERY}th configuration also has dropout.
 *
 * <p>Illegal combinations are left out: FlashMask's causal forms ({@code n = 1}, causal {@code n = 2}) exist
 * only with the causal flag, its non-causal forms ({@code n = 2, 4}) only without.
 *
 * <pre>{@code
 * List<AttentionConfig> grid = FeatureGrid.configurations(ConformanceSuite.SEED);
 * grid.size() == FeatureGrid.cells().size();   // 216
 * }</pre>
 */
public final class FeatureGrid {
    /** Longest sequence in the grid. */
    public static final int MAX_LENGTH = 70;
    /** Every this many configurations one has dropout. */
    public static final int DROPOUT_EVERY = 15;
    private static final long SALT = 0x6B1D_C311_5EEDL;
    private static final int[] HEAD_DIMS = {16, 32, 40};

    private FeatureGrid() {
    }

    /** Mask kinds of docs/design.md §4 step 4 (causal is a separate axis). */
    public enum MaskKind {
        /** No mask besides causal. */
        NONE,
        /** A window bounded on one side only. */
        WINDOW_ONE_SIDED,
        /** A window bounded on both sides. */
        WINDOW_TWO_SIDED,
        /** FlashMask causal {@code n = 1} ({@code [LTS]}). */
        FLASH_CAUSAL_1,
        /** FlashMask causal {@code n = 2} ({@code [LTS, LTE]}). */
        FLASH_CAUSAL_2,
        /** FlashMask non-causal {@code n = 2} ({@code [LTS, UTE]}). */
        FLASH_NON_CAUSAL_2,
        /** FlashMask non-causal {@code n = 4} ({@code [LTS, LTE, UTS, UTE]}). */
        FLASH_NON_CAUSAL_4,
        /** A dense boolean mask. */
        DENSE;

        /**
         * {@return whether this mask kind may be combined with the causal flag {@code causal}}
         *
         * @param causal whether the attention call is causal
         */
        public boolean allows(boolean causal) {
            return switch (this) {
                case FLASH_CAUSAL_1, FLASH_CAUSAL_2 -> causal;
                case FLASH_NON_CAUSAL_2, FLASH_NON_CAUSAL_4 -> !causal;
                default -> true;
            };
        }
    }

    /** Score modifications of docs/design.md §4 steps 2–3. */
    public enum BiasKind {
        /** None. */
        NONE,
        /** ALiBi slopes {@code [H]}, some of them zero. */
        ALIBI_HEADS,
        /** ALiBi slopes {@code [B, H]}, some of them zero. */
        ALIBI_BATCH_HEADS,
        /** A relative bias table, with its gradient in backward. */
        TABLE,
        /** A dense additive bias. */
        DENSE,
        /** Logit soft-capping. */
        SOFTCAP
    }

    /** Head layouts. */
    public enum Gqa {
        /** {@code H = Hkv}. */
        MHA,
        /** {@code H = 2·Hkv}, {@code Hkv > 1}. */
        GQA2,
        /** {@code Hkv = 1 < H}, {@code H ≠ 2}. */
        MQA
    }

    /**
     * One cell of the grid.
     *
     * @param mask the mask
     * @param bias the bias
     * @param causal whether the attention call is causal
     * @param gqa the GQA family
     */
    public record Cell(MaskKind mask, BiasKind bias, boolean causal, Gqa gqa) {
    }

    /** {@return every legal cell, in the grid's order (mask, bias, causal, GQA; the last varies fastest)} */
    public static List<Cell> cells() {
        List<Cell> cells = new ArrayList<>();
        for (MaskKind mask : MaskKind.values()) {
            for (BiasKind bias : BiasKind.values()) {
                for (boolean causal : new boolean[] {false, true}) {
                    if (!mask.allows(causal)) {
                        continue;
                    }
                    for (Gqa gqa : Gqa.values()) {
                        cells.add(new Cell(mask, bias, causal, gqa));
                    }
                }
            }
        }
        return cells;
    }

    /**
     * {@return one configuration per cell, drawn from {@code seed}; the {@code n}th has index {@code n} (id {@code gNNN})}
     *
     * @param seed the seed
     */
    public static List<AttentionConfig> configurations(long seed) {
        Random r = new Random(seed ^ SALT);
        List<Cell> cells = cells();
        List<AttentionConfig> out = new ArrayList<>(cells.size());
        for (int n = 0; n < cells.size(); n++) {
            out.add(configuration(n, cells.get(n), r));
        }
        return out;
    }

    private static AttentionConfig configuration(int n, Cell cell, Random r) {
        long dataSeed = r.nextLong();
        int[] heads = switch (cell.gqa()) {
            case MHA -> { int h = 2 + r.nextInt(2); yield new int[] {h, h}; }
            case GQA2 -> new int[] {4, 2};
            case MQA -> new int[] {3 + r.nextInt(2), 1};
        };
        int batch = cell.bias() == BiasKind.ALIBI_BATCH_HEADS ? 2 : 1 + r.nextInt(2);
        int d = HEAD_DIMS[r.nextInt(HEAD_DIMS.length)];
        int a = length(r);
        int b = length(r);
        while (b == a) {
            b = length(r);
        }
        int[] s = switch (n % 4) {
            case 0 -> new int[] {a, a};
            case 1 -> new int[] {Math.min(a, b), Math.max(a, b)};
            case 2 -> new int[] {Math.max(a, b), Math.min(a, b)}; // with causal: fully masked rows
            default -> new int[] {a, b};
        };
        int sk = s[1];
        int wl = -1, wr = -1, flashN = 0, flashHeads = 0;
        boolean denseMask = false;
        switch (cell.mask()) {
            case NONE -> { }
            case WINDOW_ONE_SIDED -> {
                int w = r.nextInt(sk / 2 + 1);
                // Causal already bounds the right; without it, either side alone is a one-sided window.
                if (cell.causal() || r.nextBoolean()) wl = w; else wr = w;
            }
            case WINDOW_TWO_SIDED -> { wl = r.nextInt(sk / 2 + 1); wr = r.nextInt(sk / 3 + 1); }
            case FLASH_CAUSAL_1 -> flashN = 1;
            case FLASH_CAUSAL_2, FLASH_NON_CAUSAL_2 -> flashN = 2;
            case FLASH_NON_CAUSAL_4 -> flashN = 4;
            case DENSE -> denseMask = true;
        }
        if (flashN > 0) {
            // Shared mask heads (Hm = 1) and one mask per head alternate.
            flashHeads = r.nextBoolean() ? 1 : heads[0];
        }
        AttentionConfig.Alibi alibi = switch (cell.bias()) {
            case ALIBI_HEADS -> AttentionConfig.Alibi.PER_HEAD;
            case ALIBI_BATCH_HEADS -> AttentionConfig.Alibi.PER_BATCH_HEAD;
            default -> AttentionConfig.Alibi.NONE;
        };
        double softcap = cell.bias() == BiasKind.SOFTCAP ? new double[] {1.0, 5.0, 30.0}[r.nextInt(3)] : 0;
        double dropout = n % DROPOUT_EVERY == DROPOUT_EVERY / 2 ? new double[] {0.1, 0.2}[r.nextInt(2)] : 0;
        return new AttentionConfig(n, batch, s[0], s[1], heads[0], heads[1], d, DType.F32, cell.causal(), null, wl, wr,
                softcap, alibi, cell.bias() == BiasKind.TABLE, cell.bias() == BiasKind.DENSE, flashN, flashHeads,
                denseMask, dropout, false, dataSeed, true);
    }

    /** A length in [2, MAX_LENGTH] that is not a multiple of 16. */
    private static int length(Random r) {
        int l;
        do {
            l = 2 + r.nextInt(MAX_LENGTH - 1);
        } while (l % 16 == 0);
        return l;
    }
}
