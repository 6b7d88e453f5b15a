package dev.attn4j.domain.training;

import dev.attn4j.domain.data.Batch;
import dev.attn4j.domain.data.Example;
import dev.attn4j.domain.data.Packer;
import dev.attn4j.domain.data.Packing;
import dev.attn4j.domain.data.PackingOptions;
import dev.attn4j.domain.data.PackedRow;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MicroBatchTest {
    static final List<Example> DOCS = List.of(
            new Example(new int[] {5, 6, 7}, new int[] {-100, 6, 7}, "a"),
            new Example(new int[] {8, 9}, new int[] {8, 9}, "b"),
            new Example(new int[] {3, 4, 2, 1}, new int[] {-100, -100, 2, 1}, "c"));

    @Test
    void packedRowsBecomePackedBatchesWithTargetsShiftedWithinEachDocument() {
        List<PackedRow> rows = Packer.pack(DOCS, PackingOptions.of(Packing.ZERO_PADDING, 6).padId(0)).rows();
        assertEquals(2, rows.size(), "[a, b] then [c]");
        MicroBatch mb = MicroBatch.of(new Batch(rows), true);
        TokenBatch t = mb.tokens();
        assertArrayEquals(new int[] {5, 6, 7, 8, 9, 0, 3, 4, 2, 1, 0, 0}, t.ids());
        assertArrayEquals(new int[][] {{3, 2}, {4}}, t.documents());
        assertNull(t.keep());
        // a: 5→6, 6→7; its last token predicts b's first, which is -100 (a document start); b: 8→9
        assertArrayEquals(new int[] {6, 7, -100, 9, -100, -100, -100, 2, 1, -100, -100, -100}, mb.targets());
        assertEquals(5, mb.trainedTokens());
        assertEquals(9, mb.realTokens());
    }

    @Test
    void unpackedRowsBecomeMaskedBatches() {
        List<PackedRow> rows = Packer.pack(DOCS, PackingOptions.of(Packing.NONE, 4).padId(0)).rows();
        MicroBatch mb = MicroBatch.of(new Batch(rows), false);
        assertNull(mb.tokens().documents());
        assertArrayEquals(new boolean[] {true, true, true, false, true, true, false, false, true, true, true, true},
                mb.tokens().keep());
        assertArrayEquals(new int[] {6, 7, -100, -100, 9, -100, -100, -100, -100, 2, 1, -100}, mb.targets());
        assertEquals(5, mb.trainedTokens());
    }

    @Test
    void anUnpackedRowWithSeveralDocumentsIsRefused() {
        List<PackedRow> rows = Packer.pack(DOCS, PackingOptions.of(Packing.ZERO_PADDING, 6)).rows();
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> MicroBatch.of(new Batch(rows), false));
        assertEquals("batch.rows[0]: expected one document (unpacked rows); pack with zero padding instead, got 2 "
                + "documents", e.getMessage());
    }
}
