package dev.attn4j.domain.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.attn4j.ports.tensor.HalfFloats;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors file: an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON mapping
 * each tensor name to {@code {dtype, shape, data_offsets: [begin, end)}} (offsets relative to the data buffer
 * after the header) plus an optional {@code "__metadata__"} map of strings, then the data buffer.
 *
 * <p><b>Hostile files.</b> {@link #open} reads only the header, as a stream (Jackson's streaming parser, with
 * {@link StreamReadConstraints} and the {@link SafetensorsLimits}), so a header cannot make the reader hold more
 * than the limits allow: too many entries, too long a name or string, too much metadata, too deep a nesting, a
 * header length over the cap or past the end of the file are refused as the parser reaches them. Then every
 * entry is checked before any tensor is read: a known dtype, non-negative dimensions whose element count times
 * the element size equals its byte range exactly (computed without overflow), offsets inside the data buffer,
 * and entries that tile the buffer with no overlap, hole or unindexed trailing bytes (as the format requires);
 * duplicate keys, unknown fields and non-string metadata are refused too. Every problem is a
 * {@link SafetensorsFormatException} naming the file, the tensor or key, and the value.
 *
 * <p><b>Memory.</b> The header costs memory in proportion to its size and within the limits; a tensor is read
 * straight into the array returned (or given), through one bounded buffer, so reading a tensor of {@code n}
 * bytes needs that array and at most {@value #CHUNK_BYTES} bytes more, never a copy of the file.
 *
 * <pre>{@code
 * try (SafetensorsReader r = SafetensorsReader.open(Path.of("model.safetensors"))) {
 *     for (TensorEntry e : r.entries()) System.out.println(e);
 *     float[] w = r.readFloats("layers.0.attn.q.weight");   // F32, F16, BF16 or F64, as float
 *     String step = r.metadata().get("step");
 * }
 * }</pre>
 */
public final class SafetensorsReader implements AutoCloseable {
    /** The reserved header key of the string map. */
    public static final String METADATA_KEY = "__metadata__";
    /** Bytes read from the file at a time when decoding a tensor. */
    public static final int CHUNK_BYTES = 1 << 20;
    /** The most elements one array holds (the JVM's practical array limit). */
    public static final int MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorEntry> entries;
    private final Map<String, String> metadata;

    private SafetensorsReader(Path path, FileChannel channel, long dataStart, Map<String, TensorEntry> entries,
                              Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Opens {@code path} with the {@linkplain SafetensorsLimits#DEFAULT default limits}.
     *
     * @param path the file
     * @return a reader of the file, its header read and checked
     */
    public static SafetensorsReader open(Path path) {
        return open(path, SafetensorsLimits.DEFAULT);
    }

    /**
     * Opens {@code path}, reads and checks its header; no tensor data is read yet.
     *
     * @param limits what a header may hold
     * @param path the file
     * @return a reader of the file, its header read and checked
     * @throws SafetensorsFormatException if the file is malformed or over a limit (the message starts with the
     *                                    file name)
     * @throws UncheckedIOException       if it cannot be read
     */
    public static SafetensorsReader open(Path path, SafetensorsLimits limits) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
        try {
            return readHeader(path, ch, limits);
        } catch (SafetensorsFormatException e) {
            closeQuietly(ch);
            throw new SafetensorsFormatException(path.getFileName() + ": " + e.getMessage());
        } catch (IOException e) {
            closeQuietly(ch);
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** {@return the file read} */
    public Path path() {
        return path;
    }

    /** {@return the {@code __metadata__} entries, in file order (empty when the file has none)} */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** {@return every tensor entry, in header order} */
    public List<TensorEntry> entries() {
        return List.copyOf(entries.values());
    }

    /**
     * {@return whether the file holds a tensor named {@code name}}
     *
     * @param name the tensor's name
     */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * The entry of tensor {@code name}.
     *
     * @param name the tensor's name
     * @return the entry of tensor {@code name}
     * @throws IllegalArgumentException if there is none
     */
    public TensorEntry entry(String name) {
        TensorEntry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(path.getFileName() + ": no tensor '" + name + "' (the file has "
                    + entries.size() + ": " + SafetensorsDType.abbreviate(String.join(", ", entries.keySet())) + ")");
        }
        return e;
    }

    /**
     * {@return tensor {@code name} (F32, F16, BF16, or F64 rounded to nearest) as a new {@code float[]}}
     *
     * @param name the tensor's name
     */
    public float[] readFloats(String name) {
        TensorEntry e = floating(name);
        float[] out = new float[arrayLength(e)];
        readFloats(name, out, 0);
        return out;
    }

    /**
     * Tensor {@code name} (F32, F16, BF16, or F64 rounded to nearest) into {@code dst[offset ..]}, decoded straight
     * from the file: no copy of the tensor is made on the way.
     *
     * @param dst the array to fill
     * @param name the tensor's name
     * @param offset the index in {@code dst} of the first element
     * @throws IllegalArgumentException if the tensor is not floating or does not fit at {@code offset}
     */
    public void readFloats(String name, float[] dst, int offset) {
        TensorEntry e = floating(name);
        requireRoom(e, dst.length, offset);
        int[] at = {offset};
        switch (e.dtype()) {
            case F32 -> stream(e, b -> {
                int n = b.remaining() / 4;
                b.asFloatBuffer().get(dst, at[0], n);
                at[0] += n;
            });
            case F64 -> stream(e, b -> {
                while (b.remaining() >= 8) dst[at[0]++] = (float) b.getDouble();
            });
            case F16 -> stream(e, b -> {
                while (b.remaining() >= 2) dst[at[0]++] = HalfFloats.fromF16(b.getShort());
            });
            case BF16 -> stream(e, b -> {
                while (b.remaining() >= 2) dst[at[0]++] = HalfFloats.fromBf16(b.getShort());
            });
            default -> throw new AssertionError(e.dtype());
        }
    }

    /**
     * {@return tensor {@code name} (any floating dtype, widened exactly) as a new {@code double[]}}
     *
     * @param name the tensor's name
     */
    public double[] readDoubles(String name) {
        TensorEntry e = floating(name);
        double[] out = new double[arrayLength(e)];
        int[] at = {0};
        switch (e.dtype()) {
            case F64 -> stream(e, b -> {
                int n = b.remaining() / 8;
                b.asDoubleBuffer().get(out, at[0], n);
                at[0] += n;
            });
            case F32 -> stream(e, b -> {
                while (b.remaining() >= 4) out[at[0]++] = b.getFloat();
            });
            case F16 -> stream(e, b -> {
                while (b.remaining() >= 2) out[at[0]++] = HalfFloats.fromF16(b.getShort());
            });
            case BF16 -> stream(e, b -> {
                while (b.remaining() >= 2) out[at[0]++] = HalfFloats.fromBf16(b.getShort());
            });
            default -> throw new AssertionError(e.dtype());
        }
        return out;
    }

    /**
     * {@return tensor {@code name}, which must be I32, as a new {@code int[]}}
     *
     * @param name the tensor's name
     */
    public int[] readInts(String name) {
        TensorEntry e = require(name, SafetensorsDType.I32);
        int[] out = new int[arrayLength(e)];
        int[] at = {0};
        stream(e, b -> {
            int n = b.remaining() / 4;
            b.asIntBuffer().get(out, at[0], n);
            at[0] += n;
        });
        return out;
    }

    /**
     * Tensor {@code name}, which must be BOOL, as a new {@code boolean[]}.
     *
     * @param name the tensor's name
     * @return tensor {@code name}, which must be BOOL, as a new {@code boolean[]}
     * @throws SafetensorsFormatException if a byte is neither 0 nor 1 (naming the element)
     */
    public boolean[] readBools(String name) {
        TensorEntry e = require(name, SafetensorsDType.BOOL);
        boolean[] out = new boolean[arrayLength(e)];
        int[] at = {0};
        stream(e, b -> {
            while (b.hasRemaining()) {
                byte x = b.get();
                if (x != 0 && x != 1) {
                    throw new SafetensorsFormatException(path.getFileName() + ": tensor '" + name + "': BOOL element "
                            + at[0] + " is " + (x & 0xFF) + ", expected 0 or 1");
                }
                out[at[0]++] = x == 1;
            }
        });
        return out;
    }

    /**
     * {@return the raw little-endian bytes of tensor {@code name}, whatever its dtype}
     *
     * @param name the tensor's name
     */
    public byte[] readBytes(String name) {
        TensorEntry e = entry(name);
        if (e.byteSize() > MAX_ARRAY_ELEMENTS) {
            throw new IllegalArgumentException(path.getFileName() + ": tensor '" + name + "' has " + e.byteSize()
                    + " bytes, more than one Java array holds");
        }
        byte[] out = new byte[(int) e.byteSize()];
        int[] at = {0};
        stream(e, b -> {
            int n = b.remaining();
            b.get(out, at[0], n);
            at[0] += n;
        });
        return out;
    }

    /** Closes the file. Idempotent. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + path, e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsReader[" + path + ", " + entries.size() + " tensors]";
    }

    // ------------------------------------------------------------------------------------------------- data

    @FunctionalInterface
    private interface Chunk {
        void decode(ByteBuffer littleEndian);
    }

    /** Hands the tensor's bytes to {@code decode} in chunks of whole elements, at most {@link #CHUNK_BYTES} each. */
    private void stream(TensorEntry e, Chunk decode) {
        long remaining = e.byteSize();
        int element = e.dtype().byteSize();
        int size = (int) Math.min(remaining, CHUNK_BYTES / element * (long) element);
        ByteBuffer buf = ByteBuffer.allocate(Math.max(size, element)).order(ByteOrder.LITTLE_ENDIAN);
        long position = dataStart + e.begin();
        try {
            while (remaining > 0) {
                buf.clear();
                buf.limit((int) Math.min(remaining, buf.capacity()));
                while (buf.hasRemaining()) {
                    int read = channel.read(buf, position + buf.position());
                    if (read < 0) {
                        throw new SafetensorsFormatException(path.getFileName() + ": file ended at byte "
                                + (position + buf.position()) + " inside tensor '" + e.name()
                                + "' (was it truncated after it was opened?)");
                    }
                }
                buf.flip();
                position += buf.remaining();
                remaining -= buf.remaining();
                decode.decode(buf);
            }
        } catch (IOException x) {
            throw new UncheckedIOException("cannot read tensor '" + e.name() + "' of " + path, x);
        }
    }

    private TensorEntry floating(String name) {
        TensorEntry e = entry(name);
        if (!e.dtype().isFloating()) {
            throw new IllegalArgumentException(path.getFileName() + ": tensor '" + name + "' is " + e.dtype()
                    + ", not a floating type");
        }
        return e;
    }

    private TensorEntry require(String name, SafetensorsDType dtype) {
        TensorEntry e = entry(name);
        if (e.dtype() != dtype) {
            throw new IllegalArgumentException(path.getFileName() + ": tensor '" + name + "' is " + e.dtype()
                    + ", not " + dtype);
        }
        return e;
    }

    private int arrayLength(TensorEntry e) {
        long n = e.elementCount();
        if (n > MAX_ARRAY_ELEMENTS) {
            throw new IllegalArgumentException(path.getFileName() + ": tensor '" + e.name() + "' has " + n
                    + " elements, more than one Java array holds");
        }
        return (int) n;
    }

    private void requireRoom(TensorEntry e, int length, int offset) {
        if (offset < 0 || offset > length || e.elementCount() > length - offset) {
            throw new IllegalArgumentException("dst: expected room for " + e.elementCount() + " elements of '"
                    + e.name() + "' at " + offset + ", got an array of " + length);
        }
    }

    // ----------------------------------------------------------------------------------------------- header

    private static SafetensorsReader readHeader(Path path, FileChannel ch, SafetensorsLimits limits) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw new SafetensorsFormatException("file is " + fileSize + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (lengthBytes.hasRemaining()) {
            if (ch.read(lengthBytes, lengthBytes.position()) < 0) {
                throw new SafetensorsFormatException("file ended inside the 8-byte header length");
            }
        }
        long n = lengthBytes.flip().getLong();
        // The length is an unsigned 64-bit integer: a negative long is above any cap.
        if (n < 0 || n > limits.maxHeaderBytes()) {
            throw new SafetensorsFormatException("header length " + Long.toUnsignedString(n) + " exceeds the cap of "
                    + limits.maxHeaderBytes() + " bytes");
        }
        if (n > fileSize - 8) {
            throw new SafetensorsFormatException("header length " + n + " runs past the end of the file (" + fileSize
                    + " bytes, so at most " + (fileSize - 8) + " header bytes)");
        }
        long bufferSize = fileSize - 8 - n;
        HeaderParser parser = new HeaderParser(limits, bufferSize);
        parser.parse(new ChannelSlice(ch, 8, n));
        List<TensorEntry> list = new ArrayList<>(parser.entries.values());
        checkLayout(list, bufferSize);
        return new SafetensorsReader(path, ch, 8 + n, Collections.unmodifiableMap(parser.entries),
                Collections.unmodifiableMap(parser.metadata));
    }

    /** Tensors sorted by offset must tile the buffer exactly: no overlap, no hole, nothing left over. */
    private static void checkLayout(List<TensorEntry> entries, long bufferSize) {
        List<TensorEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long expectedBegin = 0;
        TensorEntry previous = null;
        for (TensorEntry e : sorted) {
            if (e.begin() < expectedBegin) {
                throw new SafetensorsFormatException("tensor '" + e.name() + "' at [" + e.begin() + ", " + e.end()
                        + ") overlaps tensor '" + previous.name() + "' at [" + previous.begin() + ", " + previous.end() + ")");
            }
            if (e.begin() > expectedBegin) {
                throw new SafetensorsFormatException("bytes [" + expectedBegin + ", " + e.begin() + ") of the data buffer "
                        + "belong to no tensor (a hole before tensor '" + e.name() + "')");
            }
            expectedBegin = e.end();
            previous = e;
        }
        if (expectedBegin != bufferSize) {
            throw new SafetensorsFormatException("bytes [" + expectedBegin + ", " + bufferSize + ") at the end of the "
                    + "data buffer belong to no tensor");
        }
    }

    /** The header's JSON, token by token, keeping only what passes the limits. */
    private static final class HeaderParser {
        private final SafetensorsLimits limits;
        private final long bufferSize;
        private final Map<String, TensorEntry> entries = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private long metadataChars;
        private boolean sawMetadata;

        HeaderParser(SafetensorsLimits limits, long bufferSize) {
            this.limits = limits;
            this.bufferSize = bufferSize;
        }

        void parse(InputStream header) throws IOException {
            JsonFactory factory = JsonFactory.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength(Math.max(limits.maxStringChars(), limits.maxNameChars()))
                            .maxNameLength(limits.maxNameChars())
                            .maxNumberLength(40)
                            .maxNestingDepth(4)
                            .maxDocumentLength(limits.maxHeaderBytes())
                            .build())
                    .build();
            try (JsonParser p = factory.createParser(header)) {
                JsonToken first = p.nextToken();
                if (first != JsonToken.START_OBJECT) {
                    throw new SafetensorsFormatException("header must be a JSON object starting with '{', got "
                            + (first == null ? "an empty header" : describe(p)));
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if (METADATA_KEY.equals(name)) {
                        readMetadata(p);
                    } else {
                        if (entries.size() >= limits.maxTensors()) {
                            throw new SafetensorsFormatException("header holds more than " + limits.maxTensors()
                                    + " tensors (the limit)");
                        }
                        entries.put(name, readEntry(p, name));
                    }
                }
                if (p.nextToken() != null) {
                    throw new SafetensorsFormatException("header has content after its JSON object: " + describe(p));
                }
            } catch (StreamConstraintsException e) {
                throw new SafetensorsFormatException("header exceeds a limit: " + e.getOriginalMessage());
            } catch (JsonProcessingException e) {
                throw new SafetensorsFormatException("header is not valid JSON: " + e.getOriginalMessage());
            } catch (java.io.CharConversionException e) {
                throw new SafetensorsFormatException("header is not valid UTF-8: " + e.getMessage());
            }
        }

        private void readMetadata(JsonParser p) throws IOException {
            if (sawMetadata) {
                throw new SafetensorsFormatException("duplicate key '" + METADATA_KEY + "'");
            }
            sawMetadata = true;
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw new SafetensorsFormatException(METADATA_KEY + " must be an object of strings, got " + describe(p));
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                if (value != JsonToken.VALUE_STRING) {
                    throw new SafetensorsFormatException(METADATA_KEY + "." + SafetensorsDType.abbreviate(key)
                            + " must be a string, got " + describe(p));
                }
                if (metadata.size() >= limits.maxMetadataEntries()) {
                    throw new SafetensorsFormatException(METADATA_KEY + " holds more than " + limits.maxMetadataEntries()
                            + " entries (the limit)");
                }
                String text = p.getText();
                metadataChars += key.length() + (long) text.length();
                if (metadataChars > limits.maxMetadataChars()) {
                    throw new SafetensorsFormatException(METADATA_KEY + " holds more than " + limits.maxMetadataChars()
                            + " chars (the limit)");
                }
                metadata.put(key, text);
            }
        }

        private TensorEntry readEntry(JsonParser p, String name) throws IOException {
            String where = "tensor '" + SafetensorsDType.abbreviate(name) + "'";
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw new SafetensorsFormatException(where + " must be an object {dtype, shape, data_offsets}, got "
                        + describe(p));
            }
            SafetensorsDType dtype = null;
            int[] shape = null;
            BigInteger[] offsets = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "dtype" -> {
                        if (p.currentToken() != JsonToken.VALUE_STRING) {
                            throw new SafetensorsFormatException(where + ": dtype must be a string, got " + describe(p));
                        }
                        try {
                            dtype = SafetensorsDType.parse(p.getText());
                        } catch (SafetensorsFormatException e) {
                            throw new SafetensorsFormatException(where + ": " + e.getMessage());
                        }
                    }
                    case "shape" -> shape = readShape(p, where);
                    case "data_offsets" -> offsets = readOffsets(p, where);
                    default -> throw new SafetensorsFormatException(where + " has unknown field '"
                            + SafetensorsDType.abbreviate(field) + "' (expected dtype, shape, data_offsets)");
                }
            }
            if (dtype == null) throw new SafetensorsFormatException(where + " lacks field 'dtype'");
            if (shape == null) throw new SafetensorsFormatException(where + " lacks field 'shape'");
            if (offsets == null) throw new SafetensorsFormatException(where + " lacks field 'data_offsets'");
            BigInteger begin = offsets[0];
            BigInteger end = offsets[1];
            if (begin.signum() < 0 || begin.compareTo(end) > 0) {
                throw new SafetensorsFormatException(where + ": data_offsets [" + begin + ", " + end
                        + "] must satisfy 0 <= begin <= end");
            }
            if (end.compareTo(BigInteger.valueOf(bufferSize)) > 0) {
                throw new SafetensorsFormatException(where + ": data_offsets [" + begin + ", " + end
                        + "] run past the end of the " + bufferSize + "-byte data buffer");
            }
            // Computed exactly, so an overflowing shape cannot wrap round to a plausible size.
            BigInteger count = BigInteger.ONE;
            for (int d : shape) {
                count = count.multiply(BigInteger.valueOf(d));
            }
            BigInteger expected = count.multiply(BigInteger.valueOf(dtype.byteSize()));
            BigInteger actual = end.subtract(begin);
            if (!expected.equals(actual)) {
                throw new SafetensorsFormatException(where + ": " + dtype + " shape " + java.util.Arrays.toString(shape)
                        + " needs " + expected + " bytes, but data_offsets [" + begin + ", " + end + "] hold " + actual);
            }
            return new TensorEntry(name, dtype, shape, begin.longValueExact(), end.longValueExact());
        }

        private int[] readShape(JsonParser p, String where) throws IOException {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                throw new SafetensorsFormatException(where + ": shape must be an array, got " + describe(p));
            }
            int[] dims = new int[4];
            int rank = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (rank >= limits.maxRank()) {
                    throw new SafetensorsFormatException(where + ": shape has more than " + limits.maxRank()
                            + " dimensions (the limit)");
                }
                if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                    throw new SafetensorsFormatException(where + ": shape has a non-integer dimension " + describe(p));
                }
                BigInteger d = p.getBigIntegerValue();
                if (d.signum() < 0) {
                    throw new SafetensorsFormatException(where + ": shape has a negative dimension " + d);
                }
                if (d.compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0) {
                    throw new SafetensorsFormatException(where + ": shape has dimension " + d + ", above "
                            + Integer.MAX_VALUE);
                }
                if (rank == dims.length) {
                    dims = java.util.Arrays.copyOf(dims, dims.length * 2);
                }
                dims[rank++] = d.intValue();
            }
            return java.util.Arrays.copyOf(dims, rank);
        }

        private static BigInteger[] readOffsets(JsonParser p, String where) throws IOException {
            String expected = where + ": data_offsets must be [begin, end] integers";
            if (p.currentToken() != JsonToken.START_ARRAY) {
                throw new SafetensorsFormatException(expected + ", got " + describe(p));
            }
            BigInteger[] offsets = new BigInteger[2];
            int count = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (count == 2 || p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                    throw new SafetensorsFormatException(expected + ", got " + (count == 2 ? "more than two values"
                            : describe(p)));
                }
                offsets[count++] = p.getBigIntegerValue();
            }
            if (count != 2) {
                throw new SafetensorsFormatException(expected + ", got " + count + " value(s)");
            }
            return offsets;
        }

        private static String describe(JsonParser p) throws IOException {
            JsonToken t = p.currentToken();
            if (t == null) {
                return "the end of the header";
            }
            return switch (t) {
                case START_OBJECT -> "an object";
                case START_ARRAY -> "an array";
                case VALUE_STRING -> "the string '" + SafetensorsDType.abbreviate(p.getText()) + "'";
                default -> SafetensorsDType.abbreviate(p.getText());
            };
        }
    }

    /** {@code length} bytes of the channel from {@code start}, as a stream (the parser buffers a few KB of it). */
    private static final class ChannelSlice extends InputStream {
        private final FileChannel ch;
        private long position;
        private final long end;

        ChannelSlice(FileChannel ch, long start, long length) {
            this.ch = ch;
            this.position = start;
            this.end = start + length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (position >= end) {
                return -1;
            }
            int n = (int) Math.min(len, end - position);
            int read = ch.read(ByteBuffer.wrap(b, off, n), position);
            if (read < 0) {
                throw new SafetensorsFormatException("file ended at byte " + position + " inside the header");
            }
            position += read;
            return read;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // the open failed already; that error is the one to report
        }
    }
}
