package dev.attn4j.conformance;

import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The standard suite holds the whole feature grid (every legal mask kind × bias kind × causal × GQA family, each
 * configuration classified here from its own fields, not from the generator's labels) and the rotary cases, and
 * adding them left the random cases' ids untouched.
 */
class SystematicCoverageTest {
    private static final List<String> MASKS = List.of("none", "window one-sided", "window two-sided",
            "flashmask causal n=1", "flashmask causal n=2", "flashmask non-causal n=2", "flashmask non-causal n=4",
            "dense mask");
    private static final List<String> BIASES = List.of("none", "alibi[H]", "alibi[B,H]", "table", "dense bias",
            "softcap");
    private static final List<String> GQA = List.of("H=Hkv", "H=2Hkv", "MQA");

    private final ConformanceSuite suite = ConformanceSuite.standard();

    /** The grid's cases in the default layout (a sample of them runs again in BHSD: see bhsdCasesSampleTheSuite). */
    private List<ConformanceCase> gridCases() {
        return suite.cases().stream().filter(c -> c.config() instanceof AttentionConfig a && a.grid()).toList();
    }

    private List<AttentionConfig> grid() {
        return gridCases().stream().filter(c -> !c.backward()).map(c -> (AttentionConfig) c.config()).toList();
    }

    /** The expected cells, written out independently of {@link FeatureGrid}. */
    private static Set<List<String>> expectedCells() {
        Set<List<String>> cells = new HashSet<>();
        for (String mask : MASKS) {
            for (String bias : BIASES) {
                for (boolean causal : new boolean[] {false, true}) {
                    boolean flashCausal = mask.startsWith("flashmask causal");
                    boolean flashNonCausal = mask.startsWith("flashmask non-causal");
                    if ((flashCausal && !causal) || (flashNonCausal && causal)) {
                        continue; // FlashMask's causal forms need the causal flag, its non-causal forms forbid it
                    }
                    for (String gqa : GQA) {
                        cells.add(List.of(mask, bias, Boolean.toString(causal), gqa));
                    }
                }
            }
        }
        return cells;
    }

    private static List<String> cellOf(AttentionConfig c) {
        List<String> masks = new ArrayList<>();
        if (c.windowLeft() >= 0 && c.windowRight() >= 0) masks.add("window two-sided");
        if (c.windowLeft() >= 0 ^ c.windowRight() >= 0) masks.add("window one-sided");
        if (c.flashMaskN() > 0) {
            masks.add("flashmask " + (c.causal() ? "causal" : "non-causal") + " n=" + c.flashMaskN());
        }
        if (c.denseMask()) masks.add("dense mask");
        List<String> biases = new ArrayList<>();
        if (c.alibi() == AttentionConfig.Alibi.PER_HEAD) biases.add("alibi[H]");
        if (c.alibi() == AttentionConfig.Alibi.PER_BATCH_HEAD) biases.add("alibi[B,H]");
        if (c.biasTable()) biases.add("table");
        if (c.denseBias()) biases.add("dense bias");
        if (c.softcap() > 0) biases.add("softcap");
        assertTrue(masks.size() <= 1 && biases.size() <= 1, "one mask and one bias kind per cell: " + c.id());
        String gqa;
        if (c.heads() == c.kvHeads()) gqa = "H=Hkv";
        else if (c.kvHeads() == 1 && c.heads() != 2) gqa = "MQA";
        else if (c.heads() == 2 * c.kvHeads() && c.kvHeads() > 1) gqa = "H=2Hkv";
        else throw new AssertionError("a grid configuration outside every GQA family: " + c.id());
        return List.of(masks.isEmpty() ? "none" : masks.getFirst(), biases.isEmpty() ? "none" : biases.getFirst(),
                Boolean.toString(c.causal()), gqa);
    }

    @Test
    void everyLegalCellOfTheGridIsPresentExactlyOnce() {
        Set<List<String>> expected = expectedCells();
        assertEquals(8 * 6 * 3 * 2 - 4 * 6 * 3, expected.size(), "12 mask/causal pairs x 6 biases x 3 GQA families");
        Map<List<String>, Integer> found = new HashMap<>();
        for (AttentionConfig c : grid()) {
            found.merge(cellOf(c), 1, Integer::sum);
        }
        assertEquals(expected, found.keySet());
        assertTrue(found.values().stream().allMatch(n -> n == 1), "one configuration per cell: " + found);
        assertEquals(FeatureGrid.cells().size(), grid().size());
    }

    @Test
    void everyGridConfigurationYieldsAForwardAndABackwardCase() {
        Map<String, Set<Op>> ops = new HashMap<>();
        for (ConformanceCase c : gridCases()) {
            ops.computeIfAbsent(c.id(), k -> new HashSet<>()).add(c.op());
        }
        assertEquals(grid().size(), ops.size(), "grid ids are unique");
        assertTrue(ops.values().stream().allMatch(s -> s.equals(Set.of(Op.ATTENTION_FORWARD, Op.ATTENTION_BACKWARD))));
        assertTrue(grid().stream().allMatch(c -> c.id().startsWith("g")));
    }

    @Test
    void gridSizesAreSmallOffTileAndPartlyUnequal() {
        List<AttentionConfig> g = grid();
        assertTrue(g.stream().allMatch(c -> Math.max(c.seqQ(), c.seqK()) <= FeatureGrid.MAX_LENGTH), "S <= 70");
        assertTrue(g.stream().allMatch(c -> c.seqQ() % 16 != 0 && c.seqK() % 16 != 0), "no tile multiples");
        assertTrue(g.stream().allMatch(c -> c.dtype() == DType.F32));
        long unequal = g.stream().filter(c -> c.seqQ() != c.seqK()).count();
        assertTrue(unequal >= g.size() / 2 && unequal < g.size(), unequal + " of " + g.size() + " with Sq != Sk");
        assertTrue(g.stream().anyMatch(c -> c.causal() && c.seqQ() > c.seqK()), "fully masked rows");
        long dropout = g.stream().filter(c -> c.dropoutP() > 0).count();
        assertTrue(dropout >= 5 && dropout <= g.size() / 10, dropout + " grid configurations with dropout");
        assertTrue(g.stream().anyMatch(c -> c.flashMaskN() > 0 && c.flashMaskHeads() < c.heads()), "shared mask heads");
        assertTrue(g.stream().anyMatch(c -> c.windowLeft() < 0 && c.windowRight() >= 0), "right-only window");
    }

    @Test
    void gridAlibiSlopesHaveZeroAndNonZeroHeads() {
        for (AttentionConfig c : grid()) {
            if (c.alibi() == AttentionConfig.Alibi.NONE) continue;
            double[] slopes = c.data().problem().alibiSlopes();
            assertTrue(Arrays.stream(slopes).anyMatch(x -> x == 0), "a zero slope: " + c.id());
            assertTrue(Arrays.stream(slopes).anyMatch(x -> x > 0), "a positive slope: " + c.id());
        }
    }

    @Test
    void addingTheGridAndRotaryKeptTheRandomCasesAndTheirIds() {
        ConformanceSuite random = ConformanceSuite.of(ConformanceSuite.STANDARD_ATTENTION, ConformanceSuite.STANDARD_NORM,
                ConformanceSuite.SEED);
        List<String> before = random.cases().stream().map(c -> c.op() + " " + c.id()).toList();
        List<String> now = suite.cases().stream().filter(c -> c.config() instanceof NormConfig
                || (c.config() instanceof AttentionConfig a && !a.grid())).map(c -> c.op() + " " + c.id()).toList();
        assertEquals(before, now);
        assertTrue(before.getFirst().startsWith("attention_forward a0000 "), before.getFirst());
        List<String> all = suite.cases().stream().map(c -> c.op() + " " + c.id()).toList();
        assertEquals(all.size(), new HashSet<>(all).size(), "ids are unique");
    }

    @Test
    void bhsdCasesSampleTheSuiteAndCoverEveryMaskKind() {
        List<ConformanceCase> bhsdCases = suite.cases().stream()
                .filter(c -> c.config() instanceof AttentionLayoutConfig l && l.layout() == AttentionLayout.BHSD).toList();
        int grid = (FeatureGrid.cells().size() + ConformanceSuite.BHSD_GRID_STRIDE - 2) / ConformanceSuite.BHSD_GRID_STRIDE;
        assertEquals(2 * (ConformanceSuite.BHSD_RANDOM + grid), bhsdCases.size());
        List<AttentionConfig> bhsd = bhsdCases.stream().map(c -> ((AttentionLayoutConfig) c.config()).config()).toList();
        assertTrue(bhsdCases.stream().allMatch(c -> c.id().equals(((AttentionLayoutConfig) c.config()).config().id() + " bhsd")));
        // each BHSD case repeats a configuration that also runs in the default layout
        Set<String> bshd = new HashSet<>(suite.cases().stream().filter(c -> c.config() instanceof AttentionConfig)
                .map(c -> c.op() + " " + c.id()).toList());
        assertTrue(bhsdCases.stream().allMatch(c -> bshd.contains(c.op() + " "
                + ((AttentionLayoutConfig) c.config()).config().id())));
        Set<String> masks = new HashSet<>();
        bhsd.stream().filter(AttentionConfig::grid).forEach(c -> masks.add(cellOf(c).getFirst()));
        assertEquals(8, masks.size(), "every mask kind of the grid in BHSD too: " + masks);
        assertTrue(bhsd.stream().anyMatch(c -> c.heads() != c.kvHeads()), "GQA in BHSD");
    }

    @Test
    void rotaryCoversBothLayoutsFullAndPartialRotationWithAndWithoutXposOnOddSizes() {
        List<ConformanceCase> rotary = suite.cases().stream().filter(c -> c.config() instanceof RotaryConfig).toList();
        Set<List<Object>> combos = new HashSet<>();
        for (ConformanceCase c : rotary) {
            RotaryConfig r = (RotaryConfig) c.config();
            if (r.dtype() == DType.F32) {
                combos.add(List.of(r.layout(), r.rotaryDim() == r.headDim(), r.xpos(), c.op()));
            }
        }
        Set<List<Object>> expected = new HashSet<>();
        for (RotaryLayout layout : RotaryLayout.values()) {
            for (boolean full : new boolean[] {false, true}) {
                for (boolean xpos : new boolean[] {false, true}) {
                    for (Op op : List.of(Op.ROTARY, Op.ROTARY_BACKWARD)) {
                        expected.add(List.of(layout, full, xpos, op));
                    }
                }
            }
        }
        assertEquals(expected, combos);
        List<RotaryConfig> configs = rotary.stream().map(c -> (RotaryConfig) c.config()).distinct().toList();
        assertTrue(configs.stream().allMatch(r -> r.seq() % 2 == 1), "odd S");
        assertTrue(configs.stream().anyMatch(r -> r.heads() % 2 == 1 && r.heads() > 1), "odd H");
        assertTrue(configs.stream().anyMatch(r -> r.batch() > 1));
        assertTrue(configs.stream().anyMatch(r -> r.pairs() % 2 == 1 && r.rotaryDim() < r.headDim()), "odd R/2 < D/2");
        assertTrue(configs.stream().anyMatch(r -> r.dtype() == DType.BF16));
        assertTrue(configs.stream().anyMatch(r -> r.dtype() == DType.F16));
        for (RotaryConfig r : configs) {
            RotaryConfig.Data d = r.data();
            assertEquals(r.seq() * r.pairs(), d.cos().length);
            for (int n = 0; n < d.cos().length; n++) {
                assertEquals(1.0, d.cos()[n] * d.cos()[n] + d.sin()[n] * d.sin()[n], 1e-6, "cos^2 + sin^2");
                if (r.xpos()) assertTrue(d.scale()[n] > 0, "positive xPos scale");
            }
            assertEquals(r.xpos(), d.scale() != null);
        }
    }
}
