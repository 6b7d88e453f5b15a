package dev.attn4j.domain.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Record shapes with the byte tokenizer (ids = UTF-8 bytes, eos 256, bos 258), and every kind of bad record. */
class JsonlDatasetTest {

    private static final int EOS = ByteTokenizer.EOS;
    private static final int BOS = ByteTokenizer.BOS;
    private static final int X = Labels.IGNORE_INDEX;

    private static JsonlDataset read(String jsonl, JsonlDataset.Options options) throws IOException {
        return read(jsonl.getBytes(StandardCharsets.UTF_8), options);
    }

    private static JsonlDataset read(byte[] jsonl, JsonlDataset.Options options) throws IOException {
        return JsonlDataset.read("train.jsonl", new ByteArrayInputStream(jsonl), ByteTokenizer.INSTANCE, options);
    }

    @Test
    void textIsCausalWithEosAppended() throws IOException {
        Example e = read("{\"text\": \"ab\"}\n", JsonlDataset.Options.defaults()).examples().getFirst();
        assertArrayEquals(new int[] {97, 98, EOS}, e.inputIds());
        assertArrayEquals(new int[] {97, 98, EOS}, e.labels());
        assertEquals("train.jsonl:1", e.source());
    }

    @Test
    void bosIsPrependedOnlyWhenAskedAndNeverTrained() throws IOException {
        Example e = read("{\"text\": \"ab\"}", JsonlDataset.Options.defaults().addBos(true).addEos(false)).examples().getFirst();
        assertArrayEquals(new int[] {BOS, 97, 98}, e.inputIds());
        assertArrayEquals(new int[] {X, 97, 98}, e.labels());
    }

    @Test
    void sourceTargetPairsTrainOnTheTargetOnly() throws IOException {
        List<Example> ex = read("""
                {"src": "ab", "tgt": "c"}
                {"prompt": "x", "completion": "yz", "id": 7}
                """, JsonlDataset.Options.defaults()).examples();
        assertArrayEquals(new int[] {97, 98, 99, EOS}, ex.get(0).inputIds());
        assertArrayEquals(new int[] {X, X, 99, EOS}, ex.get(0).labels());
        assertArrayEquals(new int[] {120, 121, 122, EOS}, ex.get(1).inputIds());
        assertArrayEquals(new int[] {X, 121, 122, EOS}, ex.get(1).labels());
    }

    @Test
    void pretokenizedRecordsAreUsedAsGiven() throws IOException {
        List<Example> ex = read("""
                {"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}
                {"input_ids": [258, 5]}
                {"input_ids": [4], "labels": null}
                """, JsonlDataset.Options.defaults().addBos(true)).examples();
        assertArrayEquals(new int[] {1, 2, 3}, ex.get(0).inputIds());
        assertArrayEquals(new int[] {X, 2, 3}, ex.get(0).labels());
        assertArrayEquals(new int[] {258, 5}, ex.get(1).inputIds(), "no bos/eos added to pre-tokenized records");
        assertArrayEquals(new int[] {258, 5}, ex.get(1).labels(), "labels default to the ids");
        assertArrayEquals(new int[] {4}, ex.get(2).labels());
    }

    @Test
    void blankLinesCrLfAndAByteOrderMarkAreHandledAndLinesCounted() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        out.write("{\"text\": \"a\"}\r\n\r\n   \n{\"text\": \"b\"}".getBytes(StandardCharsets.UTF_8));
        JsonlDataset data = read(out.toByteArray(), JsonlDataset.Options.defaults());
        assertEquals(2, data.examples().size());
        assertEquals("train.jsonl:4", data.examples().get(1).source());
        assertEquals(4, data.stats().lines());
        assertEquals(4, data.stats().tokens());
        assertEquals(4, data.stats().trainedTokens());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "INVALID_JSON    | {\"text\": \"a\"                          | invalid JSON",
            "NOT_AN_OBJECT   | [1, 2]                                    | expected a JSON object, got ARRAY",
            "UNKNOWN_SHAPE   | {\"content\": \"a\"}                      | got content",
            "AMBIGUOUS_SHAPE | {\"text\": \"a\", \"input_ids\": [1]}     | got text, input_ids",
            "MISSING_FIELD   | {\"src\": \"a\"}                          | tgt: missing",
            "MISSING_FIELD   | {\"completion\": \"a\"}                   | prompt: missing",
            "WRONG_TYPE      | {\"text\": 5}                             | text: expected a string, got NUMBER",
            "WRONG_TYPE      | {\"src\": \"a\", \"tgt\": null}           | tgt: expected a string, got NULL",
            "WRONG_TYPE      | {\"input_ids\": \"1 2\"}                  | input_ids: expected an array of integers, got STRING",
            "WRONG_TYPE      | {\"input_ids\": [1, 2.5]}                 | input_ids[1]: expected an integer, got 2.5",
            "WRONG_TYPE      | {\"input_ids\": [1], \"labels\": [\"1\"]} | labels[0]: expected an integer, got STRING",
            "ID_OUT_OF_RANGE | {\"input_ids\": [1, 259]}                 | input_ids[1]: expected an id in [0, 259), got 259",
            "ID_OUT_OF_RANGE | {\"input_ids\": [-100]}                   | input_ids[0]: expected an id in [0, 259), got -100",
            "ID_OUT_OF_RANGE | {\"input_ids\": [1], \"labels\": [-1]}    | labels[0]: expected an id in [0, 259) or -100, got -1",
            "ID_OUT_OF_RANGE | {\"input_ids\": [9999999999]}             | got 9999999999",
            "LABELS_LENGTH   | {\"input_ids\": [1, 2], \"labels\": [1]}  | labels: expected 2 labels (as input_ids), got 1",
            "EMPTY           | {\"input_ids\": []}                       | input_ids: expected at least one id",
    })
    void badRecordsNameFileLineAndField(RecordProblem problem, String record, String detail) {
        String jsonl = "{\"text\": \"fine\"}\n\n" + record + "\n{\"text\": \"fine\"}\n";
        DataException e = assertThrows(DataException.class, () -> read(jsonl, JsonlDataset.Options.defaults()));
        assertEquals(problem, e.problem());
        assertEquals(3, e.line());
        assertEquals("train.jsonl", e.file());
        assertTrue(e.getMessage().startsWith("train.jsonl:3: "), e.getMessage());
        assertTrue(e.getMessage().contains(detail), e.getMessage());
    }

    @Test
    void emptyTextWithoutEosIsEmpty() {
        DataException e = assertThrows(DataException.class,
                () -> read("{\"text\": \"\"}", JsonlDataset.Options.defaults().addEos(false)));
        assertEquals(RecordProblem.EMPTY, e.problem());
    }

    @Test
    void invalidUtf8IsReportedOnItsLine() {
        byte[] bytes = "{\"text\": \"ok\"}\n{\"text\": \"\u00ff\"}\n".getBytes(StandardCharsets.UTF_8);
        bytes[bytes.length - 4] = (byte) 0xFF;   // breaks the 2-byte sequence of ÿ on line 2
        DataException e = assertThrows(DataException.class, () -> read(bytes, JsonlDataset.Options.defaults()));
        assertEquals(2, e.line());
        assertEquals(RecordProblem.INVALID_JSON, e.problem());
    }

    @Test
    void skipPolicyCountsBadRecordsByProblem(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mixed.jsonl");
        Files.writeString(file, """
                {"text": "a"}
                not json
                {"text": 1}
                {"input_ids": [300]}
                {"text": "b"}
                {"text": [1]}
                """);
        JsonlDataset data = JsonlDataset.read(file, ByteTokenizer.INSTANCE,
                JsonlDataset.Options.defaults().badRecords(BadRecordPolicy.SKIP));
        JsonlDataset.ReadStats s = data.stats();
        assertEquals(2, data.examples().size());
        assertEquals(4, s.skipped());
        assertEquals(2L, s.skippedByProblem().get(RecordProblem.WRONG_TYPE));
        assertEquals(1L, s.skippedByProblem().get(RecordProblem.INVALID_JSON));
        assertEquals(1L, s.skippedByProblem().get(RecordProblem.ID_OUT_OF_RANGE));
        assertEquals(4, s.firstErrors().size());
        assertTrue(s.firstErrors().get(0).startsWith(file + ":2: "), s.firstErrors().get(0));
        assertEquals(file + ":5", data.examples().get(1).source());
    }

    @Test
    void aLineLongerThanTheReadBufferIsOneRecord() throws IOException {
        String text = "x".repeat(200_000);
        Example e = read("{\"text\": \"" + text + "\"}\n{\"text\": \"y\"}", JsonlDataset.Options.defaults()).examples().getFirst();
        assertEquals(200_001, e.length());
    }
}
