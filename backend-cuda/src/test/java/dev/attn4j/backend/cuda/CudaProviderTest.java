package dev.attn4j.backend.cuda;

import dev.attn4j.ports.BackendUnavailableException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Discovery and probing; on a machine without a CUDA driver (CI) the probe explains, never throws. */
class CudaProviderTest {

    /**
     * Whether this machine has a CUDA driver library at all (its absence is what CI looks like): the dynamic
     * linker's cache, LD_LIBRARY_PATH, or the folders drivers and GPU containers put it in.
     */
    static boolean driverLibraryPresent() {
        try {
            byte[] cache = Files.readAllBytes(Path.of("/etc/ld.so.cache"));
            if (new String(cache, StandardCharsets.ISO_8859_1).contains("libcuda.so.1")) {
                return true;
            }
        } catch (IOException | RuntimeException e) {
            // no cache: look in the folders below
        }
        List<String> dirs = new ArrayList<>(List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/local/cuda/compat",
                "/usr/lib/wsl/lib"));
        String path = System.getenv("LD_LIBRARY_PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        return dirs.stream().anyMatch(dir -> !dir.isEmpty() && Files.exists(Path.of(dir, "libcuda.so.1")));
    }

    @Test
    void serviceLoaderFindsTheCudaProvider() {
        Set<String> names = ServiceLoader.load(BackendProvider.class).stream()
                .map(p -> p.get().name()).collect(Collectors.toSet());
        assertTrue(names.contains("cuda"), "providers found: " + names);
    }

    @Test
    void nameAndPriorityNeedNoDriver() {
        CudaBackendProvider provider = new CudaBackendProvider();
        assertEquals("cuda", provider.name());
        assertEquals(BackendProvider.PRIORITY_CUDA, provider.priority());
    }

    @Test
    void withoutDriverTheProbeReportsTheMissingLibraryAndDoesNotThrow() {
        assumeFalse(driverLibraryPresent(), "this machine has libcuda.so.1");
        Availability first = new CudaBackendProvider().probe();
        assertFalse(first.available());
        assertEquals(CudaBackendProvider.NO_DRIVER, first.reason());
        // a second probe must not turn into NoClassDefFoundError from the failed class initialisation
        Availability second = new CudaBackendProvider().probe();
        assertEquals(first, second);
    }

    @Test
    void withoutDriverOpenFailsWithTheReasonInsteadOfALinkageError() {
        assumeFalse(driverLibraryPresent(), "this machine has libcuda.so.1");
        CudaBackendProvider provider = new CudaBackendProvider();
        provider.probe();
        var e = assertThrows(dev.attn4j.ports.Attn4jException.class,
                () -> provider.open(dev.attn4j.ports.spi.BackendOptions.none()));
        assertTrue(e.getMessage().contains(CudaBackendProvider.NO_DRIVER), e.getMessage());
    }

    @Test
    void selectionNeverPicksAnUnavailableCuda() {
        assumeFalse(driverLibraryPresent(), "this machine has libcuda.so.1");
        BackendSelector selector = new BackendSelector(List.of(new CudaBackendProvider()), k -> null, k -> null);
        var e = assertThrows(BackendUnavailableException.class, selector::select);
        assertTrue(e.getMessage().contains("no usable attn4j backend"), e.getMessage());
        ProviderStatus status = selector.survey().getFirst();
        assertEquals("cuda", status.name());
        assertEquals(CudaBackendProvider.NO_DRIVER, status.availability().reason());
    }

    @Test
    void explicitlyRequestingAnUnavailableCudaIsAnErrorNamingTheReason() {
        assumeFalse(driverLibraryPresent(), "this machine has libcuda.so.1");
        BackendSelector selector = new BackendSelector(List.of(new CudaBackendProvider()),
                k -> k.equals(BackendSelector.PROPERTY) ? "cuda" : null, k -> null);
        var e = assertThrows(BackendUnavailableException.class, selector::select);
        assertTrue(e.getMessage().contains(CudaBackendProvider.NO_DRIVER), e.getMessage());
    }

    @Test
    void withADriverTheProbeAnswersWithoutThrowing() {
        assumeTrue(driverLibraryPresent(), "no libcuda.so.1 on this machine");
        Availability a = new CudaBackendProvider().probe();
        assertNotEquals(CudaBackendProvider.NO_DRIVER, a.reason());
        if (!KernelCatalog.built()) {
            assertFalse(a.available(), "available without kernels: " + a.reason());
        }
    }

    @Test
    void linkErrorsMentioningLibcudaBecomeTheNoDriverReason() {
        var e = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"");
        e.initCause(new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file: No such file or directory"));
        assertEquals(CudaBackendProvider.NO_DRIVER, CudaBackendProvider.linkReason(e));
        String other = CudaBackendProvider.linkReason(new UnsatisfiedLinkError("no JCudaDriver in java.library.path"));
        assertTrue(other.startsWith("the JCuda driver library could not be loaded"), other);
    }
}
