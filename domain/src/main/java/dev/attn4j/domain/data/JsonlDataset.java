package dev.attn4j.domain.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.ports.InvalidRequestException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Training examples read from a JSON Lines file, one record per line, in any of these shapes (fields
 * other than these are ignored; blank lines are skipped):
 * <ul>
 *   <li>{@code {"text": "..."}}: causal language modelling, a loss on every token;</li>
 *   <li>{@code {"src": "...", "tgt": "..."}} (PaddleNLP's names) or {@code {"prompt": "...", "completion": "..."}}
 *       (Hugging Face TRL's): the two parts are tokenized separately and concatenated with nothing in
 *       between (put any separator in the text), a loss on the target only;</li>
 *   <li>{@code {"input_ids": [...], "labels": [...]}}: pre-tokenized, used exactly as given (no bos/eos
 *       added); {@code labels} is optional (default: a loss on every token), aligned with
 *       {@code input_ids} ({@link Example}), −100 for no loss; every id must lie in the tokenizer's
 *       vocabulary.</li>
 * </ul>
 *
 * <p>Text shapes become {@code [bos] + tokens + [eos]}: the tokenizer's eos is appended to every document
 * when it has one and {@link Options#addEos} is on (the default), so the model learns where documents end;
 * bos is prepended only when asked ({@link Options#addBos}, off by default) and is never a label.
 *
 * <p>A bad record (invalid JSON or UTF-8, an unknown or ambiguous shape, a missing field, a wrong type, an
 * id outside the vocabulary, labels of the wrong length, no token) stops the read with a
 * {@link DataException} naming the file and the line, or, with {@link BadRecordPolicy#SKIP}, is left out
 * and counted in {@link ReadStats}.
 *
 * <pre>{@code
 * JsonlDataset data = JsonlDataset.read(Path.of("train.jsonl"), ByteTokenizer.INSTANCE,
 *         JsonlDataset.Options.defaults().badRecords(BadRecordPolicy.SKIP));
 * List<Example> examples = data.examples();
 * System.out.println(data.stats());       // records, skipped by problem, tokens
 * }</pre>
 */
public final class JsonlDataset {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int FIRST_ERRORS = 10;

    private final List<Example> examples;
    private final ReadStats stats;

    private JsonlDataset(List<Example> examples, ReadStats stats) {
        this.examples = examples;
        this.stats = stats;
    }

    /**
     * How records become examples.
     *
     * <pre>{@code
     * Options o = Options.defaults().addBos(true).badRecords(BadRecordPolicy.SKIP);
     * }</pre>
     *
     * @param addBos     prepend the tokenizer's bos to text shapes (ignored when it has none)
     * @param addEos     append the tokenizer's eos to text shapes (ignored when it has none)
     * @param badRecords fail or skip-and-count
     */
    public record Options(boolean addBos, boolean addEos, BadRecordPolicy badRecords) {

        /** Validates the policy. */
        public Options {
            InvalidRequestException.check(badRecords != null, "badRecords", "FAIL or SKIP", "null");
        }

        /** {@return the defaults}: no bos, eos appended, fail on the first bad record. */
        public static Options defaults() {
            return new Options(false, true, BadRecordPolicy.FAIL);
        }

        /**
         * These options with {@code addBos}.
         *
         * @param value whether to prepend the tokenizer's bos
         * @return a copy with that value
         */
        public Options addBos(boolean value) {
            return new Options(value, addEos, badRecords);
        }

        /**
         * These options with {@code addEos}.
         *
         * @param value whether to append the tokenizer's eos
         * @return a copy with that value
         */
        public Options addEos(boolean value) {
            return new Options(addBos, value, badRecords);
        }

        /**
         * These options with the bad-record policy.
         *
         * @param value fail on the first bad record, or skip and count bad records
         * @return a copy with that value
         */
        public Options badRecords(BadRecordPolicy value) {
            return new Options(addBos, addEos, value);
        }
    }

    /**
     * What a read saw.
     *
     * <pre>{@code
     * ReadStats s = data.stats();
     * long bad = s.skipped();   // s.skippedByProblem().get(RecordProblem.INVALID_JSON), ...
     * }</pre>
     *
     * @param file             the file name
     * @param lines            lines read, blank ones included
     * @param examples         records turned into examples
     * @param skipped          records left out (only with {@link BadRecordPolicy#SKIP})
     * @param skippedByProblem the skipped records by problem
     * @param firstErrors      the messages of the first (up to 10) skipped records
     * @param tokens           tokens in all examples
     * @param trainedTokens    labels other than −100 in all examples
     */
    public record ReadStats(String file, long lines, long examples, long skipped,
                            Map<RecordProblem, Long> skippedByProblem, List<String> firstErrors,
                            long tokens, long trainedTokens) {
        /** Copies the collections. */
        public ReadStats {
            EnumMap<RecordProblem, Long> copy = new EnumMap<>(RecordProblem.class);
            copy.putAll(skippedByProblem);
            skippedByProblem = Collections.unmodifiableMap(copy);
            firstErrors = List.copyOf(firstErrors);
        }
    }

    /** {@return the examples, in file order} */
    public List<Example> examples() {
        return examples;
    }

    /** {@return what the read saw} */
    public ReadStats stats() {
        return stats;
    }

    /**
     * Reads {@code file} (UTF-8 JSON Lines) with {@code tokenizer}.
     *
     * @param file a UTF-8 JSON Lines file, one example per line
     * @param tokenizer turns the records' text into ids
     * @param options bos/eos and the bad-record policy
     * @return the examples and what the read saw
     * @throws IOException when the file cannot be read
     */
    public static JsonlDataset read(Path file, Tokenizer tokenizer, Options options) throws IOException {
        InvalidRequestException.check(file != null, "file", "a path", "null");
        try (InputStream in = Files.newInputStream(file)) {
            return read(file.toString(), in, tokenizer, options);
        }
    }

    /**
     * Reads JSON Lines from {@code in} (not closed); {@code name} stands for the file in messages.
     *
     * @param name the file name messages and {@link DataException} give
     * @param in UTF-8 JSON Lines, one example per line
     * @param tokenizer turns the records' text into ids
     * @param options bos/eos and the bad-record policy
     * @return the examples and what the read saw
     * @throws IOException when {@code in} cannot be read
     */
    public static JsonlDataset read(String name, InputStream in, Tokenizer tokenizer, Options options)
            throws IOException {
        InvalidRequestException.check(tokenizer != null, "tokenizer", "a tokenizer", "null");
        InvalidRequestException.check(options != null, "options", "options", "null");
        Reader reader = new Reader(name, tokenizer, options);
        LineSplitter lines = new LineSplitter(in);
        byte[] line;
        while ((line = lines.next()) != null) {
            reader.accept(lines.number(), line, lines.length());
        }
        return reader.finish(lines.number());
    }

    /** Turns lines into examples, counting what it skips. */
    private static final class Reader {
        private final String name;
        private final Tokenizer tokenizer;
        private final Options options;
        private final int vocab;
        private final List<Example> out = new ArrayList<>();
        private final Map<RecordProblem, Long> skipped = new EnumMap<>(RecordProblem.class);
        private final List<String> firstErrors = new ArrayList<>();
        private long skippedCount;
        private long tokens;
        private long trained;

        Reader(String name, Tokenizer tokenizer, Options options) {
            this.name = name;
            this.tokenizer = tokenizer;
            this.options = options;
            this.vocab = tokenizer.vocabSize();
        }

        void accept(long lineNo, byte[] bytes, int length) {
            try {
                Example e = parse(lineNo, bytes, length);
                if (e != null) {
                    out.add(e);
                    tokens += e.length();
                    trained += Labels.countTrained(e.labels());
                }
            } catch (DataException e) {
                if (options.badRecords() == BadRecordPolicy.FAIL) {
                    throw e;
                }
                skippedCount++;
                skipped.merge(e.problem(), 1L, Long::sum);
                if (firstErrors.size() < FIRST_ERRORS) {
                    firstErrors.add(e.getMessage());
                }
            }
        }

        JsonlDataset finish(long lines) {
            return new JsonlDataset(List.copyOf(out),
                    new ReadStats(name, lines, out.size(), skippedCount, skipped, firstErrors, tokens, trained));
        }

        private DataException bad(long line, RecordProblem problem, String detail) {
            return new DataException(name, line, problem, detail);
        }

        /** The example of one line, or null for a blank line. */
        private Example parse(long line, byte[] bytes, int length) {
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, 0, length)).toString();
            } catch (CharacterCodingException e) {
                throw bad(line, RecordProblem.INVALID_JSON, "not valid UTF-8 (" + e.getMessage() + ")");
            }
            if (line == 1 && text.startsWith("\uFEFF")) {
                text = text.substring(1);   // a UTF-8 byte order mark, as some editors write
            }
            if (text.isBlank()) {
                return null;
            }
            JsonNode node;
            try {
                node = MAPPER.readTree(text);
            } catch (JsonProcessingException e) {
                throw bad(line, RecordProblem.INVALID_JSON, "invalid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) {
                throw bad(line, RecordProblem.NOT_AN_OBJECT, "expected a JSON object, got "
                        + (node == null ? "nothing" : node.getNodeType()));
            }
            boolean ids = node.has("input_ids");
            boolean plain = node.has("text");
            boolean srcTgt = node.has("src") || node.has("tgt");
            boolean promptCompletion = node.has("prompt") || node.has("completion");
            int shapes = (ids ? 1 : 0) + (plain ? 1 : 0) + (srcTgt ? 1 : 0) + (promptCompletion ? 1 : 0);
            if (shapes == 0) {
                throw bad(line, RecordProblem.UNKNOWN_SHAPE, "expected one of the fields text, src+tgt, "
                        + "prompt+completion or input_ids, got " + fieldNames(node));
            }
            if (shapes > 1) {
                throw bad(line, RecordProblem.AMBIGUOUS_SHAPE, "expected the fields of one record shape "
                        + "(text, src+tgt, prompt+completion or input_ids), got " + fieldNames(node));
            }
            if (ids) {
                return pretokenized(line, node);
            }
            if (plain) {
                return fromText(line, "", string(line, node, "text"), false);
            }
            String first = srcTgt ? "src" : "prompt";
            String second = srcTgt ? "tgt" : "completion";
            for (String field : new String[] {first, second}) {
                if (!node.has(field)) {
                    throw bad(line, RecordProblem.MISSING_FIELD, field + ": missing (a record with "
                            + (field.equals(first) ? second : first) + " needs " + first + " and " + second + ")");
                }
            }
            return fromText(line, string(line, node, first), string(line, node, second), true);
        }

        private String string(long line, JsonNode node, String field) {
            JsonNode v = node.get(field);
            if (!v.isTextual()) {
                throw bad(line, RecordProblem.WRONG_TYPE, field + ": expected a string, got " + v.getNodeType());
            }
            return v.asText();
        }

        /** [bos] + source (no loss) + target + [eos]; with {@code pair} false, source is empty and the target is the text. */
        private Example fromText(long line, String source, String target, boolean pair) {
            int[] src = source.isEmpty() ? new int[0] : tokenizer.encode(source);
            int[] tgt = target.isEmpty() ? new int[0] : tokenizer.encode(target);
            OptionalInt bos = options.addBos() ? tokenizer.bos() : OptionalInt.empty();
            OptionalInt eos = options.addEos() ? tokenizer.eos() : OptionalInt.empty();
            int n = Math.addExact(Math.addExact(src.length, tgt.length), (bos.isPresent() ? 1 : 0) + (eos.isPresent() ? 1 : 0));
            if (n == 0) {
                throw bad(line, RecordProblem.EMPTY, (pair ? "src/prompt and tgt/completion" : "text")
                        + ": expected at least one token, got an empty text and no eos to append");
            }
            int[] ids = new int[n];
            int[] labels = new int[n];
            int at = 0;
            if (bos.isPresent()) {
                ids[at] = bos.getAsInt();
                labels[at++] = Labels.IGNORE_INDEX;
            }
            for (int id : src) {
                ids[at] = id;
                labels[at++] = Labels.IGNORE_INDEX;
            }
            for (int id : tgt) {
                ids[at] = id;
                labels[at++] = id;
            }
            if (eos.isPresent()) {
                ids[at] = eos.getAsInt();
                labels[at] = eos.getAsInt();
            }
            return new Example(ids, labels, name + ":" + line);
        }

        private Example pretokenized(long line, JsonNode node) {
            int[] ids = intArray(line, node.get("input_ids"), "input_ids", false);
            if (ids.length == 0) {
                throw bad(line, RecordProblem.EMPTY, "input_ids: expected at least one id, got []");
            }
            int[] labels = ids;
            if (node.has("labels") && !node.get("labels").isNull()) {
                labels = intArray(line, node.get("labels"), "labels", true);
                if (labels.length != ids.length) {
                    throw bad(line, RecordProblem.LABELS_LENGTH, "labels: expected " + ids.length
                            + " labels (as input_ids), got " + labels.length);
                }
            }
            return new Example(ids, labels, name + ":" + line);
        }

        private int[] intArray(long line, JsonNode v, String field, boolean labels) {
            if (!v.isArray()) {
                throw bad(line, RecordProblem.WRONG_TYPE, field + ": expected an array of integers, got " + v.getNodeType());
            }
            int[] out = new int[v.size()];
            for (int k = 0; k < out.length; k++) {
                JsonNode x = v.get(k);
                if (!x.isIntegralNumber()) {
                    throw bad(line, RecordProblem.WRONG_TYPE, field + "[" + k + "]: expected an integer, got "
                            + (x.isNumber() ? x.asText() : x.getNodeType()));
                }
                boolean ok = x.canConvertToInt() && ((x.asInt() >= 0 && x.asInt() < vocab)
                        || (labels && x.asInt() == Labels.IGNORE_INDEX));
                if (!ok) {
                    throw bad(line, RecordProblem.ID_OUT_OF_RANGE, field + "[" + k + "]: expected an id in [0, "
                            + vocab + ")" + (labels ? " or -100" : "") + ", got " + x.asText());
                }
                out[k] = x.asInt();
            }
            return out;
        }

        private static String fieldNames(JsonNode node) {
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            return names.isEmpty() ? "no field" : String.join(", ", names);
        }
    }

    /**
     * Splits a byte stream at {@code '\n'} (a trailing {@code '\r'} is dropped), so each line is decoded on
     * its own and a bad byte is reported on the right line.
     */
    private static final class LineSplitter {
        private final InputStream in;
        private final byte[] chunk = new byte[1 << 16];
        private int chunkAt;
        private int chunkEnd;
        private byte[] line = new byte[256];
        private int length;
        private long number;

        LineSplitter(InputStream in) {
            this.in = in;
        }

        /** The next line's bytes (valid up to {@link #length()}), or null at the end. */
        byte[] next() throws IOException {
            length = 0;
            boolean any = false;
            while (true) {
                if (chunkAt == chunkEnd) {
                    chunkEnd = in.read(chunk);
                    chunkAt = 0;
                    if (chunkEnd <= 0) {
                        chunkEnd = 0;
                        break;
                    }
                }
                any = true;
                int newline = -1;
                for (int k = chunkAt; k < chunkEnd; k++) {
                    if (chunk[k] == '\n') {
                        newline = k;
                        break;
                    }
                }
                int stop = newline < 0 ? chunkEnd : newline;
                append(chunkAt, stop - chunkAt);
                chunkAt = newline < 0 ? chunkEnd : newline + 1;
                if (newline >= 0) {
                    break;
                }
            }
            if (!any) {
                return null;
            }
            number++;
            if (length > 0 && line[length - 1] == '\r') {
                length--;
            }
            return line;
        }

        private void append(int from, int count) {
            if (length + count > line.length) {
                line = java.util.Arrays.copyOf(line, Math.max(Math.addExact(length, count), 2 * line.length));
            }
            System.arraycopy(chunk, from, line, length, count);
            length += count;
        }

        long number() {
            return number;
        }

        int length() {
            return length;
        }
    }
}
