package dev.attn4j.backend.opencl;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.DeviceKind;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.spi.BackendSelector;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Discovery, probing, device choice and build errors. */
class ProviderTest {

    @Test
    void serviceLoaderFindsTheProvider() {
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("opencl"))
                .findFirst().orElseThrow();
        assertEquals(BackendProvider.PRIORITY_OPENCL, p.priority());
        assertTrue(p instanceof OpenClBackendProvider);
    }

    @Test
    void probeListsDevicesWithTheirLimits() {
        OpenClTesting.openEngine().close();   // skips (or fails on CI) without OpenCL
        Availability a = new OpenClBackendProvider().probe();
        assertTrue(a.available(), a.reason());
        assertFalse(a.devices().isEmpty());
        for (String d : a.devices()) {
            assertTrue(d.matches("opencl:\\d+ .*work-group <= \\d+, local mem \\d+ KiB.*fp16 (yes|no), fp64 (yes|no)\\)"), d);
        }
    }

    @Test
    void probeReportsTheKindOfTheDeviceItWouldOpen() {
        OpenClTesting.openEngine().close();   // skips (or fails on CI) without OpenCL
        Availability a = new OpenClBackendProvider().probe();
        try (OpenClEngine engine = OpenClEngine.open(BackendOptions.fromSystemProperties("opencl"))) {
            assertEquals(Devices.kindOf(engine.device().type()), a.deviceKind(), a.reason());
            // POCL, this project's OpenCL in CI, is the host CPU through a driver: ranked below the native cpu
            if (engine.device().type().equals("CPU")) {
                assertEquals(DeviceKind.HOST_DEVICE, a.deviceKind());
            }
        }
    }

    @Test
    void deviceTypesMapToKinds() {
        assertEquals(DeviceKind.GPU, Devices.kindOf("GPU"));
        assertEquals(DeviceKind.ACCELERATOR, Devices.kindOf("ACCELERATOR"));
        assertEquals(DeviceKind.HOST_DEVICE, Devices.kindOf("CPU"));
        assertEquals(DeviceKind.UNKNOWN, Devices.kindOf("OTHER"));
    }

    @Test
    void failuresBecomeReasons() {
        assertTrue(ProbeFailures.describe(new UnsatisfiedLinkError("Could not load the native library OpenCL"))
                .startsWith("libOpenCL not found"));
        assertTrue(ProbeFailures.describe(new UnsatisfiedLinkError("libJOCL_2_0_6-linux-x86_64.so: bad ELF"))
                .startsWith("the JOCL native library could not be loaded"));
        assertTrue(ProbeFailures.describe(new NoClassDefFoundError("org/jocl/CL")).contains("JOCL is not on the class path"));
        assertTrue(ProbeFailures.describe(new RuntimeException("CL_PLATFORM_NOT_FOUND_KHR"))
                .contains("CL_PLATFORM_NOT_FOUND_KHR"));
        assertTrue(ProbeFailures.describe(new ExceptionInInitializerError(new UnsatisfiedLinkError("no OpenCL")))
                .startsWith("libOpenCL not found"));
    }

    /** A JVM whose ICD loader finds no vendor file: probe answers with a reason and the JVM lives on. */
    @Test
    void probeWithoutAnyPlatformGivesAReason() throws Exception {
        OpenClTesting.openEngine().close();
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ProbeMain.class.getName());
        Map<String, String> env = pb.environment();
        env.put("OCL_ICD_VENDORS", new File("target/no-icd-vendors").getAbsolutePath());
        env.remove("OPENCL_VENDOR_PATH");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe subprocess timed out");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("available=false"), out);
        assertTrue(out.contains("CL_PLATFORM_NOT_FOUND_KHR"), out);
    }

    /** Run by {@link #probeWithoutAnyPlatformGivesAReason} in its own JVM. */
    public static final class ProbeMain {
        public static void main(String[] args) {
            Availability a = new OpenClBackendProvider().probe();
            System.out.println("available=" + a.available() + " reason=" + a.reason());
        }
    }

    @Test
    void deviceOptionSelectsByIndexOrNameAndRejectsUnknownOnes() {
        OpenClTesting.openEngine().close();
        List<ClDevice> all = Devices.discover();
        ClDevice first = all.getFirst();
        assertEquals(first, Devices.select(all, "0"));
        String word = first.name().split("[- ]")[0];
        assertEquals(first.name(), Devices.select(all, word.toUpperCase()).name());
        InvalidRequestException bad = assertThrows(InvalidRequestException.class,
                () -> Devices.select(all, "no-such-device-xyz"));
        assertEquals("device", bad.argument());
        assertThrows(InvalidRequestException.class, () -> Devices.select(all, String.valueOf(all.size())));
        try (OpenClEngine e = (OpenClEngine) new OpenClBackendProvider().open(BackendOptions.of(Map.of("device", "0")))) {
            assertTrue(e.devices().getFirst().startsWith("opencl:0 "), e.devices().getFirst());
        }
    }

    @Test
    void theSelectorPassesTheDeviceSystemProperty() {
        OpenClTesting.openEngine().close();
        String key = "attn4j.opencl.device";
        try {
            System.setProperty(key, "0");
            try (Backend b = BackendSelector.fromServiceLoader().open("opencl", BackendOptions.none())) {
                assertTrue(b.devices().getFirst().startsWith("opencl:0 "), b.devices().getFirst());
            }
            System.setProperty(key, "no-such-device-xyz");
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> BackendSelector.fromServiceLoader().open("opencl", BackendOptions.none()));
            assertTrue(e.getMessage().contains("no-such-device-xyz"), e.getMessage());
        } finally {
            System.clearProperty(key);
        }
    }

    @Test
    void aFailedBuildReportsTheCompilerLog() {
        try (OpenClEngine engine = OpenClTesting.openEngine()) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> engine.kernel("broken.cl", "-DBROKEN=1", "broken"));
            assertEquals("CL_BUILD_PROGRAM_FAILURE", e.errorName());
            assertTrue(e.getMessage().contains("build log"), e.getMessage());
            assertTrue(e.getMessage().contains("undeclared_identifier_here"), e.getMessage());
            assertArrayEqualsZero(engine.liveCode());
        }
    }

    private static void assertArrayEqualsZero(int[] counts) {
        for (int c : counts) assertEquals(0, c, "nothing kept from a failed build");
    }
}
