package dev.attn4j.domain.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The writer: every dtype round-trips through the reader, the layout is the reference's, writes are atomic. */
class SafetensorsWriterTest {

    @TempDir
    Path dir;

    @Test
    void roundTripKeepsEveryDtypeShapeValueAndMetadata() {
        Path p = dir.resolve("rt.safetensors");
        SafetensorsWriter.create()
                .f32("q", new float[] {1.5f, -2f, 0f, Float.NEGATIVE_INFINITY, 3.25f, 1e-3f}, 1, 2, 3)
                .f64("golden", new double[] {Math.PI, -1e300}, 2)
                .f16("half", new float[] {0.5f, -65504f, 1f / 3}, 3)
                .bf16("brain", new float[] {1f / 3, 256f}, 2, 1)
                .i32("rows", new int[] {0, -7, Integer.MAX_VALUE}, 3)
                .u8("bytes", new byte[] {0, (byte) 255, 7}, 3)
                .bool("mask", new boolean[] {true, false, false, true, true}, 5)
                .f32("scalar", new float[] {42f})
                .f32("empty", new float[0], 0, 4)
                .metadata(Map.of("op", "attention_forward"))
                .metadata("causal", "true")
                .write(p);
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertEquals(Map.of("op", "attention_forward", "causal", "true"), r.metadata());
            assertArrayEquals(new float[] {1.5f, -2f, 0f, Float.NEGATIVE_INFINITY, 3.25f, 1e-3f}, r.readFloats("q"));
            assertArrayEquals(new int[] {1, 2, 3}, r.entry("q").shape());
            assertArrayEquals(new double[] {Math.PI, -1e300}, r.readDoubles("golden"));
            assertArrayEquals(new float[] {0.5f, -65504f, 0.33325195f}, r.readFloats("half"));
            // 1/3 in bfloat16 is 0x3EAB = 0.333984375 (round to nearest even of 0x3EAAAAAB)
            assertArrayEquals(new float[] {0.333984375f, 256f}, r.readFloats("brain"));
            assertArrayEquals(new int[] {0, -7, Integer.MAX_VALUE}, r.readInts("rows"));
            assertArrayEquals(new byte[] {0, (byte) 255, 7}, r.readBytes("bytes"));
            assertArrayEquals(new boolean[] {true, false, false, true, true}, r.readBools("mask"));
            assertEquals(0, r.entry("scalar").rank());
            assertArrayEquals(new float[] {42f}, r.readFloats("scalar"));
            assertArrayEquals(new int[] {0, 4}, r.entry("empty").shape());
            assertEquals(0, r.readFloats("empty").length);
            assertEquals(SafetensorsDType.U8, r.entry("bytes").dtype());
        }
    }

    @Test
    void writerPadsTheHeaderWithSpacesToEightBytesAndAlignsLargestTypesFirst() throws IOException {
        Path p = dir.resolve("pad.safetensors");
        SafetensorsWriter w = SafetensorsWriter.create().bool("a_mask", new boolean[] {true}, 1)
                .f64("b_golden", new double[] {1.0}, 1).f32("c_q", new float[] {2f}, 1).metadata("k", "v");
        w.write(p);
        byte[] bytes = Files.readAllBytes(p);
        assertEquals(bytes.length, w.fileSize());
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"k\":\"v\"}"), header);
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        assertTrue(header.contains("\"b_golden\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}"), header);
        assertTrue(header.contains("\"c_q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}"), header);
        assertTrue(header.contains("\"a_mask\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[12,13]}"), header);
        assertEquals(8 + n + 13, bytes.length);
    }

    @Test
    void tensorsLargerThanOneChunkAreStreamedInOrder() {
        int n = (SafetensorsReader.CHUNK_BYTES / 4) * 3 + 17;   // three chunks and a bit
        float[] f = new float[n];
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            f[i] = i * 0.5f;
            d[i] = -i;
        }
        Path p = dir.resolve("chunks.safetensors");
        SafetensorsWriter.create().f32("f", f, n).f64("d", d, n).bf16("b", f, n).write(p);
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertArrayEquals(f, r.readFloats("f"));
            assertArrayEquals(d, r.readDoubles("d"));
            float[] b = r.readFloats("b");
            assertEquals(f[n - 1], b[n - 1], Math.ulp(f[n - 1]) * 65536);
        }
    }

    @Test
    void writingReplacesTheTargetAtomicallyAndLeavesNoTemporaryFile() throws IOException {
        Path p = dir.resolve("ckpt.safetensors");
        SafetensorsWriter.create().i32("step", new int[] {1}, 1).write(p);
        SafetensorsWriter.create().i32("step", new int[] {2}, 1).metadata("note", "second").write(p);
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertArrayEquals(new int[] {2}, r.readInts("step"));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p.getFileName().toString()), files.map(f -> f.getFileName().toString()).toList(),
                    "no temporary file is left");
        }
    }

    @Test
    void theFileGetsTheUsualPermissionsNotATemporaryFilesOwnerOnlyOnes() throws IOException {
        Path p = dir.resolve("perm.safetensors");
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
        SafetensorsWriter.create().i32("a", new int[] {1}, 1).write(p);
        if (p.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(p));
        }
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        SafetensorsWriter.create().i32("step", new int[] {1}, 1).write(p);
        byte[] before = Files.readAllBytes(p);
        Path missingDir = dir.resolve("no-such-dir").resolve("x.safetensors");
        assertThrows(UncheckedIOException.class, () -> SafetensorsWriter.create().i32("a", new int[] {1}, 1).write(missingDir));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void badTensorsAreRefusedWhenAdded() {
        SafetensorsWriter w = SafetensorsWriter.create().f32("a", new float[2], 2);
        assertThrows(IllegalArgumentException.class, () -> w.f32("a", new float[2], 2), "duplicate name");
        assertThrows(IllegalArgumentException.class, () -> w.f32("__metadata__", new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> w.f32("", new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> w.f32("b", new float[3], 2), "count and shape disagree");
        assertThrows(IllegalArgumentException.class, () -> w.f32("c", new float[0], -1, 0));
        assertThrows(IllegalArgumentException.class, () -> w.metadata("k", null));
        assertEquals(List.of("a"), w.names());
    }
}
