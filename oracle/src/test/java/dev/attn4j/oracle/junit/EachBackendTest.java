package dev.attn4j.oracle.junit;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * {@link EachBackend} run through the JUnit launcher on sample test classes (nested, so surefire does not run
 * them itself) against two test-only providers: {@code fake} (available) and {@code absent} (unavailable).
 */
class EachBackendTest {

    /** What happened to each invocation, by display name ({@code fake}, {@code absent}). */
    record Outcome(String status, String message) {
    }

    private static Map<String, Outcome> run(Class<?> sample) {
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        TestExecutionListener listener = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                outcomes.put(id.getDisplayName(), new Outcome("SKIPPED", reason));
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    outcomes.put(id.getDisplayName(), new Outcome(result.getStatus().name(),
                            result.getThrowable().map(Throwable::getMessage).orElse("")));
                }
            }
        };
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(sample)).build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, listener);
        return outcomes;
    }

    @Test
    void runsOnEveryAvailableBackendAndSkipsTheOthersWithTheirReason() {
        int opened = FakeProviders.OPENED.get();
        Map<String, Outcome> out = run(Honest.class);
        assertEquals(List.of("fake", "absent"), List.copyOf(out.keySet()), out.toString());
        assertEquals("SUCCESSFUL", out.get("fake").status(), out.toString());
        assertEquals("SKIPPED", out.get("absent").status());
        assertTrue(out.get("absent").message().contains(FakeProviders.ABSENT_REASON), out.get("absent").message());
        assertEquals(opened + 1, FakeProviders.OPENED.get(), "only the available backend is opened");
        assertEquals(FakeProviders.OPENED.get(), FakeProviders.CLOSED.get(), "and closed after the test");
    }

    @Test
    void aTensorLeftOpenFailsTheTest() {
        Map<String, Outcome> out = run(Leaky.class);
        assertEquals("FAILED", out.get("fake").status(), out.toString());
        assertTrue(out.get("fake").message().contains("1 tensor(s) left open"), out.get("fake").message());
        assertEquals(FakeProviders.OPENED.get(), FakeProviders.CLOSED.get(), "closed even so");
    }

    @Test
    void aFailingTestKeepsItsOwnVerdictWithoutALeakReport() {
        Map<String, Outcome> out = run(FailsAndLeaks.class);
        assertEquals("FAILED", out.get("fake").status());
        assertEquals("the test's own failure", out.get("fake").message());
    }

    @Test
    void aTensorClosedInAfterEachIsNoLeak() {
        Map<String, Outcome> out = run(ClosesInAfterEach.class);
        assertEquals("SUCCESSFUL", out.get("fake").status(), out.toString());
    }

    @Test
    void anUndeclaredPortIsReportedUnsupportedNotPassed() {
        Map<String, Outcome> out = run(NeedsLinear.class);
        assertEquals("ABORTED", out.get("fake").status(), out.toString());
        assertTrue(out.get("fake").message().contains("unsupported: backend 'fake' does not declare LinearCapabilities"),
                out.get("fake").message());
        assertEquals(FakeProviders.OPENED.get(), FakeProviders.CLOSED.get());
    }

    @Test
    void namedBackendsAndOptionsAreHonoured() {
        Map<String, Outcome> out = run(NamedWithOptions.class);
        assertEquals(List.of("fake"), List.copyOf(out.keySet()), out.toString());
        assertEquals("SUCCESSFUL", out.get("fake").status(), out.toString());
    }

    @Test
    void aRequiredBackendThatIsUnavailableFails() {
        String before = System.getProperty(EachBackendExtension.REQUIRED_PROPERTY);
        System.setProperty(EachBackendExtension.REQUIRED_PROPERTY, "opencl, absent");
        try {
            Map<String, Outcome> out = run(Honest.class);
            assertEquals("FAILED", out.get("absent").status(), out.toString());
            assertTrue(out.get("absent").message().contains(FakeProviders.ABSENT_REASON));
            assertEquals("SUCCESSFUL", out.get("fake").status());
        } finally {
            if (before == null) {
                System.clearProperty(EachBackendExtension.REQUIRED_PROPERTY);
            } else {
                System.setProperty(EachBackendExtension.REQUIRED_PROPERTY, before);
            }
        }
    }

    // ---- samples, run only through the launcher above ----

    static class Honest {
        @EachBackend
        void roundTrip(Backend backend) {
            try (DeviceTensor t = backend.tensors().upload(new float[] {1, 2}, Shape.of(2), DType.F32)) {
                assertEquals(2f, backend.tensors().download(t)[1]);
            }
        }
    }

    static class Leaky {
        @EachBackend
        void leaves(Backend backend) {
            backend.tensors().upload(new float[] {1}, Shape.of(1), DType.F32);
        }
    }

    static class FailsAndLeaks {
        @EachBackend("fake")
        void fails(Backend backend) {
            backend.tensors().upload(new float[] {1}, Shape.of(1), DType.F32);
            throw new AssertionError("the test's own failure");
        }
    }

    static class ClosesInAfterEach {
        private DeviceTensor kept;

        @EachBackend("fake")
        void keeps(Backend backend) {
            kept = backend.tensors().upload(new float[] {1}, Shape.of(1), DType.F32);
        }

        @AfterEach
        void close() {
            kept.close();
        }
    }

    static class NeedsLinear {
        @EachBackend(value = "fake", ports = LinearCapabilities.class)
        void linear(Backend backend) {
            throw new AssertionError("must not run: fake declares no linear port");
        }
    }

    static class NamedWithOptions {
        @EachBackend(value = "FAKE", options = {"threads=3", "mode = fast"})
        void named(Backend backend) {
            assertEquals("fake", backend.name());
            String devices = backend.devices().getFirst();
            assertTrue(devices.contains("threads=3") && devices.contains("mode=fast"), devices);
        }
    }
}
