package dev.attn4j.conformance;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Capabilities;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model ops' runners end to end on the test-only {@link OracleEngine}: honest, it passes every case; an engine
 * without the ports reports every case unsupported (never failed, never passed); one corrupted output fails exactly
 * the cases that read it.
 */
class ModelOpsRunnerTest {
    /** The ops of docs/design.md §9 (the model ports and the tensor port's device-side operations). */
    static final Set<Op> MODEL_OPS = EnumSet.range(Op.LINEAR_FORWARD, Op.TENSOR_FILL);

    private static ConformanceSuite suite;
    private static List<ConformanceCase> cases;

    @BeforeAll
    static void cases() {
        suite = ConformanceSuite.standard();
        cases = suite.cases().stream().filter(c -> MODEL_OPS.contains(c.op())).toList();
    }

    private static List<CaseResult> runOn(Capabilities caps, BiFunction<String, float[], float[]> tamper) {
        OracleEngine engine = new OracleEngine("oracle", caps, tamper);
        List<CaseResult> results = new ArrayList<>();
        try (Backend backend = Backend.of(engine)) {
            cases.forEach(c -> results.add(suite.run(c, backend)));
            assertEquals(0, engine.liveTensors(), "the runners must close every tensor they made");
        }
        return results;
    }

    @Test
    void everyModelOpHasCases() {
        Set<Op> covered = EnumSet.noneOf(Op.class);
        cases.forEach(c -> covered.add(c.op()));
        assertEquals(MODEL_OPS, covered);
        assertTrue(cases.size() > 200, cases.size() + " model-op cases");
    }

    @Test
    void honestEnginePassesEveryModelOpCase() {
        List<CaseResult> results = runOn(OracleEngine.everything(), OracleEngine::honest);
        List<CaseResult> bad = results.stream().filter(r -> r.outcome() != Outcome.PASSED).toList();
        assertTrue(bad.isEmpty(), () -> bad.size() + " not passed, first: " + bad.getFirst());
        assertTrue(results.stream().allMatch(r -> r.errorRatio() <= 1));
    }

    @Test
    void anEngineWithoutTheModelPortsReportsEveryCaseUnsupportedNamingWhatIsMissing() {
        List<CaseResult> results = runOn(OracleEngine.coreOnly(), OracleEngine::honest);
        for (CaseResult r : results) {
            assertEquals(Outcome.UNSUPPORTED, r.outcome(), r.op() + " " + r.caseId() + ": " + r.detail());
            assertFalse(r.detail().isBlank());
        }
        Set<String> details = new java.util.TreeSet<>();
        results.forEach(r -> details.add(r.detail()));
        for (String port : List.of("linear", "activation", "elementwise", "embedding", "loss", "optimizer", "random")) {
            assertTrue(details.contains("the " + port + " port"), port + " in " + details);
        }
        // (a cast to a 16-bit type is unsupported for that dtype first)
        assertTrue(details.containsAll(List.of("tensor view", "tensor copy", "tensor fill")), details.toString());
        assertTrue(details.stream().anyMatch(d -> d.startsWith("dtype BF16")), details.toString());
    }

    /** An output name the engine tampers with, and which cases read it (those must fail, the others pass). */
    record Tamper(String output, Predicate<ConformanceCase> reads) {
        @Override
        public String toString() {
            return output;
        }
    }

    private static Predicate<ConformanceCase> ops(Op... ops) {
        Set<Op> set = EnumSet.of(ops[0], ops);
        return c -> set.contains(c.op());
    }

    static Stream<Tamper> tampers() {
        return Stream.of(
                new Tamper("y", ops(Op.LINEAR_FORWARD, Op.ACTIVATION_FORWARD, Op.GLU_FORWARD, Op.ADD, Op.AXPY,
                        Op.BROADCAST_MULTIPLY_FORWARD, Op.TOKEN_SHIFT_FORWARD, Op.TOKEN_SHIFT_BACKWARD,
                        Op.EMBEDDING_FORWARD)),
                new Tamper("dx", ops(Op.ACTIVATION_BACKWARD, Op.GLU_BACKWARD).or(c ->
                        (c.config() instanceof LinearConfig l && c.op() == Op.LINEAR_BACKWARD && l.inputGrad())
                                || (c.config() instanceof BroadcastMultiplyConfig b && c.op() == Op.BROADCAST_MULTIPLY_BACKWARD
                                && b.inputGrad()))),
                new Tamper("dW", c -> (c.config() instanceof LinearConfig l && c.op() == Op.LINEAR_BACKWARD && l.weightGrad())
                        || (c.config() instanceof CrossEntropyConfig e && e.weightGrad())),
                new Tamper("db", c -> (c.config() instanceof LinearConfig l && c.op() == Op.LINEAR_BACKWARD && l.biasGrad())
                        || (c.config() instanceof CrossEntropyConfig e && e.biasGrad())),
                new Tamper("c", ops(Op.MATMUL)),
                new Tamper("x", ops(Op.SCALE)),
                new Tamper("dv", c -> c.config() instanceof BroadcastMultiplyConfig b
                        && c.op() == Op.BROADCAST_MULTIPLY_BACKWARD && b.vectorGrad()),
                new Tamper("dTable", ops(Op.EMBEDDING_BACKWARD)),
                new Tamper("lossSum", ops(Op.LINEAR_CROSS_ENTROPY)),
                new Tamper("count", ops(Op.LINEAR_CROSS_ENTROPY)),
                new Tamper("perToken", c -> c.config() instanceof CrossEntropyConfig e && e.perToken()),
                new Tamper("dHidden", c -> c.config() instanceof CrossEntropyConfig e && e.inputGrad()),
                new Tamper("params", ops(Op.ADAMW)),
                new Tamper("expAvg", ops(Op.ADAMW)),
                new Tamper("expAvgSq", ops(Op.ADAMW)),
                new Tamper("accumulator", ops(Op.SUM_OF_SQUARES)),
                new Tamper("values", ops(Op.UNIFORM)),
                new Tamper("cast", ops(Op.TENSOR_CAST)),
                new Tamper("filled", ops(Op.TENSOR_FILL, Op.TENSOR_VIEW)));   // the view is written through a fill
    }

    @ParameterizedTest
    @MethodSource("tampers")
    void aCorruptedOutputFailsExactlyTheCasesThatReadIt(Tamper t) {
        // A quarter of the tensor's largest magnitude (at least 0.25), on one element: past every floor and 5·ref error,
        // BF16's included (there the tolerance follows the largest element's rounding, about 1% of it)
        List<CaseResult> results = runOn(OracleEngine.everything(), (name, v) -> {
            if (name.equals(t.output()) && v.length > 0) {
                float max = 1;
                for (float x : v) {
                    max = Math.max(max, Math.abs(x));
                }
                v[v.length / 2] += 0.25f * max;
            }
            return v;
        });
        int failed = 0;
        for (int i = 0; i < cases.size(); i++) {
            ConformanceCase c = cases.get(i);
            CaseResult r = results.get(i);
            Outcome expected = t.reads().test(c) ? Outcome.FAILED : Outcome.PASSED;
            assertEquals(expected, r.outcome(), c.op() + " " + c.id() + ": " + r.detail());
            if (expected == Outcome.FAILED) {
                failed++;
                assertFalse(r.detail().startsWith("threw"), r.detail());
                assertTrue(r.errorRatio() > 1, r.caseId());
            }
        }
        assertTrue(failed > 0, "some case reads " + t.output());
    }

    @Test
    void aOneUlpChangeOfOneUniformValueFailsItsBitForBitCheck() {
        List<CaseResult> results = runOn(OracleEngine.everything(), (name, v) -> {
            if (name.equals("values") && v.length > 2) {
                v[2] = Math.nextUp(v[2]);
            }
            return v;
        });
        for (int i = 0; i < cases.size(); i++) {
            if (cases.get(i).op() == Op.UNIFORM && cases.get(i).config() instanceof UniformConfig u
                    && u.shape().elementCount() > 2 && u.dtype() == dev.attn4j.ports.tensor.DType.F32) {
                assertEquals(Outcome.FAILED, results.get(i).outcome(), results.get(i).caseId());
                assertTrue(results.get(i).detail().contains("bit-exact"), results.get(i).detail());
            }
        }
    }
}
