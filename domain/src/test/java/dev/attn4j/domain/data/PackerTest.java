package dev.attn4j.domain.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.domain.masks.FlashMask;
import dev.attn4j.domain.masks.FlashMasks;
import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packing against PaddleNLP's two rules on fixed inputs (pack contents and order from
 * {@code src/test/python/paddle_packing_reference.py}), and the content of every row: ids, labels,
 * positions, document lengths and the causal document mask read through its row indices.
 */
class PackerTest {

    private static final int X = Labels.IGNORE_INDEX;
    private static final int PAD = 7;

    /** Example {@code k} of length {@code n}: ids {@code 1000·(k+1) + t}, labels = ids, so every token is traceable. */
    private static List<Example> examples(int... lengths) {
        List<Example> out = new ArrayList<>();
        for (int k = 0; k < lengths.length; k++) {
            int[] ids = new int[lengths[k]];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = 1000 * (k + 1) + t;
            }
            out.add(new Example(ids, ids, "ex" + k));
        }
        return out;
    }

    private static List<int[]> members(Packer.Packed packed) {
        return packed.rows().stream().map(PackedRow::examples).toList();
    }

    private static void assertRows(List<int[]> expected, List<int[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": rows");
        for (int r = 0; r < expected.size(); r++) {
            assertArrayEquals(expected.get(r), actual.get(r), what + ": row " + r);
        }
    }

    @Test
    void handWorkedExample() {
        // Lengths 5 3 6 2 4 7 1 into rows of 10.
        List<Example> ex = examples(5, 3, 6, 2, 4, 7, 1);
        // Next-fit: 5+3 | 6+2 | 4 (7 does not fit) | 7+1.
        Packer.Packed next = Packer.pack(ex, PackingOptions.of(Packing.ZERO_PADDING, 10).padId(PAD));
        assertRows(List.of(new int[] {0, 1}, new int[] {2, 3}, new int[] {4}, new int[] {5, 6}), members(next), "next-fit");
        // Greedy: 5,3 -> row0 (room 2); 6 -> new row1 (4); 2 -> row1 (2); 4 -> new row2 (6); 7 -> new row3 (3);
        // 1 -> the most room is row2's 6, not row3's 3.
        Packer.Packed greedy = Packer.pack(ex, PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 10).padId(PAD));
        assertRows(List.of(new int[] {0, 1}, new int[] {2, 3}, new int[] {4, 6}, new int[] {5}), members(greedy), "greedy");
        assertEquals(4, greedy.stats().rows());
        assertEquals(28, greedy.stats().tokens());
        assertEquals(12.0 / 40, greedy.stats().padRatio(), 0);
    }

    @TestFactory
    List<DynamicTest> matchesPaddleNlpOnFixedInputs() throws IOException {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("/data/packing_reference.json")) {
            cases = new ObjectMapper().readTree(in);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : cases) {
            int maxLength = c.get("max_length").asInt();
            int group = c.get("group").asInt();
            int[] lengths = ints(c.get("lengths"));
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                List<Example> ex = examples(lengths);
                // PaddleNLP drops overlong records: SKIP is its policy.
                PackingOptions base = PackingOptions.of(Packing.ZERO_PADDING, maxLength).overlong(OverlongPolicy.SKIP)
                        .groupSize(group).padId(PAD);
                Packer.Packed next = Packer.pack(ex, base);
                Packer.Packed greedy = Packer.pack(ex, new PackingOptions(Packing.GREEDY_ZERO_PADDING, maxLength,
                        OverlongPolicy.SKIP, group, PAD));
                assertRows(rows(c.get("zero_padding")), members(next), "zero_padding");
                assertRows(rows(c.get("greedy")), members(greedy), "greedy");
                long overlong = Arrays.stream(lengths).filter(n -> n > maxLength).count();
                assertEquals(overlong, greedy.stats().skipped());
                assertEquals(lengths.length - overlong, greedy.stats().packed());
                for (Packer.Packed p : List.of(next, greedy)) {
                    long tokens = 0;
                    long trained = 0;
                    for (PackedRow row : p.rows()) {
                        assertRowContent(row, ex, maxLength);
                        tokens += row.tokens();
                        trained += Labels.countTrained(row.labels());
                    }
                    assertEquals(tokens, p.stats().tokens());
                    assertEquals(trained, p.stats().trainedTokens());
                    assertEquals(p.stats().slots() - tokens, p.stats().padTokens());
                }
                // Greedy never needs more rows than next-fit on these inputs.
                assertTrue(greedy.stats().rows() <= next.stats().rows());
            }));
        }
        return tests;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = array.get(k).asInt();
        }
        return out;
    }

    private static List<int[]> rows(JsonNode rows) {
        List<int[]> out = new ArrayList<>();
        rows.forEach(r -> out.add(ints(r)));
        return out;
    }

    /** Ids, labels, positions, lengths and mask of {@code row}, from the examples it names. */
    private static void assertRowContent(PackedRow row, List<Example> ex, int maxLength) {
        assertEquals(maxLength, row.length());
        int[] ids = row.inputIds();
        int[] labels = row.labels();
        int[] positions = row.positions();
        int[] docs = row.docLengths();
        int[] members = row.examples();
        int[] docOf = new int[maxLength];
        Arrays.fill(docOf, -1);
        int at = 0;
        for (int d = 0; d < docs.length; d++) {
            Example e = ex.get(members[d]);
            int n = Math.min(e.length(), maxLength);
            assertEquals(n, docs[d]);
            for (int t = 0; t < n; t++) {
                assertEquals(e.inputIds()[t], ids[at + t]);
                assertEquals(t == 0 ? X : e.labels()[t], labels[at + t], "label at " + (at + t));
                assertEquals(t, positions[at + t]);
                docOf[at + t] = d;
            }
            at += n;
        }
        assertEquals(at, row.tokens());
        for (int p = at; p < maxLength; p++) {
            assertEquals(PAD, ids[p]);
            assertEquals(X, labels[p]);
            assertEquals(0, positions[p]);
        }
        FlashMask mask = row.causalDocumentMask();
        assertEquals(FlashMasks.causalDocument(maxLength, docs), mask);
        assertTrue(mask.causal());
        // Row indices: column j is masked from the end of its document on (padding columns: from the end
        // of the last document, where padding rows start), which with causal=true leaves exactly
        // "same document and j <= i".
        for (int j = 0; j < maxLength; j++) {
            int end = 0;
            for (int d = 0; d <= (docOf[j] < 0 ? docs.length - 1 : docOf[j]); d++) {
                end += docs[d];
            }
            assertEquals(end, mask.value(0, 0, j, 0), "LTS of column " + j);
        }
        for (int i = 0; i < maxLength; i += Math.max(1, maxLength / 37)) {
            for (int j = 0; j < maxLength; j += Math.max(1, maxLength / 41)) {
                boolean expected = docOf[i] >= 0 && docOf[i] == docOf[j] && j <= i;
                assertEquals(expected, mask.allows(0, 0, i, j), "(" + i + ", " + j + ")");
            }
        }
    }

    @Test
    void eachDocumentKeepsItsOwnNextTokenTargetsInsideTheRow() {
        // What makes a packed row's loss equal the documents' losses one by one: within each document's
        // span the row's targets are that document's own targets (its last one -100, not the next document).
        List<Example> ex = List.of(
                new Example(new int[] {1, 2, 3}, new int[] {X, 2, 3}, "a"),
                new Example(new int[] {4, 5}, new int[] {4, 5}, "b"),
                new Example(new int[] {6, 7, 8, 9}, new int[] {X, X, 8, 9}, "c"));
        PackedRow row = Packer.pack(ex, PackingOptions.of(Packing.ZERO_PADDING, 12)).rows().getFirst();
        int[] targets = row.nextTokenTargets();
        int at = 0;
        for (Example e : ex) {
            int[] own = Labels.nextTokenTargets(e.labels());
            assertArrayEquals(own, Arrays.copyOfRange(targets, at, at + e.length()));
            at += e.length();
        }
        assertArrayEquals(new int[] {X, X, X}, Arrays.copyOfRange(targets, at, 12));
        assertArrayEquals(new int[] {X, 2, 3, X, 5, X, X, 8, 9, X, X, X}, row.labels());
    }

    @Test
    void noneIsOneExamplePerPaddedRow() {
        Packer.Packed p = Packer.pack(examples(3, 8, 1), PackingOptions.of(Packing.NONE, 8).padId(PAD));
        assertRows(List.of(new int[] {0}, new int[] {1}, new int[] {2}), members(p), "none");
        assertEquals(24, p.stats().slots());
        assertEquals(12, p.stats().tokens());
        assertEquals(0.5, p.stats().padRatio(), 0);
        for (PackedRow row : p.rows()) {
            assertRowContent(row, examples(3, 8, 1), 8);
        }
    }

    @Test
    void overlongExamplesAreTruncatedInPlaceOrSkippedAndCounted() {
        List<Example> ex = examples(4, 15, 3, 10, 2);
        Packer.Packed truncated = Packer.pack(ex, PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 10).padId(PAD));
        assertEquals(1, truncated.stats().truncated(), "15 is longer than maxLength 10; 10 is not");
        assertEquals(5, truncated.stats().truncatedTokens());
        assertEquals(0, truncated.stats().skipped());
        // 4 -> row0 (6); 15 cut to 10 -> row1 (0); 3 -> row0 (3); 10 -> row2 (0); 2 -> row0 (1).
        assertRows(List.of(new int[] {0, 2, 4}, new int[] {1}, new int[] {3}), members(truncated), "truncate");
        PackedRow cut = truncated.rows().get(1);
        assertArrayEquals(Arrays.copyOf(ex.get(1).inputIds(), 10), cut.inputIds());
        assertEquals(0, cut.padTokens());

        Packer.Packed skipped = Packer.pack(ex, PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 10)
                .overlong(OverlongPolicy.SKIP).padId(PAD));
        assertEquals(1, skipped.stats().skipped());
        assertEquals(0, skipped.stats().truncated());
        assertRows(List.of(new int[] {0, 2, 4}, new int[] {3}), members(skipped), "skip");
        Packer.Packed skippedBoth = Packer.pack(ex, PackingOptions.of(Packing.ZERO_PADDING, 9)
                .overlong(OverlongPolicy.SKIP).padId(PAD));
        assertEquals(2, skippedBoth.stats().skipped());
        assertEquals(0, skippedBoth.stats().truncated());
        assertRows(List.of(new int[] {0, 2, 4}), members(skippedBoth), "skip");
    }

    @Test
    void sortedGroupsPlaceLongestFirstWithinEachGroupOnly() {
        // Groups of 4: {5, 3, 6, 2} and {4, 7, 1}. Sorted: 6 5 3 2 -> 6 | 5 ... then 4 1 7 -> 7 4 1.
        List<Example> ex = examples(5, 3, 6, 2, 4, 7, 1);
        Packer.Packed p = Packer.pack(ex, PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 10).groupSize(4)
                .sortGroups(true).padId(PAD));
        // Group 1: 6 -> row0 (4); 5 -> new row1 (5); 3 -> row1 (2); 2 -> row0 (2).
        // Group 2: 7 -> row2 (3); 4 -> new row3 (6); 1 -> row3 (5).
        assertRows(List.of(new int[] {2, 3}, new int[] {0, 1}, new int[] {5}, new int[] {4, 6}), members(p), "sorted");
        for (PackedRow row : p.rows()) {
            assertRowContent(row, ex, 10);
        }
    }

    @Test
    void sortedGroupsPackTighterOnTheLongTailedReferenceCase() throws IOException {
        JsonNode c;
        try (InputStream in = getClass().getResourceAsStream("/data/packing_reference.json")) {
            c = new ObjectMapper().readTree(in).get(4);
        }
        assertEquals("lognormal-1200", c.get("name").asText());
        List<Example> ex = examples(ints(c.get("lengths")));
        PackingOptions plain = PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 512).overlong(OverlongPolicy.SKIP);
        PackingStats paddle = Packer.pack(ex, plain).stats();
        PackingStats sorted = Packer.pack(ex, plain.sortGroups(true)).stats();
        assertEquals(paddle.tokens(), sorted.tokens());
        assertTrue(sorted.rows() < paddle.rows(), sorted + " vs " + paddle);
        assertTrue(sorted.padRatio() < paddle.padRatio() / 2, sorted + " vs " + paddle);
    }

    @Test
    void packingIsDeterministic() {
        List<Example> ex = examples(5, 9, 2, 7, 7, 1, 3, 8, 4, 6, 2, 2);
        PackingOptions o = PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 12).groupSize(5);
        assertEquals(Packer.pack(ex, o).rows(), Packer.pack(new ArrayList<>(ex), o).rows());
    }

    @Test
    void padIdComesFromTheTokenizer() {
        assertEquals(ByteTokenizer.PAD, PackingOptions.of(Packing.NONE, 4).padId(ByteTokenizer.INSTANCE).padId());
    }

    @Test
    void badOptionsAreRejected() {
        assertThrows(InvalidRequestException.class, () -> PackingOptions.of(Packing.NONE, 0));
        assertThrows(InvalidRequestException.class, () -> PackingOptions.of(Packing.NONE, 8).groupSize(0));
        assertThrows(InvalidRequestException.class, () -> PackingOptions.of(null, 8));
        assertThrows(InvalidRequestException.class, () -> PackingOptions.of(Packing.NONE, 8).padId(-1));
    }

    @Test
    void noExamplesMakeNoRows() {
        Packer.Packed p = Packer.pack(List.of(), PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 8));
        assertTrue(p.rows().isEmpty());
        assertEquals(0, p.stats().padRatio(), 0);
        assertFalse(Double.isNaN(p.stats().examplesPerRow()));
    }
}
