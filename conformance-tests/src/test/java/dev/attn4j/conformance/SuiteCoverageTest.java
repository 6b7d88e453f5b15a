package dev.attn4j.conformance;

import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The standard suite holds what the issue asks for, and its ids are stable and unique. */
class SuiteCoverageTest {
    private final ConformanceSuite suite = ConformanceSuite.of(ConformanceSuite.STANDARD_ATTENTION,
            ConformanceSuite.STANDARD_NORM, ConformanceSuite.SEED);

    private List<AttentionConfig> attention() {
        return suite.cases().stream().filter(c -> c.op() == Op.ATTENTION_FORWARD)
                .map(c -> (AttentionConfig) c.config()).toList();
    }

    private List<NormConfig> norm() {
        return suite.cases().stream().filter(c -> c.op() == Op.NORM_FORWARD)
                .map(c -> (NormConfig) c.config()).toList();
    }

    @Test
    void standardHasAtLeast300CoreAttentionAnd100F32NormConfigurations() {
        assertTrue(attention().stream().filter(AttentionConfig::core).count() >= 300);
        assertTrue(norm().stream().filter(NormConfig::core).count() >= 100);
    }

    @Test
    void everyConfigurationYieldsAForwardAndABackwardCase() {
        assertEquals(2 * (attention().size() + norm().size()), suite.cases().size());
        Set<Op> ops = suite.cases().stream().map(ConformanceCase::op).collect(Collectors.toSet());
        assertEquals(Set.of(Op.ATTENTION_FORWARD, Op.ATTENTION_BACKWARD, Op.NORM_FORWARD, Op.NORM_BACKWARD), ops);
    }

    @Test
    void coreCoversEveryHeadDimGqaRatioMqaAndCausalBothWays() {
        List<AttentionConfig> core = attention().stream().filter(AttentionConfig::core).toList();
        Set<Integer> dims = core.stream().map(AttentionConfig::headDim).collect(Collectors.toSet());
        assertEquals(Set.of(16, 32, 40, 64, 80, 96, 128, 256), dims);
        Set<Integer> ratios = core.stream().filter(c -> c.kvHeads() > 1 || c.heads() == 1 || c.heads() == 8)
                .map(c -> c.heads() / c.kvHeads()).collect(Collectors.toSet());
        assertTrue(ratios.containsAll(Set.of(1, 2, 4, 8)), "GQA ratios " + ratios);
        assertTrue(core.stream().anyMatch(c -> c.kvHeads() == 1 && c.heads() > 1), "MQA");
        for (int d : dims) {
            for (boolean causal : new boolean[] {false, true}) {
                assertTrue(core.stream().anyMatch(c -> c.headDim() == d && c.causal() == causal), "D " + d + " causal " + causal);
            }
        }
    }

    @Test
    void coreCoversSingleTokensUnequalLengthsFullyMaskedRowsAndNonTileSizes() {
        List<AttentionConfig> core = attention().stream().filter(AttentionConfig::core).toList();
        assertTrue(core.stream().anyMatch(c -> c.seqQ() == 1), "Sq = 1");
        assertTrue(core.stream().anyMatch(c -> c.seqK() == 1), "Sk = 1");
        assertTrue(core.stream().anyMatch(c -> c.seqQ() == c.seqK()), "Sq = Sk");
        assertTrue(core.stream().anyMatch(c -> c.seqQ() < c.seqK()), "Sq < Sk");
        assertTrue(core.stream().anyMatch(c -> c.causal() && c.seqQ() > c.seqK()), "causal with Sq > Sk");
        assertTrue(core.stream().anyMatch(c -> c.seqK() % 16 != 0 && c.seqK() > 16 && c.seqQ() % 16 != 0 && c.seqQ() > 16),
                "lengths that are not tile multiples");
        assertTrue(core.stream().anyMatch(c -> c.seqK() % 16 == 0 && c.seqK() >= 32), "lengths that are tile multiples");
        assertTrue(core.stream().anyMatch(c -> c.batch() > 1));
        assertTrue(core.stream().filter(c -> Math.max(c.seqQ(), c.seqK()) > 128).count() >= 10, "lengths past 128");
        assertTrue(core.stream().anyMatch(c -> c.scale() != null), "explicit scale");
        assertTrue(core.stream().anyMatch(c -> c.seqQ() % 2 == 1 && c.headDim() == 40), "odd sizes");
    }

    @Test
    void featureConfigurationsCoverEveryOption() {
        List<AttentionConfig> all = attention();
        assertTrue(all.stream().anyMatch(c -> c.windowLeft() >= 0 && c.windowRight() >= 0));
        assertTrue(all.stream().anyMatch(c -> c.softcap() > 0));
        assertTrue(all.stream().anyMatch(c -> c.alibi() == AttentionConfig.Alibi.PER_HEAD));
        assertTrue(all.stream().anyMatch(c -> c.alibi() == AttentionConfig.Alibi.PER_BATCH_HEAD));
        assertTrue(all.stream().anyMatch(AttentionConfig::biasTable));
        assertTrue(all.stream().anyMatch(AttentionConfig::denseBias));
        assertTrue(all.stream().anyMatch(AttentionConfig::denseMask));
        assertTrue(all.stream().anyMatch(c -> c.dropoutP() > 0));
        assertTrue(all.stream().anyMatch(AttentionConfig::deterministic));
        assertTrue(all.stream().anyMatch(c -> c.dtype() == DType.BF16));
        assertTrue(all.stream().anyMatch(c -> c.dtype() == DType.F16));
        for (int n : new int[] {1, 2, 4}) {
            assertTrue(all.stream().anyMatch(c -> c.flashMaskN() == n), "flashmask n=" + n);
        }
        assertTrue(all.stream().anyMatch(c -> c.flashMaskN() == 2 && c.causal()));
        assertTrue(all.stream().anyMatch(c -> c.flashMaskN() == 2 && !c.causal()));
        assertTrue(all.stream().anyMatch(c -> c.flashMaskN() > 0 && c.flashMaskHeads() < c.heads()), "shared mask heads");
    }

    @Test
    void normCoversBothKindsBetaResidualDeepNormAndDSum() {
        List<NormConfig> n = norm();
        assertTrue(n.stream().anyMatch(c -> c.kind() == NormKind.LAYER_NORM && c.beta()));
        assertTrue(n.stream().anyMatch(c -> c.kind() == NormKind.LAYER_NORM && !c.beta()));
        assertTrue(n.stream().anyMatch(c -> c.kind() == NormKind.RMS_NORM));
        assertTrue(n.stream().anyMatch(c -> c.residual() && c.alpha() == 1.0));
        assertTrue(n.stream().anyMatch(c -> c.residual() && c.alpha() > 1.0));
        assertTrue(n.stream().anyMatch(NormConfig::dSum));
        assertTrue(n.stream().anyMatch(c -> c.outer() > 1));
        assertTrue(n.stream().anyMatch(c -> c.cols() == 1) && n.stream().anyMatch(c -> c.cols() >= 1000));
    }

    @Test
    void idsAreStableAndUnique() {
        ConformanceSuite again = ConformanceSuite.of(ConformanceSuite.STANDARD_ATTENTION, ConformanceSuite.STANDARD_NORM,
                ConformanceSuite.SEED);
        List<String> ids = suite.cases().stream().map(c -> c.op() + " " + c.id()).toList();
        assertEquals(ids, again.cases().stream().map(c -> c.op() + " " + c.id()).toList());
        assertEquals(ids.size(), new HashSet<>(ids).size(), "ids are unique");
        AttentionConfig first = attention().getFirst();
        assertEquals(java.util.Arrays.toString(first.data().problem().q()),
                java.util.Arrays.toString(again.cases().stream().filter(c -> c.config() instanceof AttentionConfig)
                        .map(c -> (AttentionConfig) c.config()).findFirst().orElseThrow().data().problem().q()));
    }

    @Test
    void propertiesChooseTheSweep() {
        String sweep = System.getProperty(ConformanceSuite.SWEEP_PROPERTY);
        String cases = System.getProperty(ConformanceSuite.CASES_PROPERTY);
        try {
            System.clearProperty(ConformanceSuite.CASES_PROPERTY);
            System.setProperty(ConformanceSuite.SWEEP_PROPERTY, "large");
            // Every sweep adds the systematic cases (grid, 12 random + 54 grid configurations again in the BHSD
            // layout, rotary, the model ops) to its random ones.
            int systematic = ConformanceSuite.full(0, 0, ConformanceSuite.SEED).cases().size();
            assertTrue(systematic > 2 * (216 + 54 + 10), "grid, BHSD, rotary and model-op cases: " + systematic);
            assertEquals(2 * (4000 + 1200 + 12) + systematic, ConformanceSuite.standard().cases().size());
            System.setProperty(ConformanceSuite.SWEEP_PROPERTY, "standard");
            assertEquals(2 * (400 + 120 + 12) + systematic, ConformanceSuite.standard().cases().size());
            System.setProperty(ConformanceSuite.CASES_PROPERTY, "600");
            assertEquals(2 * (600 + 200 + 12) + systematic, ConformanceSuite.standard().cases().size());
            System.setProperty(ConformanceSuite.CASES_PROPERTY, "many");
            assertThrows(IllegalArgumentException.class, ConformanceSuite::standard);
            System.clearProperty(ConformanceSuite.CASES_PROPERTY);
            System.setProperty(ConformanceSuite.SWEEP_PROPERTY, "huge");
            assertThrows(IllegalArgumentException.class, ConformanceSuite::standard);
        } finally {
            restore(ConformanceSuite.SWEEP_PROPERTY, sweep);
            restore(ConformanceSuite.CASES_PROPERTY, cases);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) System.clearProperty(key);
        else System.setProperty(key, value);
    }
}
