package dev.attn4j.domain.data;

import dev.attn4j.domain.masks.FlashMask;
import dev.attn4j.domain.masks.FlashMasks;
import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DataLoaderTest {

    private static final int X = Labels.IGNORE_INDEX;

    /** {@code n} rows of length 4, row r holding one document of length {@code 1 + r % 4} with ids 10·r + t. */
    private static List<PackedRow> rows(int n) {
        List<Example> ex = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int[] ids = new int[1 + r % 4];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = 10 * r + t;
            }
            ex.add(Example.causal(ids));
        }
        return Packer.pack(ex, PackingOptions.of(Packing.NONE, 4).padId(3)).rows();
    }

    @Test
    void batchStacksRowsRowMajor() {
        List<PackedRow> rows = rows(3);
        Batch b = new Batch(rows.subList(1, 3));
        assertEquals(2, b.size());
        assertEquals(4, b.length());
        assertArrayEquals(new int[] {10, 11, 3, 3, 20, 21, 22, 3}, b.inputIds());
        assertArrayEquals(new int[] {X, 11, X, X, X, 21, 22, X}, b.labels());
        assertArrayEquals(new int[] {0, 1, 0, 0, 0, 1, 2, 0}, b.positions());
        assertArrayEquals(new int[] {11, X, X, X, 21, 22, X, X}, b.nextTokenTargets());
        assertEquals(5, b.tokens());
        assertEquals(3, b.padTokens());
        assertEquals(3, b.trainedTokens());
        FlashMask mask = b.causalDocumentMask();
        assertEquals(2, mask.batch());
        assertEquals(FlashMask.concatBatch(List.of(FlashMasks.causalDocument(4, 2), FlashMasks.causalDocument(4, 3))), mask);
    }

    @Test
    void inOrderWalksEpochsWithAShortLastBatch() {
        DataLoader loader = DataLoader.inOrder(rows(5), 2, false);
        assertEquals(3, loader.batchesPerEpoch());
        DataPosition at = loader.start();
        List<String> seen = new ArrayList<>();
        for (int step = 0; step < 4; step++) {
            Batch b = loader.batch(at);
            seen.add(at.epoch() + ":" + b.rows().stream().map(r -> Integer.toString(r.inputIds()[0] / 10)).toList());
            at = loader.next(at);
        }
        assertEquals(List.of("0:[0, 1]", "0:[2, 3]", "0:[4]", "1:[0, 1]"), seen);
        assertEquals(new DataPosition(1, 2, loader.fingerprint()), at);
    }

    @Test
    void dropLastSkipsThePartialBatch() {
        DataLoader loader = DataLoader.inOrder(rows(5), 2, true);
        assertEquals(2, loader.batchesPerEpoch());
        DataPosition at = loader.next(loader.next(loader.start()));
        assertEquals(new DataPosition(1, 0, loader.fingerprint()), at);
    }

    @Test
    void shuffleIsASeededPermutationPerEpoch() {
        List<PackedRow> rows = rows(50);
        DataLoader a = DataLoader.shuffled(rows, 4, 42L, false);
        DataLoader b = DataLoader.shuffled(rows, 4, 42L, false);
        DataLoader c = DataLoader.shuffled(rows, 4, 43L, false);
        int[] e0 = a.order(0);
        Set<Integer> all = new HashSet<>();
        Arrays.stream(e0).forEach(all::add);
        assertEquals(50, all.size());
        assertArrayEquals(e0, b.order(0));
        assertFalse(Arrays.equals(e0, a.order(1)), "a new order each epoch");
        assertFalse(Arrays.equals(e0, c.order(0)), "another seed, another order");
        assertNotEquals(a.fingerprint(), c.fingerprint());
        // Pinned so a change to the shuffle (which would break resuming old checkpoints) is noticed; the
        // values were checked against a Python transcription of the rule in DataLoader's comment.
        assertArrayEquals(new int[] {5, 1, 4, 8, 6, 3, 9, 2, 0, 7}, DataLoader.permutation(10, true, 42L, 0));
        assertArrayEquals(new int[] {8, 3, 9, 6, 1, 5, 7, 4, 2, 0}, DataLoader.permutation(10, true, 42L, 1));
    }

    @Test
    void resumingFromASavedPositionContinuesExactly() {
        List<PackedRow> rows = rows(23);
        DataLoader first = DataLoader.shuffled(rows, 3, 7L, false);
        List<Batch> uninterrupted = new ArrayList<>();
        DataPosition at = first.start();
        DataPosition saved = null;
        for (int step = 0; step < 20; step++) {
            if (step == 11) {
                saved = at;
            }
            uninterrupted.add(first.batch(at));
            at = first.next(at);
        }
        // A new process: the same rows and settings, the three numbers from the checkpoint.
        DataLoader second = DataLoader.shuffled(new ArrayList<>(rows), 3, 7L, false);
        DataPosition resumed = new DataPosition(saved.epoch(), saved.row(), saved.fingerprint());
        for (int step = 11; step < 20; step++) {
            assertEquals(uninterrupted.get(step), second.batch(resumed), "step " + step);
            resumed = second.next(resumed);
        }
    }

    @Test
    void theFingerprintIsTheSameForThePackersLazyRowsAndACopyAndSeesEveryLabel() {
        List<Example> ex = new ArrayList<>();
        for (int k = 0; k < 30; k++) {
            ex.add(new Example(new int[] {k, k + 1, k + 2}, new int[] {X, k + 1, k + 2}, ""));
        }
        List<PackedRow> lazy = Packer.pack(ex, PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 8).groupSize(7)).rows();
        long fp = DataLoader.shuffled(lazy, 2, 5L, false).fingerprint();
        assertEquals(fp, DataLoader.shuffled(new ArrayList<>(lazy), 2, 5L, false).fingerprint());
        ex.set(17, new Example(new int[] {17, 18, 19}, new int[] {X, X, 19}, ""));
        List<PackedRow> changed = Packer.pack(ex, PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 8).groupSize(7)).rows();
        assertNotEquals(fp, DataLoader.shuffled(changed, 2, 5L, false).fingerprint());
        assertNotEquals(fp, DataLoader.shuffled(new ArrayList<>(changed), 2, 5L, false).fingerprint());
    }

    @Test
    void aPositionFromOtherDataOrSettingsIsRejected() {
        List<PackedRow> rows = rows(8);
        DataPosition p = DataLoader.shuffled(rows, 2, 1L, false).start();
        assertThrows(InvalidRequestException.class, () -> DataLoader.shuffled(rows, 2, 2L, false).batch(p));
        assertThrows(InvalidRequestException.class, () -> DataLoader.shuffled(rows, 4, 1L, false).batch(p));
        assertThrows(InvalidRequestException.class, () -> DataLoader.shuffled(rows.subList(0, 7), 2, 1L, false).batch(p));
        DataLoader same = DataLoader.shuffled(rows, 2, 1L, false);
        assertThrows(InvalidRequestException.class, () -> same.batch(new DataPosition(0, 9, same.fingerprint())));
    }

    @Test
    void rowsOfDifferentLengthsAreRejected() {
        List<PackedRow> rows = new ArrayList<>(rows(2));
        rows.add(Packer.pack(List.of(Example.causal(1)), PackingOptions.of(Packing.NONE, 5)).rows().getFirst());
        assertThrows(InvalidRequestException.class, () -> new Batch(rows));
        assertThrows(InvalidRequestException.class, () -> DataLoader.inOrder(rows, 1, false));
    }
}
