package dev.attn4j.conformance;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Capabilities;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner end to end on a test-only engine built from the oracle in the tested dtype: honest, it passes
 * every case; corrupted in any output, the suite fails exactly the cases that read that output.
 */
class ConformanceRunnerTest {
    /** The ops of an engine with attention and norm kernels (the non-finite rule's cases are attention calls). */
    private static final java.util.Set<Op> ATTENTION_AND_NORM = java.util.EnumSet.of(Op.ATTENTION_FORWARD,
            Op.ATTENTION_BACKWARD, Op.ATTENTION_NONFINITE, Op.ATTENTION_NONFINITE_BACKWARD, Op.NORM_FORWARD,
            Op.NORM_BACKWARD);
    /** Small enough to run in a few seconds, large enough to hold every feature kind (18) once. */
    private static ConformanceSuite suite;

    @BeforeAll
    static void suite() {
        suite = ConformanceSuite.of(96, 24, 20261123L);
    }

    private static List<CaseResult> runOn(Capabilities caps, BiFunction<String, float[], float[]> tamper) {
        return runOn(caps, tamper, c -> true);
    }

    /** Runs the cases {@code which} selects (the tampering tests run only the ops that read what they corrupt). */
    private static List<CaseResult> runOn(Capabilities caps, BiFunction<String, float[], float[]> tamper,
                                          Predicate<ConformanceCase> which) {
        OracleEngine engine = new OracleEngine("oracle", caps, tamper);
        List<CaseResult> results = new ArrayList<>();
        try (Backend backend = Backend.of(engine)) {
            suite.cases().stream().filter(which).forEach(c -> results.add(suite.run(c, backend)));
            assertEquals(0, engine.liveTensors(), "the runner must close every tensor it made");
        }
        return results;
    }

    @Test
    void honestEngineDeclaringEverythingPassesEveryCase() {
        List<CaseResult> results = runOn(OracleEngine.everything(), OracleEngine::honest);
        assertEquals(suite.cases().size(), results.size());
        List<CaseResult> bad = results.stream().filter(r -> r.outcome() != Outcome.PASSED).toList();
        assertTrue(bad.isEmpty(), () -> bad.size() + " not passed, first: " + bad.getFirst());
        assertTrue(results.stream().allMatch(r -> r.errorRatio() <= 1 && r.detail().isEmpty()));
    }

    @Test
    void independentTiledFloatImplementationPassesEveryStandardCase() {
        // A FlashAttention-2-style fp32 engine whose rounding differs from the ref's (online softmax, FMA, tiles,
        // Welford norms): the tolerance must admit it. Worst error ratio measured: 0.79 (an F16 RMSNorm with C = 1).
        ConformanceSuite standard = ConformanceSuite.standard();
        List<CaseResult> results;
        try (Backend backend = Backend.of(new TiledFloatEngine())) {
            results = standard.runAll(backend, r -> { });
        }
        List<CaseResult> failed = results.stream().filter(r -> r.outcome() == Outcome.FAILED).toList();
        assertTrue(failed.isEmpty(), () -> failed.size() + " failed, e.g. " + failed.stream().limit(3).toList());
        // It has attention and norm kernels only and reads [B, S, H, D] only: the rotary, BHSD and model-op cases are
        // unsupported (the port, BHSD_LAYOUT, a 16-bit dtype it does not store, or a tensor operation it does not
        // declare), everything else passes. (cpu and opencl run the BHSD cases in BackendConformanceTest.)
        Predicate<CaseResult> bhsd = r -> r.caseId().endsWith(" bhsd");
        Predicate<CaseResult> other = r -> !ATTENTION_AND_NORM.contains(r.op()) || bhsd.test(r);
        assertEquals(results.size() - count(results, other), count(results, r -> r.outcome() == Outcome.PASSED));
        assertTrue(count(results, other) > 0);
        assertTrue(results.stream().filter(other).allMatch(r -> r.outcome() == Outcome.UNSUPPORTED), () ->
                results.stream().filter(other).filter(r -> r.outcome() != Outcome.UNSUPPORTED).findFirst().toString());
        assertTrue(results.stream().filter(r -> r.op() == Op.ROTARY).allMatch(r -> r.detail().equals("the rotary port")));
        assertTrue(count(results, bhsd) > 0);
        assertTrue(results.stream().filter(bhsd).allMatch(r -> r.detail().equals("BHSD_LAYOUT")));
        assertTrue(count(results, r -> r.outcome() == Outcome.PASSED && r.caseId().startsWith("g")) >= 2 * 216);
        assertTrue(count(results, r -> r.outcome() == Outcome.PASSED && r.caseId().endsWith(" bf16")) > 0);
        assertTrue(count(results, r -> r.outcome() == Outcome.PASSED && r.caseId().endsWith(" f16")) > 0);
    }

    @Test
    void coreOnlyEngineReportsFeatureCasesUnsupportedWithTheCapability() {
        List<CaseResult> results = runOn(OracleEngine.coreOnly(), OracleEngine::honest);
        Map<Outcome, Long> counts = results.stream().collect(Collectors.groupingBy(CaseResult::outcome, Collectors.counting()));
        assertFalse(counts.containsKey(Outcome.FAILED), () -> "failed: " + results.stream()
                .filter(r -> r.outcome() == Outcome.FAILED).findFirst().orElseThrow());
        Map<String, CaseResult> byKey = results.stream().collect(Collectors.toMap(r -> r.op() + r.caseId(), r -> r));
        for (ConformanceCase c : suite.cases()) {
            CaseResult r = byKey.get(c.op() + c.id());
            boolean core = switch (c.config()) {
                // Deterministic is a backward option: its forward case needs nothing beyond the core.
                case AttentionConfig a -> a.core() || (!c.backward() && a.deterministic()
                        && a.dtype() == dev.attn4j.ports.tensor.DType.F32 && a.softcap() == 0);
                case NormConfig n -> n.core();
                default -> throw new AssertionError("unexpected configuration " + c.config());
            };
            assertEquals(core ? Outcome.PASSED : Outcome.UNSUPPORTED, r.outcome(), c.id());
            if (!core) {
                assertFalse(r.detail().isBlank(), "an unsupported case names the capability: " + c.id());
                assertTrue(Double.isNaN(r.errorRatio()));
            }
        }
        assertTrue(results.stream().anyMatch(r -> r.detail().equals("DROPOUT")));
        assertTrue(results.stream().anyMatch(r -> r.detail().equals("FLASH_MASK")));
        assertTrue(results.stream().anyMatch(r -> r.detail().startsWith("dtype BF16")));
    }

    /** The standard suite's grid and rotary cases (not in the small random suite above). */
    private static List<ConformanceCase> systematic() {
        return ConformanceSuite.standard().cases().stream()
                .filter(c -> c.config() instanceof RotaryConfig
                        || (c.config() instanceof AttentionConfig a && a.grid())).toList();
    }

    private static List<CaseResult> runSystematic(Capabilities caps, BiFunction<String, float[], float[]> tamper) {
        return runSystematic(caps, tamper, c -> true);
    }

    private static List<CaseResult> runSystematic(Capabilities caps, BiFunction<String, float[], float[]> tamper,
                                                  Predicate<ConformanceCase> which) {
        OracleEngine engine = new OracleEngine("oracle", caps, tamper);
        List<CaseResult> results = new ArrayList<>();
        try (Backend backend = Backend.of(engine)) {
            systematic().stream().filter(which).forEach(c -> results.add(suite.run(c, backend)));
            assertEquals(0, engine.liveTensors(), "the runner must close every tensor it made");
        }
        return results;
    }

    @Test
    void honestEnginePassesEveryRotaryCase() {
        // (The grid's attention cases are passed by the independent tiled engine above.)
        List<CaseResult> results = runSystematic(OracleEngine.everything(), OracleEngine::honest,
                c -> c.config() instanceof RotaryConfig);
        assertEquals(2 * 10, results.size());
        List<CaseResult> bad = results.stream().filter(r -> r.outcome() != Outcome.PASSED).toList();
        assertTrue(bad.isEmpty(), () -> bad.size() + " not passed, first: " + bad.getFirst());
    }

    @Test
    void coreOnlyEngineRunsOnlyThePlainGridCellsAndReportsRotaryUnsupported() {
        Map<String, CaseResult> byKey = runSystematic(OracleEngine.coreOnly(), OracleEngine::honest).stream()
                .collect(Collectors.toMap(r -> r.op() + " " + r.caseId(), r -> r));
        for (ConformanceCase c : systematic()) {
            CaseResult r = byKey.get(c.op() + " " + c.id());
            boolean plain = c.config() instanceof AttentionConfig a && a.core();
            assertEquals(plain ? Outcome.PASSED : Outcome.UNSUPPORTED, r.outcome(), c.op() + " " + c.id());
            if (c.config() instanceof RotaryConfig rc) {
                // The facade checks the dtype before the capability.
                assertEquals(rc.dtype() == dev.attn4j.ports.tensor.DType.F32 ? "the rotary port"
                        : "dtype " + rc.dtype() + " (tensors)", r.detail(), c.id());
            }
        }
        // The none/none cells without dropout: 2 causal values x 3 GQA families, minus those that drew dropout.
        long plain = byKey.values().stream().filter(r -> r.outcome() == Outcome.PASSED).count();
        assertTrue(plain >= 2 * 4 && plain <= 2 * 6, plain + " plain grid cases");
    }

    @Test
    void wrongRotaryOutputFailsEveryRotaryCase() {
        List<CaseResult> results = runSystematic(OracleEngine.everything(), (name, v) -> {
            if (name.equals("x")) v[v.length - 1] += 1f; // past R when R < D: pass-through must be exact too
            return v;
        }, c -> c.config() instanceof RotaryConfig);
        assertEquals(2 * 10, results.size());
        for (CaseResult r : results) {
            assertEquals(Outcome.FAILED, r.outcome(), r.op() + " " + r.caseId());
            assertTrue(r.detail().startsWith(r.op() == Op.ROTARY ? "y:" : "dx:"), r.detail());
        }
    }

    @Test
    void perturbedOutputFailsEveryF32ForwardCase() {
        List<CaseResult> results = runOn(OracleEngine.everything(), (name, v) -> {
            if (name.equals("o")) v[v.length / 2] += 1e-3f;
            return v;
        }, c -> c.op() == Op.ATTENTION_FORWARD || c.op() == Op.NORM_FORWARD);
        for (CaseResult r : results) {
            boolean f32Forward = r.op() == Op.ATTENTION_FORWARD && r.caseId().contains(" f32");
            if (f32Forward) {
                assertEquals(Outcome.FAILED, r.outcome(), r.caseId());
                assertTrue(r.detail().startsWith("o: max|golden-test|"), r.detail());
                assertTrue(r.errorRatio() > 1);
            } else if (r.op() != Op.ATTENTION_FORWARD) {
                assertEquals(Outcome.PASSED, r.outcome(), r.caseId());
            }
        }
    }

    @Test
    void smallRelativeErrorInGradientsIsCaught() {
        List<CaseResult> results = runOn(OracleEngine.everything(), (name, v) -> {
            if (name.equals("dk")) {
                for (int i = 0; i < v.length; i++) v[i] *= 1.001f;
            }
            return v;
        }, c -> c.op() == Op.ATTENTION_BACKWARD);
        long failed = count(results, r -> r.op() == Op.ATTENTION_BACKWARD && r.outcome() == Outcome.FAILED);
        long backward = count(results, r -> r.op() == Op.ATTENTION_BACKWARD);
        // dk is zero in some cases (Sk = 1: the softmax gradient w.r.t. a lone key vanishes), so not all fail.
        assertTrue(failed > backward / 2, failed + " of " + backward + " backward cases failed");
        assertTrue(results.stream().filter(r -> r.outcome() == Outcome.FAILED).allMatch(r -> r.detail().startsWith("dk")));
    }

    @Test
    void nanNeverPasses() {
        List<CaseResult> results = runOn(OracleEngine.everything(), (name, v) -> {
            if (name.equals("rstd")) v[0] = Float.NaN;
            return v;
        }, c -> c.op() == Op.NORM_FORWARD);
        List<CaseResult> norms = results.stream().filter(r -> r.op() == Op.NORM_FORWARD).toList();
        assertFalse(norms.isEmpty());
        assertAll(norms.stream().map(r -> () -> {
            assertEquals(Outcome.FAILED, r.outcome(), r.caseId());
            assertTrue(r.detail().contains("NaN"), r.detail());
        }));
    }

    @Test
    void fullyMaskedRowsMustReportMinusInfinityLse() {
        List<CaseResult> results = runOn(OracleEngine.everything(), (name, v) -> {
            if (name.equals("lse")) {
                for (int i = 0; i < v.length; i++) {
                    if (v[i] == Float.NEGATIVE_INFINITY) v[i] = -1e30f;
                }
            }
            return v;
        }, c -> c.op() != Op.ATTENTION_BACKWARD);
        long failed = count(results, r -> r.outcome() == Outcome.FAILED);
        assertTrue(failed > 0, "some cases have fully masked rows (causal with Sq > Sk)");
        assertTrue(results.stream().filter(r -> r.outcome() == Outcome.FAILED)
                .allMatch(r -> r.op() == Op.ATTENTION_FORWARD && r.detail().startsWith("lse")));
    }

    @Test
    void droppingOtherElementsFailsTheDropoutCases() {
        // An engine that follows another counter offset drops other elements: the bit-for-bit promise is broken.
        OracleEngine engine = new OracleEngine("oracle", OracleEngine.everything(), OracleEngine::honest)
                .shiftDropoutOffset(1);
        List<ConformanceCase> dropout = suite.cases().stream()
                .filter(c -> c.config() instanceof AttentionConfig a && a.dropoutP() > 0).toList();
        assertTrue(dropout.size() >= 4);
        try (Backend backend = Backend.of(engine)) {
            long failed = dropout.stream().filter(c -> suite.run(c, backend).outcome() == Outcome.FAILED).count();
            // A one-element row may keep its only key under both masks, so demand most, not all.
            assertTrue(failed >= dropout.size() * 3 / 4, failed + " of " + dropout.size() + " dropout cases failed");
        }
    }

    @Test
    void throwingEngineFailsWithTheExceptionAsDetail() {
        List<CaseResult> results = runOn(OracleEngine.everything(), (name, v) -> {
            throw new UnsupportedOperationException("kernel not written yet");
        });
        assertTrue(results.stream().allMatch(r -> r.outcome() == Outcome.FAILED
                && r.detail().contains("kernel not written yet") && Double.isNaN(r.errorRatio())));
    }

    @Test
    void skipAllReportsEveryCaseSkippedWithTheReason() {
        List<CaseResult> skipped = suite.skipAll("cuda", "no CUDA driver");
        assertEquals(suite.cases().size(), skipped.size());
        assertTrue(skipped.stream().allMatch(r -> r.outcome() == Outcome.SKIPPED && r.backend().equals("cuda")
                && r.detail().equals("no CUDA driver")));
    }

    private static long count(List<CaseResult> results, Predicate<CaseResult> p) {
        return results.stream().filter(p).count();
    }
}
