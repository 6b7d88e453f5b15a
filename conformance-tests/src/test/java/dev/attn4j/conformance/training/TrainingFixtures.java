package dev.attn4j.conformance.training;

import dev.attn4j.domain.data.PackedRow;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.tensor.DType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared by the training tests: the fixture directory, the pass rule on stored reference errors, rows. */
final class TrainingFixtures {
    /** The fixtures make_training_fixtures.py writes (Maven runs tests in the module's directory). */
    static final Path DIR = Path.of("src", "test", "resources", "training");

    private TrainingFixtures() {
    }

    /**
     * The pass rule (docs/design.md §7) when the fixture stores {@code max|golden − ref|} instead of the ref:
     * {@code max|golden − test| ≤ max(atol(F32), 5 · refError)}; NaN never passes.
     */
    static void assertPasses(String name, double[] golden, double refError, float[] test) {
        assertTrue(golden.length == test.length, () -> name + ": " + golden.length + " golden values, " + test.length
                + " tested");
        double tolerance = Math.max(PassRule.atol(DType.F32), PassRule.FUDGE * refError);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < golden.length; i++) {
            double e = Double.isNaN(test[i]) ? Double.POSITIVE_INFINITY : Math.abs(golden[i] - test[i]);
            if (e > worst || at < 0) {
                worst = e;
                at = i;
            }
        }
        double w = worst;
        int i = at;
        assertTrue(worst <= tolerance, () -> String.format("%s: max|golden - test| = %.3g at [%d] (golden %s, test %s) "
                + "> tolerance %.3g (5 * ref error %.3g)", name, w, i, golden[i], test[i], tolerance, refError));
    }

    static double[] doubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** One row per line of {@code ids [rows, length]}: a single document, every token trained. */
    static List<PackedRow> wholeRows(int[] ids, int rows, int length) {
        List<PackedRow> out = new ArrayList<>();
        int[] positions = new int[length];
        Arrays.setAll(positions, t -> t);
        for (int r = 0; r < rows; r++) {
            int[] row = Arrays.copyOfRange(ids, r * length, (r + 1) * length);
            out.add(new PackedRow(row, row, positions, new int[] {length}, new int[] {r}));
        }
        return out;
    }
}
