package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ByteTokenizerTest {

    private final ByteTokenizer tok = ByteTokenizer.INSTANCE;

    @ParameterizedTest
    @ValueSource(strings = {"", "hello world", "héllo €uro", "世界 🎉\n\ttabs\r\n", "<|eos|> is text, not a token",
            "\u0000nul and \u007f del"})
    void roundTripIsLossless(String text) {
        int[] ids = tok.encode(text);
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, ids.length);
        for (int id : ids) {
            assertEquals(true, id >= 0 && id < 256, "text never yields a special id: " + id);
        }
        assertEquals(text, tok.decode(ids));
    }

    @Test
    void idsAreTheUtf8Bytes() {
        assertArrayEquals(new int[] {97, 226, 130, 172}, tok.encode("a€"));
    }

    @Test
    void specialIdsAreAfterTheBytes() {
        assertEquals(259, tok.vocabSize());
        assertEquals(256, tok.eos().getAsInt());
        assertEquals(257, tok.pad().getAsInt());
        assertEquals(258, tok.bos().getAsInt());
    }

    @Test
    void decodeRendersOrSkipsSpecials() {
        int[] ids = {ByteTokenizer.BOS, 104, 105, ByteTokenizer.EOS, ByteTokenizer.PAD};
        assertEquals("<|bos|>hi<|eos|><|pad|>", tok.decode(ids));
        assertEquals("hi", tok.decode(ids, true));
    }

    @Test
    void aMultiByteCharacterSplitBySpecialsDecodesWithReplacement() {
        // The first two bytes of "€", then eos: not valid UTF-8 on its own.
        assertEquals("\uFFFD<|eos|>", tok.decode(new int[] {226, 130, ByteTokenizer.EOS}));
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> tok.decode(new int[] {1, 259}));
        assertEquals("ids[1]", e.argument());
        assertThrows(InvalidRequestException.class, () -> tok.decode(new int[] {-1}));
    }
}
