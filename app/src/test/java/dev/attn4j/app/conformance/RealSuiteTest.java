package dev.attn4j.app.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.FakeProviders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command over the conformance module's real suite (a few cases): it must catch a wrong backend. */
class RealSuiteTest {

    @Test
    void aBackendWithWrongOutputsFailsTheRunAndTheReportSaysWhere(@TempDir Path dir) throws IOException {
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu(), FakeProviders.skewed("skewed", CliHarness.cpu())),
                SuiteFactory.standard());

        int code = cli.run("conformance", "--cases", "2", "--seed", "7", "--report", dir.toString());

        assertEquals(ExitCodes.FAILED, code, cli.out() + cli.err());
        JsonNode records = new ObjectMapper().readTree(dir.resolve("conformance.json").toFile());
        Set<String> cpuOps = new HashSet<>();
        Set<String> skewedOps = new HashSet<>();
        int skewedFailures = 0;
        for (JsonNode r : records) {
            int cases = r.get("cases").asInt();
            assertTrue(cases > 0, r.toString());
            assertEquals(cases, r.get("passed").asInt() + r.get("failed").asInt() + r.get("unsupported").asInt()
                    + r.get("skipped").asInt(), r.toString());
            assertEquals(0, r.get("skipped").asInt(), "both backends are available: " + r);
            if (r.get("backend").asText().equals("cpu")) {
                cpuOps.add(r.get("op").asText());
            } else {
                assertEquals("skewed", r.get("backend").asText());
                skewedOps.add(r.get("op").asText());
                skewedFailures += r.get("failed").asInt();
            }
        }
        assertFalse(cpuOps.isEmpty());
        assertEquals(cpuOps, skewedOps, "the same cases run on every backend");
        assertTrue(skewedFailures > 0, records.toPrettyString());
        assertTrue(cli.out().lines().anyMatch(l -> l.startsWith("  skewed ")), cli.out());

        // Case by case: wherever cpu's forward output passed, the same output shifted by 0.5 must fail.
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("conformance-cases.json").toFile());
        Map<String, String> cpuOutcome = new HashMap<>();
        for (JsonNode c : cases) {
            if (c.get("backend").asText().equals("cpu")) {
                cpuOutcome.put(c.get("op").asText() + " " + c.get("case_id").asText(), c.get("outcome").asText());
            }
        }
        for (JsonNode c : cases) {
            String key = c.get("op").asText() + " " + c.get("case_id").asText();
            if (c.get("backend").asText().equals("skewed") && key.contains("_forward ")
                    && "PASSED".equals(cpuOutcome.get(key))) {
                assertEquals("FAILED", c.get("outcome").asText(), key);
            }
        }
        assertEquals(cpuOutcome.size() * 2, cases.size());
    }
}
