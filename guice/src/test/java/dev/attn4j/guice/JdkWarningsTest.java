package dev.attn4j.guice;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a JDK 25 user of the module sees on standard error: no {@code sun.misc.Unsafe} warning from attn4j's
 * own bindings (Guava's futures and Guice's generated fast classes both used to print one), and none from a
 * consumer's constructor injection either once Guice's bytecode generation is off, as the README advises.
 * Each runs in a fresh JVM: the JDK warns once per process.
 */
class JdkWarningsTest {

    @Test
    void attn4jsBindingsUseNoUnsafe() throws Exception {
        String err = run(List.of());
        assertFalse(err.contains("sun.misc.Unsafe"), err);
    }

    @Test
    void consumersNeedGuicesBytecodeGenerationOff() throws Exception {
        String err = run(List.of("-Dguice_bytecode_gen_option=DISABLED"), "consumer");
        assertFalse(err.contains("sun.misc.Unsafe"), err);
    }

    @Test
    void injectorErrorsAreNotPrecededByAsmStackTraces() throws Exception {
        // Guice's embedded ASM 9.5 logged "Failed loading line numbers. ASM is probably out of date" with a
        // stack trace (Unsupported class file major version 69) before every first error on JDK 25
        String err = run(List.of(), "unbound");
        assertTrue(err.contains("No implementation for Attn4jModuleTest$Unbound was bound"), err);
        assertFalse(err.contains("ASM"), err);
        assertFalse(err.contains("major version"), err);
    }

    private static String run(List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // warn (the JDK 25 default) prints the first use; say so explicitly in case a JVM option changed it
        command.add("--sun-misc-unsafe-memory-access=warn");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(InjectOnce.class.getName());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM finished");
        assertEquals(0, p.exitValue(), err);
        assertEquals("ok", new String(out, StandardCharsets.UTF_8).trim(), err);
        return err;
    }
}
