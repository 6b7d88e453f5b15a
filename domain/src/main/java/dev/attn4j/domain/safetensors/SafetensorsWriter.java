package dev.attn4j.domain.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.ports.tensor.HalfFloats;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file from host arrays, atomically and streaming. Tensors are added by name with their
 * dtype and shape ({@code f32}, {@code f16}, {@code bf16}, {@code f64}, {@code i32}, {@code u8}, {@code bool}),
 * metadata as strings; {@link #write} lays the tensors out as the reference implementation does (decreasing
 * alignment, then name; no gaps; header padded with spaces to a multiple of 8 bytes), writes a temporary file in
 * the target's directory through one bounded buffer (no copy of the file in memory), forces it to the device,
 * and renames it over the target, so a reader sees the old file or the whole new one, never a torn one.
 *
 * <p>The arrays are referenced, not copied: they must not change until {@code write} returns. A writer can be
 * written more than once (e.g. to two paths). Not thread-safe.
 *
 * <pre>{@code
 * SafetensorsWriter.create()
 *         .f32("layers.0.w", weights, 1024, 4096)
 *         .bf16("layers.0.w_bf16", weights, 1024, 4096)      // rounded to nearest even
 *         .i32("step", new int[] {100})                       // shape [] would be a scalar: i32("step", a)
 *         .metadata("format", "pt")
 *         .write(Path.of("checkpoint.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    private final Map<String, Pending> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private SafetensorsWriter() {
    }

    /** {@return an empty writer} */
    public static SafetensorsWriter create() {
        return new SafetensorsWriter();
    }

    /**
     * Adds an F32 tensor.
     *
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @param values the values (referenced, not copied: unchanged until {@link #write} returns)
     * @return this writer
     */
    public SafetensorsWriter f32(String name, float[] values, int... shape) {
        return add(name, SafetensorsDType.F32, shape, values.length, (b, from, n) -> b.asFloatBuffer().put(values, from, n));
    }

    /**
     * Adds an F16 tensor: {@code values} rounded to nearest even.
     *
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @param values the values (referenced, not copied: unchanged until {@link #write} returns)
     * @return this writer
     */
    public SafetensorsWriter f16(String name, float[] values, int... shape) {
        return add(name, SafetensorsDType.F16, shape, values.length, (b, from, n) -> {
            for (int i = from; i < from + n; i++) b.putShort(HalfFloats.toF16(values[i]));
        });
    }

    /**
     * Adds a BF16 tensor: {@code values} rounded to nearest even.
     *
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @param values the values (referenced, not copied: unchanged until {@link #write} returns)
     * @return this writer
     */
    public SafetensorsWriter bf16(String name, float[] values, int... shape) {
        return add(name, SafetensorsDType.BF16, shape, values.length, (b, from, n) -> {
            for (int i = from; i < from + n; i++) b.putShort(HalfFloats.toBf16(values[i]));
        });
    }

    /**
     * Adds an F64 tensor.
     *
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @param values the values (referenced, not copied: unchanged until {@link #write} returns)
     * @return this writer
     */
    public SafetensorsWriter f64(String name, double[] values, int... shape) {
        return add(name, SafetensorsDType.F64, shape, values.length, (b, from, n) -> b.asDoubleBuffer().put(values, from, n));
    }

    /**
     * Adds an I32 tensor.
     *
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @param values the values (referenced, not copied: unchanged until {@link #write} returns)
     * @return this writer
     */
    public SafetensorsWriter i32(String name, int[] values, int... shape) {
        return add(name, SafetensorsDType.I32, shape, values.length, (b, from, n) -> b.asIntBuffer().put(values, from, n));
    }

    /**
     * Adds a U8 tensor (the bytes as unsigned values).
     *
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @param values the values (referenced, not copied: unchanged until {@link #write} returns)
     * @return this writer
     */
    public SafetensorsWriter u8(String name, byte[] values, int... shape) {
        return add(name, SafetensorsDType.U8, shape, values.length, (b, from, n) -> b.put(values, from, n));
    }

    /**
     * Adds a BOOL tensor (one byte each, 0 or 1).
     *
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @param values the values (referenced, not copied: unchanged until {@link #write} returns)
     * @return this writer
     */
    public SafetensorsWriter bool(String name, boolean[] values, int... shape) {
        return add(name, SafetensorsDType.BOOL, shape, values.length, (b, from, n) -> {
            for (int i = from; i < from + n; i++) b.put((byte) (values[i] ? 1 : 0));
        });
    }

    /**
     * A tensor of {@code dtype} from its raw little-endian bytes (e.g. F16 bits kept exactly as read).
     *
     * @param dtype the element type
     * @param littleEndian the raw little-endian bytes
     * @param name the tensor's name
     * @param shape the dimensions (row-major)
     * @return this writer
     * @throws IllegalArgumentException if the byte count does not match the shape
     */
    public SafetensorsWriter raw(String name, SafetensorsDType dtype, byte[] littleEndian, int... shape) {
        if (littleEndian.length % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("bytes: expected a multiple of " + dtype.byteSize() + " for " + dtype
                    + ", got " + littleEndian.length);
        }
        int elements = littleEndian.length / dtype.byteSize();
        int size = dtype.byteSize();
        return add(name, dtype, shape, elements, (b, from, n) -> b.put(littleEndian, from * size, n * size));
    }

    /**
     * Adds a {@code __metadata__} entry (replacing one of the same key).
     *
     * @param key the metadata key
     * @param value the metadata value
     * @return this writer
     */
    public SafetensorsWriter metadata(String key, String value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException("metadata: expected a key and a value, got " + key + " = " + value);
        }
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds every entry of {@code entries} as metadata.
     *
     * @param entries the metadata entries
     * @return this writer
     */
    public SafetensorsWriter metadata(Map<String, String> entries) {
        entries.forEach(this::metadata);
        return this;
    }

    /** {@return the names added so far, in order} */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    /**
     * Writes the file atomically: a temporary file beside {@code path}, forced to the device, then renamed over
     * {@code path} (replacing it). On failure the temporary file is removed and {@code path} is untouched.
     *
     * @param path the file
     * @throws UncheckedIOException if the file cannot be written
     */
    public void write(Path path) {
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        byte[] header = header();
        Path tmp = null;
        try {
            // Not Files.createTempFile: its owner-only permissions would carry over to the file; CREATE_NEW makes
            // the file as any other, under the process's umask, and never reuses an existing name.
            tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                ByteBuffer buf = ByteBuffer.allocate(SafetensorsReader.CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length);
                writeAll(ch, buf.flip());
                writeAll(ch, ByteBuffer.wrap(header));
                for (Pending t : ordered()) {
                    t.writeTo(ch, buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            forceDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write failed already; that is the error to report
                }
            }
        }
    }

    /** {@return the file's size in bytes, as {@link #write} would write it} */
    public long fileSize() {
        long size = 8L + header().length;
        for (Pending t : tensors.values()) {
            size += t.bytes();
        }
        return size;
    }

    // ------------------------------------------------------------------------------------------------ inside

    @FunctionalInterface
    private interface Encoder {
        /** Puts elements {@code [from, from + n)} into {@code b} (little-endian, room for exactly n elements). */
        void put(ByteBuffer b, int from, int n);
    }

    private record Pending(String name, SafetensorsDType dtype, int[] shape, long elements, Encoder encoder) {
        long bytes() {
            return elements * dtype.byteSize();
        }

        void writeTo(FileChannel ch, ByteBuffer buf) throws IOException {
            int size = dtype.byteSize();
            int perChunk = buf.capacity() / size;
            for (long from = 0; from < elements; from += perChunk) {
                int n = (int) Math.min(perChunk, elements - from);
                buf.clear();
                ByteBuffer slice = buf.slice(0, n * size).order(ByteOrder.LITTLE_ENDIAN);
                encoder.put(slice, (int) from, n);
                writeAll(ch, buf.limit(n * size).position(0));
            }
        }
    }

    private SafetensorsWriter add(String name, SafetensorsDType dtype, int[] shape, int length, Encoder encoder) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("name: expected a non-empty tensor name, got " + (name == null ? "null" : "''"));
        }
        if (SafetensorsReader.METADATA_KEY.equals(name)) {
            throw new IllegalArgumentException("name: '" + SafetensorsReader.METADATA_KEY + "' is reserved");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("name: tensor '" + name + "' was already added");
        }
        if (shape == null) {
            throw new IllegalArgumentException(name + ": expected a shape, got null");
        }
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            count = Math.multiplyExact(count, d);
        }
        if (count != length) {
            throw new IllegalArgumentException(name + ": expected " + count + " elements for shape "
                    + Arrays.toString(shape) + ", got " + length);
        }
        tensors.put(name, new Pending(name, dtype, shape.clone(), count, encoder));
        return this;
    }

    /** Largest alignment first keeps every tensor aligned to its element size (the header is padded to 8). */
    private List<Pending> ordered() {
        List<Pending> order = new ArrayList<>(tensors.values());
        order.sort(Comparator.<Pending>comparingInt(t -> -t.dtype().byteSize()).thenComparing(Pending::name));
        return order;
    }

    private byte[] header() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(SafetensorsReader.METADATA_KEY);
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (Pending t : ordered()) {
                g.writeObjectFieldStart(t.name());
                g.writeStringField("dtype", t.dtype().name());
                g.writeArrayFieldStart("shape");
                for (int d : t.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + t.bytes());
                g.writeEndArray();
                g.writeEndObject();
                offset += t.bytes();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise a safetensors header", e);
        }
        int padding = (8 - out.size() % 8) % 8;
        for (int i = 0; i < padding; i++) {
            out.write(' ');
        }
        return out.toByteArray();
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Makes the rename durable; not every platform can open a directory, and then this is a no-op. */
    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the file itself was forced before the rename
        }
    }
}
