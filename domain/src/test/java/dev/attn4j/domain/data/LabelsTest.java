package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LabelsTest {

    @Test
    void targetsAreTheNextLabel() {
        assertArrayEquals(new int[] {-100, 99, 256, -100}, Labels.nextTokenTargets(new int[] {-100, -100, 99, 256}));
        assertArrayEquals(new int[] {-100}, Labels.nextTokenTargets(new int[] {7}));
    }

    @Test
    void batchTargetsShiftWithinEachRowOnly() {
        int[] labels = {1, 2, 3, 4, 5, 6};
        // Two rows of 3: row 0's last target must not be row 1's first label.
        assertArrayEquals(new int[] {2, 3, -100, 5, 6, -100}, Labels.nextTokenTargets(labels, 2, 3));
        assertThrows(InvalidRequestException.class, () -> Labels.nextTokenTargets(labels, 4, 2));
    }

    @Test
    void countsTrainedPositions() {
        assertEquals(2, Labels.countTrained(new int[] {-100, 5, -100, 0}));
    }
}
