package dev.attn4j.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;
import java.util.Properties;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The PTX the build wrote into the classes: every kernel the engine looks up is an {@code .entry} of its
 * module, compiled for the virtual architecture the driver JITs from. The build step records whether it found
 * nvcc ({@code kernels/build.properties}): without nvcc the PTX checks are skipped with the probe's reason;
 * with nvcc a missing module is a failure, as it is with {@code -Dattn4j.cuda.requirePtx=true}.
 */
class KernelResourcesTest {
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");

    static Properties buildInfo() {
        Properties p = new Properties();
        try (InputStream in = KernelCatalog.class.getResourceAsStream(KernelCatalog.RESOURCE_DIR + "build.properties")) {
            // the step runs in a profile for unix builds only
            assumeTrue(in != null || !java.io.File.separator.equals("/"), "no PTX build step on this OS");
            assertNotNull(in, "the PTX build step did not run: no " + KernelCatalog.RESOURCE_DIR + "build.properties");
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private static String ptxOrSkip(String module) {
        boolean required = Boolean.getBoolean("attn4j.cuda.requirePtx")
                || "present".equals(buildInfo().getProperty("nvcc"));
        var ptx = KernelCatalog.ptx(module);
        if (required) {
            assertTrue(ptx.isPresent(), module + ".ptx is missing from the classes although PTX is required");
        }
        assumeTrue(ptx.isPresent(), CudaBackendProvider.NO_KERNELS);
        return ptx.orElseThrow();
    }

    static Set<String> entries(String ptx) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void everyAttentionKernelTheEngineLoadsIsAnEntryOfTheModule() {
        Set<String> found = entries(ptxOrSkip(KernelCatalog.ATTENTION));
        List<String> wanted = KernelCatalog.entries(KernelCatalog.ATTENTION);
        assertEquals(3 * (2 + 3 * 4), wanted.size(),
                "3 dtypes x (delta + bias-table gradient + 3 kernels x 4 head-dim buckets)");
        for (String name : wanted) {
            assertTrue(found.contains(name), "attention.ptx has no .entry " + name + "; it has " + found);
        }
    }

    @Test
    void everyNormKernelTheEngineLoadsIsAnEntryOfTheModule() {
        Set<String> found = entries(ptxOrSkip(KernelCatalog.NORM));
        for (String name : KernelCatalog.entries(KernelCatalog.NORM)) {
            assertTrue(found.contains(name), "norm.ptx has no .entry " + name + "; it has " + found);
        }
    }

    @Test
    void everyRotaryKernelTheEngineLoadsIsAnEntryOfTheModule() {
        Set<String> found = entries(ptxOrSkip(KernelCatalog.ROTARY));
        List<String> wanted = KernelCatalog.entries(KernelCatalog.ROTARY);
        assertEquals(List.of("rotary_f32", "rotary_f16", "rotary_bf16"), wanted);
        for (String name : wanted) {
            assertTrue(found.contains(name), "rotary.ptx has no .entry " + name + "; it has " + found);
        }
    }

    @Test
    void everyTensorCoreKernelTheEngineLoadsIsAnEntryOfTheModule() {
        Set<String> found = entries(ptxOrSkip(KernelCatalog.ATTENTION_TC));
        List<String> wanted = KernelCatalog.entries(KernelCatalog.ATTENTION_TC);
        assertEquals(2 * 2 * 2, wanted.size(), "2 dtypes x 2 head-dim buckets x (kernel + shared-size helper)");
        for (String name : wanted) {
            assertTrue(found.contains(name), "attention_tc.ptx has no .entry " + name + "; it has " + found);
        }
    }

    @Test
    void everyKernelOfEveryModuleIsAnEntryOfItsPtx() {
        for (String module : KernelCatalog.modules()) {
            Set<String> found = entries(ptxOrSkip(module));
            for (String name : KernelCatalog.entries(module)) {
                assertTrue(found.contains(name), module + ".ptx has no .entry " + name + "; it has " + found);
            }
        }
    }

    @Test
    void modulesTargetComputeCapability80SoHopperDriversCanJitThem() {
        for (String module : KernelCatalog.modules()) {
            String ptx = ptxOrSkip(module);
            assertTrue(Pattern.compile("(?m)^\\.target sm_80\\b").matcher(ptx).find(),
                    module + ".ptx should target sm_80 (built with -arch=compute_80)");
        }
    }

    @Test
    void theBuildRecordsWhetherItFoundNvccAndThePtxAgrees() {
        String nvcc = buildInfo().getProperty("nvcc");
        assertTrue("present".equals(nvcc) || "absent".equals(nvcc), "nvcc=" + nvcc);
        assertEquals("present".equals(nvcc), KernelCatalog.built(), "nvcc=" + nvcc + " but PTX built=" + KernelCatalog.built());
    }

    @Test
    void theEntryParserReadsPtxEntryLines() {
        String ptx = ".visible .entry attn_fwd_f32_d64(\n\t.param .u64 p0\n)\n.entry other (\n";
        assertEquals(Set.of("attn_fwd_f32_d64", "other"), entries(ptx));
    }
}
