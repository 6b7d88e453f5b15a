package dev.attn4j.conformance.oracle;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/design.md §7: the oracle (and the whole suite's main code) shares no code with any backend, nor any
 * arithmetic with the domain. The one exception is the domain's safetensors reader and writer
 * ({@code dev.attn4j.domain.safetensors}, file format only, no arithmetic), which the fixtures use so that the
 * project has one hardened reader.
 */
class OracleIndependenceTest {

    @Test
    void mainSourcesImportNoBackendOrDomainPackage() throws IOException {
        Path main = Path.of("src", "main", "java");
        assertTrue(Files.isDirectory(main), "run from the module directory (surefire's default): " + main.toAbsolutePath());
        List<Path> offenders;
        try (Stream<Path> files = Files.walk(main)) {
            offenders = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
                try {
                    String text = Files.readString(p);
                    String withoutFileFormat = text.replace("dev.attn4j.domain.safetensors", "")
                            .replace("requires transitive dev.attn4j.domain;", "");
                    return text.contains("dev.attn4j.backend") || withoutFileFormat.contains("dev.attn4j.domain");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        }
        assertTrue(offenders.isEmpty(), "main sources that reach into a backend or the domain: " + offenders);
    }
}
