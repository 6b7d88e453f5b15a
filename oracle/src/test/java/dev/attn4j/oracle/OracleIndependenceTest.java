package dev.attn4j.oracle;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/design.md §7: the oracle shares no code with any backend (nor with the domain, which is also under test). */
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
                    return text.contains("dev.attn4j.backend") || text.contains("dev.attn4j.domain");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        }
        assertTrue(offenders.isEmpty(), "main sources that reach into a backend or the domain: " + offenders);
    }
}
