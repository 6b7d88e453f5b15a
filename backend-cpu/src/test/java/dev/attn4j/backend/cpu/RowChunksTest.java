package dev.attn4j.backend.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RowChunksTest {

    @ParameterizedTest(name = "rows {0}, C {1}")
    @CsvSource({"1,1", "1,100000", "7,3", "300,512", "1000000,1024", "129,16384", "5000,1",
            "2147483647,1", "2147483646,1"})   // the last chunk's nominal end passes 2^31 - 1
    void chunksTileTheRowsInOrderWithinTheCap(int rows, int c) {
        RowChunks chunks = RowChunks.of(rows, c);
        assertTrue(chunks.count() >= 1 && chunks.count() <= RowChunks.MAX_CHUNKS, "count " + chunks.count());
        int next = 0;
        for (int k = 0; k < chunks.count(); k++) {
            assertEquals(next, chunks.start(k), "chunk " + k + " starts where the last ended");
            assertTrue(chunks.end(k) > chunks.start(k), "chunk " + k + " is not empty");
            next = chunks.end(k);
        }
        assertEquals(rows, next, "chunks cover every row");
    }

    @ParameterizedTest(name = "rows {0}, C {1} -> {2} chunks")
    @CsvSource({"1,1,1", "300,512,10", "1000000,1024,128", "64,256,1", "65,256,2"})
    void chunkCountDependsOnTheSizeOnly(int rows, int c, int expected) {
        assertEquals(expected, RowChunks.of(rows, c).count());
    }
}
