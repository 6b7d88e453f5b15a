package dev.attn4j.conformance;

import dev.attn4j.conformance.fixtures.CommittedFixtures;
import dev.attn4j.conformance.fixtures.OpFixture;
import dev.attn4j.conformance.fixtures.OutputCheck;
import dev.attn4j.ports.Backend;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PyTorch-made model-op fixtures replayed on the test-only {@link OracleEngine} (whose kernels are the oracle):
 * the oracle agrees with PyTorch (linear, GELU both ways, cross-entropy with ignored rows, AdamW one and ten steps
 * with weight decay or clipping), and the replay itself works end to end before any backend declares these ports.
 * A corrupted AdamW second moment is caught once it feeds later steps.
 */
class OracleOpFixtureTest {

    @Test
    void theOracleAgreesWithPyTorchOnEveryOpFixture() {
        List<Path> fixtures = CommittedFixtures.ops();
        Set<String> ops = new TreeSet<>();
        OracleEngine engine = new OracleEngine("oracle", OracleEngine.everything(), OracleEngine::honest);
        try (Backend backend = Backend.of(engine)) {
            for (Path path : fixtures) {
                OpFixture f = OpFixture.read(path);
                ops.add(f.op());
                List<OutputCheck> checks = f.check(f.replay(backend));
                assertEquals(f.expected().size(), checks.size());
                assertTrue(checks.stream().allMatch(OutputCheck::passed), () -> f.name() + ":\n  "
                        + checks.stream().map(OutputCheck::toString).collect(Collectors.joining("\n  ")));
            }
            assertEquals(0, engine.liveTensors(), "the replays close every tensor they make");
        }
        assertEquals(Set.of("adamw", "gelu", "linear", "linear_cross_entropy"), ops);
        assertEquals(10, fixtures.size());
    }

    /**
     * After one step the second moment is of order 1e-3·g² (1e-5 and below once clipped), under the pass rule's
     * absolute floor, so only the ten-step fixtures, where a wrong v changes nine later updates, must fail.
     */
    @Test
    void aWrongSecondMomentFailsTheTenStepAdamWFixtures() {
        OracleEngine engine = new OracleEngine("oracle", OracleEngine.everything(), (name, v) -> {
            if (name.equals("expAvgSq")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] *= 1.01f;   // a 1% error in v: about half a percent in the update's denominator
                }
            }
            return v;
        });
        try (Backend backend = Backend.of(engine)) {
            for (Path path : CommittedFixtures.ops()) {
                OpFixture f = OpFixture.read(path);
                if (f.op().equals("adamw") && f.name().contains("10steps")) {
                    List<OutputCheck> checks = f.check(f.replay(backend));
                    assertFalse(checks.stream().allMatch(OutputCheck::passed), f.name());
                }
            }
        }
    }
}
