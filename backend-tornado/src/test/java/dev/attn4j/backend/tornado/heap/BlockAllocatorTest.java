package dev.attn4j.backend.tornado.heap;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockAllocatorTest {

    @Test
    void blocksAreAlignedAndDisjoint() {
        BlockAllocator heap = new BlockAllocator(1024, 16);
        assertEquals(0, heap.allocate(1));
        assertEquals(16, heap.allocate(17));
        assertEquals(48, heap.allocate(16));
        assertEquals(64, heap.end());
        assertEquals(64, heap.used());
    }

    @Test
    void fullHeapAsksToGrowAndGrowingKeepsOffsets() {
        BlockAllocator heap = new BlockAllocator(64, 16);
        long a = heap.allocate(48);
        assertEquals(-1, heap.allocate(32));
        heap.grow(128);
        long b = heap.allocate(32);
        assertEquals(0, a);
        assertEquals(48, b, "the old tail and the new range are one free block");
        assertEquals(128, heap.capacity());
        assertThrows(IllegalArgumentException.class, () -> heap.grow(64));
    }

    @Test
    void freeingMergesNeighboursSoAnEmptiedHeapIsOneBlockAgain() {
        BlockAllocator heap = new BlockAllocator(64, 16);
        long a = heap.allocate(16), b = heap.allocate(16), c = heap.allocate(16), d = heap.allocate(16);
        heap.free(b);
        heap.free(d);
        heap.free(c);
        assertEquals(16, heap.end());
        assertEquals(16, heap.allocate(48), "b, c and d merged into one block");
        heap.free(16);
        heap.free(a);
        assertEquals(0, heap.end());
        assertEquals(0, heap.allocate(64));
    }

    @Test
    void rejectsDoubleFreesAndBadSizes() {
        BlockAllocator heap = new BlockAllocator(64, 16);
        long a = heap.allocate(8);
        heap.free(a);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> heap.free(a));
        assertTrue(e.getMessage().contains("no block is allocated at 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> heap.allocate(0));
        assertThrows(IllegalArgumentException.class, () -> new BlockAllocator(64, 12));
    }

    @Test
    void randomAllocationsNeverOverlapAndAccountingBalances() {
        BlockAllocator heap = new BlockAllocator(1 << 16, 16);
        Random rnd = new Random(7);
        List<long[]> live = new ArrayList<>();
        for (int step = 0; step < 5000; step++) {
            if (live.isEmpty() || rnd.nextInt(3) > 0) {
                long n = 1 + rnd.nextInt(700);
                long at = heap.allocate(n);
                if (at >= 0) {
                    assertEquals(0, at % 16);
                    for (long[] other : live) {
                        assertTrue(at + n <= other[0] || other[0] + other[1] <= at, "overlap at step " + step);
                    }
                    live.add(new long[] {at, n});
                }
            } else {
                heap.free(live.remove(rnd.nextInt(live.size()))[0]);
            }
            long expected = live.stream().mapToLong(b -> (b[1] + 15) / 16 * 16).sum();
            assertEquals(expected, heap.used());
            assertEquals(live.size(), heap.blocks());
        }
        live.forEach(b -> heap.free(b[0]));
        assertEquals(0, heap.end());
    }
}
