package dev.attn4j.ports.spi;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.BackendUnavailableException;
import dev.attn4j.ports.fake.HeapEngine;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

/** docs/design.md §2: discovery and selection over explicit providers, with injected property and environment. */
class BackendSelectorTest {
    private static final Function<String, String> UNSET = key -> null;

    static BackendProvider provider(String name, int priority, Availability availability) {
        BackendProvider p = mock(BackendProvider.class, name);
        when(p.name()).thenReturn(name);
        when(p.priority()).thenReturn(priority);
        when(p.probe()).thenReturn(availability);
        when(p.open(any())).thenAnswer(inv -> new HeapEngine(name, HeapEngine.everything()));
        return p;
    }

    static BackendProvider available(String name, int priority) {
        return provider(name, priority, Availability.available(name + " is here", List.of(name + ": device 0")));
    }

    static BackendProvider unavailable(String name, int priority, String reason) {
        return provider(name, priority, Availability.unavailable(reason));
    }

    static BackendSelector selector(List<BackendProvider> providers) {
        return new BackendSelector(providers, UNSET, UNSET);
    }

    static BackendSelector selector(List<BackendProvider> providers, String property, String environment) {
        return new BackendSelector(providers,
                key -> BackendSelector.PROPERTY.equals(key) ? property : null,
                key -> BackendSelector.ENVIRONMENT.equals(key) ? environment : null);
    }

    @Nested
    class Failures {
        @Test
        void noProviderAtAllSaysSoAndListsNothing() {
            var e = assertThrowsExactly(BackendUnavailableException.class, () -> selector(List.of()).select());
            assertEquals(List.of(), e.found());
            assertEquals("no usable attn4j backend; no BackendProvider found on the class path (add attn4j-backend-cpu)",
                    e.getMessage());
        }

        @Test
        void noneUsableListsEveryProviderAndWhy() {
            var s = selector(List.of(unavailable("cuda", 400, "libcuda.so.1 not found"),
                    unavailable("opencl", 200, "no OpenCL platform")));
            var e = assertThrowsExactly(BackendUnavailableException.class, s::select);
            assertEquals("""
                    no usable attn4j backend; providers found:
                      - cuda (priority 400): unavailable - libcuda.so.1 not found
                      - opencl (priority 200): unavailable - no OpenCL platform""", e.getMessage());
            assertEquals(List.of("cuda", "opencl"), e.found().stream().map(ProviderStatus::name).toList());
        }

        @Test
        void namedProviderMissingListsEveryProviderFoundAndWhySkipped() {
            BackendProvider cpu = available("cpu", 100);
            var s = selector(List.of(cpu, unavailable("cuda", 400, "no CUDA driver")), "tornado", null);
            var e = assertThrowsExactly(BackendUnavailableException.class, s::select);
            assertEquals("""
                    backend 'tornado' was requested but no such provider is on the class path; providers found:
                      - cpu (priority 100): available - cpu is here
                      - cuda (priority 400): unavailable - no CUDA driver""", e.getMessage());
            assertEquals(2, e.found().size());
            verify(cpu, never()).open(any());
        }

        @Test
        void namedProviderUnavailableIsAnErrorNeverAFallback() {
            BackendProvider cpu = available("cpu", 100);
            BackendProvider cuda = unavailable("cuda", 400, "no CUDA driver");
            var s = selector(List.of(cpu, cuda), null, "cuda");
            var e = assertThrowsExactly(BackendUnavailableException.class, () -> s.open(BackendOptions.none()));
            assertTrue(e.getMessage().startsWith("backend 'cuda' was requested but is unavailable: no CUDA driver; "
                    + "providers found:"), e.getMessage());
            assertTrue(e.getMessage().contains("cpu (priority 100): available"), e.getMessage());
            verify(cpu, never()).open(any());
            verify(cuda, never()).open(any());
        }

        @Test
        void namedByApiMissing() {
            var s = selector(List.of(available("cpu", 100)));
            var e = assertThrowsExactly(BackendUnavailableException.class, () -> s.open("cuda", BackendOptions.none()));
            assertTrue(e.getMessage().startsWith("backend 'cuda' was requested but no such provider"), e.getMessage());
        }
    }

    @Nested
    class ExplicitName {
        private final BackendProvider cpu = available("cpu", BackendProvider.PRIORITY_CPU);
        private final BackendProvider opencl = available("opencl", BackendProvider.PRIORITY_OPENCL);
        private final List<BackendProvider> both = List.of(cpu, opencl);

        @Test
        void propertyBeatsEnvironment() {
            var s = selector(both, "cpu", "opencl");
            assertEquals("cpu", s.requestedName());
            assertSame(cpu, s.select().provider());
        }

        @Test
        void environmentUsedWhenPropertyUnsetOrBlank() {
            assertSame(cpu, selector(both, null, "cpu").select().provider());
            assertSame(cpu, selector(both, "  ", "cpu").select().provider());
        }

        @Test
        void explicitNameBeatsPriority() {
            assertSame(cpu, selector(both, "cpu", null).select().provider());
            assertSame(opencl, selector(both, null, null).select().provider());
        }

        @Test
        void nameIsTrimmedAndCaseInsensitive() {
            var s = selector(both, " OpenCL ", null);
            assertEquals("opencl", s.requestedName());
            assertSame(opencl, s.select().provider());
        }

        @Test
        void noNameWhenNeitherIsSet() {
            assertNull(selector(both, null, null).requestedName());
            assertNull(selector(both, "", " ").requestedName());
        }
    }

    @Nested
    class Priorities {
        @Test
        void highestAvailablePriorityWins() {
            var s = selector(List.of(available("cpu", 100), available("cuda", 400), available("opencl", 200)));
            assertEquals("cuda", s.select().name());
        }

        @Test
        void unavailableHighPriorityIsSkipped() {
            var s = selector(List.of(available("cpu", 100), unavailable("cuda", 400, "no GPU"), available("opencl", 200)));
            assertEquals("opencl", s.select().name());
        }

        @Test
        void theWellKnownOrderIsCudaTornadoOpenclCpu() {
            assertTrue(BackendProvider.PRIORITY_CUDA > BackendProvider.PRIORITY_TORNADO);
            assertTrue(BackendProvider.PRIORITY_TORNADO > BackendProvider.PRIORITY_OPENCL);
            assertTrue(BackendProvider.PRIORITY_OPENCL > BackendProvider.PRIORITY_CPU);
        }
    }

    @Test
    void providerStatusJavadocExampleCompilesAndRuns() {
        // ProviderStatus's Javadoc example, verbatim (it used to call a constructor the selector does not have)
        for (ProviderStatus s : BackendSelector.fromServiceLoader().survey()) System.out.println(s);
        assertFalse(BackendSelector.fromServiceLoader().survey().isEmpty(), "the test class path registers providers");
    }

    /** docs/design.md §2: what the backend runs on comes before its priority. */
    @Nested
    class DeviceKinds {
        private BackendProvider on(String name, int priority, DeviceKind kind) {
            return provider(name, priority, Availability.available(name + " is here", List.of(name + ": device 0"), kind));
        }

        private final BackendProvider cpu = on("cpu", BackendProvider.PRIORITY_CPU, DeviceKind.HOST);
        private final BackendProvider poclOpencl = on("opencl", BackendProvider.PRIORITY_OPENCL, DeviceKind.HOST_DEVICE);
        private final BackendProvider poclTornado = on("tornado", BackendProvider.PRIORITY_TORNADO, DeviceKind.HOST_DEVICE);

        @Test
        void nativeCpuBeatsOpenclOnPocl() {
            // the case of this project's machines: opencl (priority 200) runs on POCL, the host CPU
            var s = selector(List.of(cpu, poclOpencl));
            assertEquals("cpu", s.select().name());
            assertEquals("cpu (runs on the host CPU (native); preferred to opencl: runs on the host CPU through a "
                    + "device API)", s.explain());
        }

        @Test
        void nativeCpuBeatsTornadoOnPoclWhichBeatsOpenclOnPoclByPriority() {
            var s = selector(List.of(poclOpencl, poclTornado, cpu));
            assertEquals("cpu", s.select().name());
            assertEquals("tornado", selector(List.of(poclOpencl, poclTornado)).select().name());
            assertEquals("tornado (runs on the host CPU through a device API; preferred to opencl: lower priority "
                    + "(200 < 300))", selector(List.of(poclOpencl, poclTornado)).explain());
        }

        @Test
        void anAcceleratorBeatsTheNativeCpuWhateverItsPriority() {
            var gpuOpencl = on("opencl", BackendProvider.PRIORITY_OPENCL, DeviceKind.GPU);
            assertEquals("opencl", selector(List.of(cpu, gpuOpencl, poclTornado)).select().name());
            var fpga = on("fpga", 1, DeviceKind.ACCELERATOR);
            assertEquals("fpga", selector(List.of(cpu, fpga)).select().name());
        }

        @Test
        void gpusTieOnKindAndSplitOnPriority() {
            var cuda = on("cuda", BackendProvider.PRIORITY_CUDA, DeviceKind.GPU);
            var gpuTornado = on("tornado", BackendProvider.PRIORITY_TORNADO, DeviceKind.GPU);
            var gpuOpencl = on("opencl", BackendProvider.PRIORITY_OPENCL, DeviceKind.GPU);
            var s = selector(List.of(cpu, gpuOpencl, gpuTornado, cuda));
            assertEquals("cuda", s.select().name());
            assertEquals("cuda (runs on a GPU; preferred to tornado: lower priority (300 < 400), opencl: lower "
                    + "priority (200 < 400), cpu: runs on the host CPU (native))", s.explain());
        }

        @Test
        void anUnknownKindRanksBelowTheNativeCpu() {
            // a provider that does not say what it runs on cannot be shown to beat the native backend
            var unknown = provider("mystery", 1000, Availability.available("here", List.of()));
            assertEquals(DeviceKind.UNKNOWN, unknown.probe().deviceKind());
            assertEquals("cpu", selector(List.of(unknown, cpu)).select().name());
            assertEquals("opencl", selector(List.of(unknown, poclOpencl)).select().name(), "and below a known host device");
        }

        @Test
        void anExplicitNameStillWinsAndSaysSo() {
            var s = selector(List.of(cpu, poclOpencl), "opencl", null);
            assertEquals("opencl", s.select().name());
            assertEquals("opencl (named by -Dattn4j.backend or ATTN4J_BACKEND)", s.explain());
        }

        @Test
        void theOnlyBackendSaysSo() {
            assertEquals("cpu (runs on the host CPU (native); the only available backend)",
                    selector(List.of(cpu, unavailable("cuda", 400, "no GPU"))).explain());
        }

        @Test
        void unavailableMeansUnknownKind() {
            assertEquals(DeviceKind.UNKNOWN, Availability.unavailable("no").deviceKind());
        }
    }

    @Nested
    class MisbehavingProviders {
        @Test
        void probeThrowingUnsatisfiedLinkErrorIsReportedNotThrown() {
            BackendProvider cpu = available("cpu", 100);
            var s = selector(List.of(cpu, new MissingLibraryProvider()));
            ProviderStatus status = s.survey().get(1);
            assertEquals("native", status.name());
            assertEquals(500, status.priority());
            assertFalse(status.availability().available());
            String reason = status.availability().reason();
            assertTrue(reason.startsWith("probe failed: java.lang.UnsatisfiedLinkError: "), reason);
            assertTrue(reason.contains(MissingLibraryProvider.LIBRARY), reason);
            assertSame(cpu, s.select().provider(), "selection goes on with the others");
        }

        @Test
        void probeFailingInAStaticInitializerIsReportedEveryTime() {
            var first = selector(List.of(new BrokenInitializerProvider())).survey().getFirst();
            assertTrue(first.availability().reason().startsWith("probe failed: java.lang.ExceptionInInitializerError"),
                    first.availability().reason());
            // the class is now unusable: a later probe sees NoClassDefFoundError, still reported not thrown
            var second = selector(List.of(new BrokenInitializerProvider())).survey().getFirst();
            assertTrue(second.availability().reason().startsWith("probe failed: java.lang.NoClassDefFoundError"),
                    second.availability().reason());
        }

        @Test
        void probeThrowingRuntimeExceptionIsReported() {
            BackendProvider p = mock(BackendProvider.class);
            when(p.name()).thenReturn("flaky");
            when(p.priority()).thenReturn(300);
            when(p.probe()).thenThrow(new IllegalStateException("vendor SDK said no"));
            ProviderStatus status = selector(List.of(p)).survey().getFirst();
            assertEquals("flaky", status.name());
            assertEquals("probe failed: java.lang.IllegalStateException: vendor SDK said no",
                    status.availability().reason());
            assertFalse(status.availability().available());
        }

        @Test
        void probeReturningNullIsReported() {
            BackendProvider p = mock(BackendProvider.class);
            when(p.name()).thenReturn("silent");
            ProviderStatus status = selector(List.of(p)).survey().getFirst();
            assertEquals("probe() returned null", status.availability().reason());
        }

        @Test
        void nameThrowingIsReportedUnderTheClassName() {
            BackendProvider p = new NamelessProvider(() -> {
                throw new IllegalStateException("cannot tell");
            });
            BackendProvider cpu = available("cpu", 100);
            var s = selector(List.of(p, cpu));
            ProviderStatus status = s.survey().getFirst();
            assertEquals(NamelessProvider.class.getName(), status.name());
            assertEquals(Integer.MIN_VALUE, status.priority());
            assertNull(status.provider(), "a provider that cannot describe itself can never be opened");
            assertEquals("provider failed to describe itself: java.lang.IllegalStateException: cannot tell",
                    status.availability().reason());
            assertSame(cpu, s.select().provider());
        }

        @Test
        void priorityThrowingIsReported() {
            BackendProvider p = mock(BackendProvider.class);
            when(p.name()).thenReturn("odd");
            when(p.priority()).thenThrow(new ArithmeticException("/ by zero"));
            ProviderStatus status = selector(List.of(p)).survey().getFirst();
            assertFalse(status.availability().available());
            assertTrue(status.availability().reason().contains("ArithmeticException: / by zero"));
            verify(p, never()).probe();
        }

        @Test
        void nullOrBlankNameIsReportedNotACrash() {
            BackendProvider cpu = available("cpu", 100);
            for (String bad : new String[] {null, " "}) {
                var s = selector(List.of(new NamelessProvider(() -> bad), cpu), "cpu", null);
                ProviderStatus status = s.survey().getFirst();
                assertEquals(NamelessProvider.class.getName(), status.name());
                assertFalse(status.availability().available());
                assertNull(status.provider());
                assertSame(cpu, s.select().provider(), "naming a backend still works past a nameless provider");
            }
        }
    }

    @Nested
    class Probing {
        @Test
        void constructingASelectorProbesNothing() {
            BackendProvider p = available("cpu", 100);
            selector(List.of(p), "cpu", null).requestedName();
            verifyNoInteractions(p);
        }

        @Test
        void probeCalledOncePerSurvey() {
            BackendProvider cpu = available("cpu", 100);
            BackendProvider cuda = unavailable("cuda", 400, "no GPU");
            var s = selector(List.of(cpu, cuda));
            s.survey();
            s.survey();
            s.select();
            s.select("cpu");
            s.open(BackendOptions.none()).close();
            assertThrowsExactly(BackendUnavailableException.class, () -> s.select("cuda"));
            verify(cpu, times(1)).probe();
            verify(cuda, times(1)).probe();
            // a new selector is a new survey
            selector(List.of(cpu, cuda)).survey();
            verify(cpu, times(2)).probe();
        }

        @Test
        void surveyKeepsDiscoveryOrderAndDevices() {
            var s = selector(List.of(available("cpu", 100), unavailable("cuda", 400, "no GPU")));
            List<ProviderStatus> found = s.survey();
            assertEquals(List.of("cpu", "cuda"), found.stream().map(ProviderStatus::name).toList());
            assertEquals(List.of("cpu: device 0"), found.getFirst().availability().devices());
            assertEquals("cuda (priority 400): unavailable - no GPU", found.get(1).toString());
        }
    }

    @Nested
    class Opening {
        @Test
        void opensTheSelectedProviderWithMergedOptions() {
            BackendProvider p = available("optprobe", 100);
            System.setProperty("attn4j.optprobe.threads", "3");
            System.setProperty("attn4j.optprobe.device", "1");
            System.setProperty("attn4j.other.device", "9");
            try (Backend backend = selector(List.of(p)).open(BackendOptions.of(Map.of("threads", "2")))) {
                assertEquals("optprobe", backend.name());
                ArgumentCaptor<BackendOptions> options = ArgumentCaptor.forClass(BackendOptions.class);
                verify(p).open(options.capture());
                // system properties give defaults, explicit options win; other backends' keys stay out
                assertEquals(Map.of("threads", "2", "device", "1"), options.getValue().values());
            } finally {
                System.clearProperty("attn4j.optprobe.threads");
                System.clearProperty("attn4j.optprobe.device");
                System.clearProperty("attn4j.other.device");
            }
        }

        @Test
        void openByNameIgnoresPriority() {
            BackendProvider cpu = available("cpu", 100);
            BackendProvider cuda = available("cuda", 400);
            try (Backend backend = selector(List.of(cpu, cuda)).open("cpu", BackendOptions.none())) {
                assertEquals("cpu", backend.name());
            }
            verify(cuda, never()).open(any());
        }
    }

    /** Probes by loading a library that does not exist, as a backend would on a machine without its driver. */
    static final class MissingLibraryProvider implements BackendProvider {
        static final String LIBRARY = "attn4j_test_library_that_does_not_exist";

        @Override
        public String name() {
            return "native";
        }

        @Override
        public int priority() {
            return 500;
        }

        @Override
        @SuppressWarnings("restricted") // the library does not exist: nothing native is ever bound
        public Availability probe() {
            // breaks the contract (a real provider catches this) to prove the selector survives it
            System.loadLibrary(LIBRARY);
            return Availability.available("loaded", List.of());
        }

        @Override
        public BackendEngine open(BackendOptions options) {
            throw new AssertionError("never opened");
        }
    }

    /** Probes through a holder whose static initializer fails, as a vendor class with a missing library does. */
    static final class BrokenInitializerProvider implements BackendProvider {
        static final class Holder {
            static final String VERSION;

            static {
                if (Boolean.parseBoolean("true")) {
                    throw new IllegalStateException("driver version query failed");
                }
                VERSION = "never";
            }

            private Holder() {
            }
        }

        @Override
        public String name() {
            return "broken";
        }

        @Override
        public int priority() {
            return 1;
        }

        @Override
        public Availability probe() {
            return Availability.available(Holder.VERSION, List.of());
        }

        @Override
        public BackendEngine open(BackendOptions options) {
            throw new AssertionError("never opened");
        }
    }

    /** A provider whose name() is whatever the supplier does. */
    static final class NamelessProvider implements BackendProvider {
        private final java.util.function.Supplier<String> name;

        NamelessProvider(java.util.function.Supplier<String> name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name.get();
        }

        @Override
        public int priority() {
            return 1000;
        }

        @Override
        public Availability probe() {
            return Availability.available("claims to work", List.of());
        }

        @Override
        public BackendEngine open(BackendOptions options) {
            throw new AssertionError("never opened");
        }
    }
}
