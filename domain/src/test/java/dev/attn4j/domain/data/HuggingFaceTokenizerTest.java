package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The byte-level BPE tokenizer written by {@code src/test/python/make_bpe_tokenizer.py}, loaded through
 * DJL from disk (no network: run under {@code unshare -n} to prove it). Expected ids come from the merge
 * ranks, worked out in that script's comment.
 */
class HuggingFaceTokenizerTest {

    private static HuggingFaceTokenizer tok;

    static Path bpeTokenizer() {
        try {
            return Path.of(HuggingFaceTokenizerTest.class.getResource("/data/bpe/tokenizer.json").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    static void open() throws IOException {
        tok = HuggingFaceTokenizer.open(bpeTokenizer());
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void mergesApplyByRank() {
        assertArrayEquals(new int[] {259, 264}, tok.encode("hello world"));
        assertEquals("hello world", tok.decode(new int[] {259, 264}));
        // " hello" is "Ġ" (the space byte, id 32) + "hello": no merge joins them.
        assertArrayEquals(new int[] {259, 32, 259}, tok.encode("hello hello"));
    }

    @Test
    void vocabularyAndSpecialsComeFromTheFileAndItsConfig() {
        assertEquals(267, tok.vocabSize());
        assertEquals(265, tok.eos().getAsInt());
        assertEquals(266, tok.pad().getAsInt());
        assertFalse(tok.bos().isPresent(), "tokenizer_config.json says bos_token: null");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "hello world", "Grüße, 世界! 🎉\n\ttabs  and  spaces", "ends with space ", "\u0000\u0001"})
    void roundTripIsLossless(String text) {
        int[] ids = tok.encode(text);
        for (int id : ids) {
            assertEquals(true, id >= 0 && id < tok.vocabSize());
        }
        assertEquals(text, tok.decode(ids));
    }

    @Test
    void noSpecialTokensAddedAndNoTruncationAt512() {
        // DJL's defaults would truncate to 512 tokens; 1 + 2·999 tokens must come back whole.
        String text = "hello" + " hello".repeat(999);
        int[] ids = tok.encode(text);
        assertEquals(1999, ids.length);
        assertEquals(text, tok.decode(ids));
    }

    @Test
    void decodeRendersOrSkipsSpecials() {
        assertEquals("hello<|endoftext|>", tok.decode(new int[] {259, 265}));
        assertEquals("hello", tok.decode(new int[] {259, 265, 266}, true));
        assertThrows(InvalidRequestException.class, () -> tok.decode(new int[] {267}));
    }

    @Test
    void addedTokenTextInTheInputIsThatToken() {
        assertArrayEquals(new int[] {259, 265}, tok.encode("hello<|endoftext|>"));
    }

    @Test
    void withoutAConfigWellKnownSpecialNamesAreUsed(@TempDir Path dir) throws IOException {
        Path alone = Files.copy(bpeTokenizer(), dir.resolve("tokenizer.json"));
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.open(alone)) {
            assertEquals(265, t.eos().getAsInt());
            assertEquals(266, t.pad().getAsInt());
            assertFalse(t.bos().isPresent());
        }
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.builder(alone).bosToken("<|endoftext|>").padToken("").build()) {
            assertEquals(265, t.bos().getAsInt());
            assertFalse(t.pad().isPresent());
        }
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> HuggingFaceTokenizer.builder(alone).eosToken("</s>").build());
        assertEquals("eosToken", e.argument());
    }

    @Test
    void aMissingFileIsRejectedBeforeDjl(@TempDir Path dir) {
        assertThrows(InvalidRequestException.class, () -> HuggingFaceTokenizer.open(dir.resolve("nope.json")));
    }

    @Test
    void jsonlTextRecordsGetTheTokenizersEos() throws IOException {
        String jsonl = "{\"prompt\": \"hello\", \"completion\": \" world\"}\n";
        JsonlDataset data = JsonlDataset.read("t.jsonl", new ByteArrayInputStream(jsonl.getBytes(StandardCharsets.UTF_8)),
                tok, JsonlDataset.Options.defaults());
        Example e = data.examples().getFirst();
        assertArrayEquals(new int[] {259, 264, 265}, e.inputIds());
        assertArrayEquals(new int[] {-100, 264, 265}, e.labels());
    }

    @Test
    void unigramVocabulariesCountByIndex(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, """
                {"added_tokens": [{"id": 3, "content": "</s>", "special": true}],
                 "model": {"type": "Unigram", "vocab": [["<unk>", 0.0], ["\u2581a", -1.0], ["b", -2.0], ["</s>", 0.0]]}}
                """);
        TokenizerJson json = TokenizerJson.read(file);
        assertEquals(4, json.vocabSize());
        assertEquals(1, json.ids().get("\u2581a"));
        assertEquals(java.util.Set.of(3), json.specialIds());
    }
}
