package dev.attn4j.backend.opencl;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import org.junit.jupiter.api.Assumptions;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared test plumbing: opening the backend, random data, and the fp32-derived comparison rule. */
final class OpenClTesting {
    /** PyTorch's absolute tolerance for fp32. */
    static final double ATOL_F32 = 1e-5;
    /** docs/design.md §7's fudge factor over the naive fp32 computation's own error. */
    static final double FUDGE = 5;

    private OpenClTesting() {
    }

    /**
     * Opens the engine directly (tests reach its leak counters). Without an OpenCL platform the test is
     * skipped with the probe's reason, except on CI ({@code CI=true}), which installs POCL and so must run it.
     */
    static OpenClEngine openEngine() {
        Availability a = new OpenClBackendProvider().probe();
        if (!a.available()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("OpenCL must be available on CI: " + a.reason());
            }
            Assumptions.abort("OpenCL unavailable: " + a.reason());
        }
        return (OpenClEngine) new OpenClBackendProvider().open(BackendOptions.none());
    }

    static Backend openBackend() {
        return Backend.of(openEngine());
    }

    static double[] random(Random rnd, int n, double amplitude) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * amplitude);
        }
        return a;
    }

    static float[] f32(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    /**
     * docs/design.md §7's rule: {@code max|golden − actual| ≤ max(atol, fudge · max|golden − ref32|)}; NaN never
     * passes, and −∞ (empty rows' lse) must match exactly.
     */
    static void assertClose(String what, double[] golden, double[] ref32, float[] actual) {
        assertEquals(golden.length, actual.length, what + ": length");
        double refErr = 0, err = 0;
        int worst = -1;
        for (int i = 0; i < golden.length; i++) {
            if (Double.isInfinite(golden[i])) {
                assertEquals(golden[i], actual[i], what + "[" + i + "]: expected exactly " + golden[i]);
                continue;
            }
            assertTrue(Float.isFinite(actual[i]), what + "[" + i + "] = " + actual[i] + ", expected " + golden[i]);
            refErr = Math.max(refErr, Math.abs(golden[i] - ref32[i]));
            double e = Math.abs(golden[i] - actual[i]);
            if (e > err) {
                err = e;
                worst = i;
            }
        }
        double tol = Math.max(ATOL_F32, FUDGE * refErr);
        if (err > tol) {
            fail(String.format("%s: max error %.3g at [%d] (golden %.8g, got %.8g) exceeds tolerance %.3g "
                    + "(naive fp32 error %.3g)", what, err, worst, golden[worst], actual[worst], tol, refErr));
        }
    }
}
