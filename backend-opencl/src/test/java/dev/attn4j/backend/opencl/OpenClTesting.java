package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Assumptions;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/** Shared test plumbing: opening the backend, random data, and the pass rule against the oracle. */
final class OpenClTesting {
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
     * docs/design.md §7's rule, as the oracle module's {@link PassRule} applies it: {@code max|golden − actual| ≤
     * max(atol, 5 · max|golden − ref32|)}; NaN never passes, and −∞ (empty rows' lse) must match exactly.
     */
    static void assertClose(String what, double[] golden, double[] ref32, float[] actual) {
        PassRule.check(what, golden, ref32, actual, DType.F32).requirePassed();
    }
}
