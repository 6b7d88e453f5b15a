package dev.attn4j.domain.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointStoreTest {
    @TempDir
    Path dir;

    static Map<String, SafetensorsWriter> files(long step) {
        return Map.of("model.safetensors", SafetensorsWriter.create().f32("w", new float[] {step, step + 0.5f}, 2));
    }

    static ObjectNode state(long step) {
        ObjectNode s = new ObjectMapper().createObjectNode();
        s.put("step", step);
        s.put("note", "state of step " + step);
        return s;
    }

    @Test
    void savesPublishesTheLatestAndKeepsTheNewestK() throws IOException {
        CheckpointStore store = CheckpointStore.at(dir, 2);
        for (long step : new long[] {10, 20, 30}) {
            Path written = store.save(step, files(step), state(step));
            assertEquals(dir.resolve(CheckpointStore.name(step)), written);
            assertEquals(CheckpointStore.name(step) + "\n", Files.readString(dir.resolve(CheckpointStore.LATEST)));
        }
        assertEquals(List.of(20L, 30L), store.steps());
        CheckpointStore.Checkpoint c = store.latest().orElseThrow();
        assertEquals(30, c.step());
        assertEquals("state of step 30", c.state().path("note").asText());
        assertTrue(c.state().path("files").path("model.safetensors").path("crc32").asText().matches("[0-9a-f]{8}"));
        try (SafetensorsReader r = SafetensorsReader.open(c.file("model.safetensors"))) {
            assertArrayEquals(new float[] {30f, 30.5f}, r.readFloats("w"));
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of("latest", "step-00000020", "step-00000030"),
                    left.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file or directory left");
        }
    }

    @Test
    void aCorruptOrIncompleteNewestCheckpointFallsBackToTheOneBefore() throws IOException {
        CheckpointStore store = CheckpointStore.at(dir, 5);
        store.save(1, files(1), state(1));
        store.save(2, files(2), state(2));
        Path file = dir.resolve(CheckpointStore.name(2)).resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(f.length() - 1);
            int b = f.read();
            f.seek(f.length() - 1);
            f.write(b ^ 1);          // one bit flipped: same size, other checksum
        }
        assertEquals(1, store.latest().orElseThrow().step());
        Files.delete(dir.resolve(CheckpointStore.name(1)).resolve(CheckpointStore.STATE_FILE));
        assertTrue(store.latest().isEmpty(), "no state file: not a checkpoint");
        Files.createDirectories(dir.resolve(CheckpointStore.name(3)));
        assertTrue(store.latest().isEmpty(), "an empty step directory is not one either");
    }

    @Test
    void whatAKilledWriterLeftIsClearedWhenTheStoreOpens() throws IOException {
        CheckpointStore.at(dir, 3).save(4, files(4), state(4));
        Files.createDirectories(dir.resolve(".tmp-step-00000005-abc"));
        Files.writeString(dir.resolve(".tmp-step-00000005-abc").resolve("model.safetensors"), "half");
        Files.createDirectories(dir.resolve(".trash-step-00000001-def"));
        Files.writeString(dir.resolve(".latest.1234.tmp"), "step-00000005\n");
        CheckpointStore store = CheckpointStore.at(dir, 3);
        assertFalse(Files.exists(dir.resolve(".tmp-step-00000005-abc")));
        assertFalse(Files.exists(dir.resolve(".trash-step-00000001-def")));
        assertFalse(Files.exists(dir.resolve(".latest.1234.tmp")));
        assertEquals(4, store.latest().orElseThrow().step());
    }

    @Test
    void savingAStepAgainReplacesItAndBadNamesAreRefused() {
        CheckpointStore store = CheckpointStore.at(dir, 3);
        store.save(7, files(7), state(7));
        ObjectNode again = state(7).put("note", "again");
        store.save(7, files(7), again);
        assertEquals("again", store.latest().orElseThrow().state().path("note").asText());
        assertEquals(List.of(7L), store.steps());
        assertThrows(InvalidRequestException.class, () -> store.save(8, Map.of("../x.safetensors",
                SafetensorsWriter.create()), state(8)));
        assertThrows(InvalidRequestException.class, () -> store.save(8, Map.of(CheckpointStore.STATE_FILE,
                SafetensorsWriter.create()), state(8)));
        assertThrows(InvalidRequestException.class, () -> CheckpointStore.at(dir, 0));
    }
}
