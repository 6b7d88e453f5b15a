package dev.attn4j.domain.training;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The schedule's shape at its corners (the values against PyTorch's LambdaLR are in conformance-tests). */
class LearningRateScheduleTest {

    @Test
    void warmupStartsAtZeroAndReachesThePeakAfterWSteps() {
        LearningRateSchedule s = new LearningRateSchedule(ScheduleKind.COSINE, 1e-3, 4, 12);
        assertEquals(0.0, s.at(0));
        assertEquals(0.25e-3, s.at(1), 1e-18);
        assertEquals(0.75e-3, s.at(3), 1e-18);
        assertEquals(1e-3, s.at(4), 1e-18);
    }

    @Test
    void cosineHalvesAtMidDecayAndEndsAtZero() {
        LearningRateSchedule s = new LearningRateSchedule(ScheduleKind.COSINE, 2.0, 2, 10);
        assertEquals(1.0, s.at(6), 1e-15, "half way through the decay: cos(π/2)");
        assertEquals(0.0, s.at(10), 1e-15);
        // past the end Hugging Face's formula climbs again (it only clips below 0); a trainer never asks for it
        assertEquals(2.0 * 0.5 * (1 + Math.cos(Math.PI * 9 / 8)), s.at(11), 1e-15);
    }

    @Test
    void linearDecaysToZeroAtTheLastStep() {
        LearningRateSchedule s = new LearningRateSchedule(ScheduleKind.LINEAR, 1.0, 0, 4);
        assertEquals(1.0, s.at(0));
        assertEquals(0.75, s.at(1));
        assertEquals(0.25, s.at(3));
        assertEquals(0.0, s.at(4));
        assertEquals(0.0, s.at(9), "max(0, ...)");
    }

    @Test
    void constantIsThePeakAfterWarmupAndWarmupOfOneStepSkipsTheZero() {
        LearningRateSchedule s = new LearningRateSchedule(ScheduleKind.CONSTANT, 0.5, 1, 3);
        assertEquals(0.0, s.at(0), "LambdaLR's first factor is lambda(0) = 0/1");
        assertEquals(0.5, s.at(1));
        assertEquals(0.5, s.at(2));
        assertEquals(0.5, new LearningRateSchedule(ScheduleKind.CONSTANT, 0.5, 0, 3).at(0));
    }

    @Test
    void badValuesNameTheArgument() {
        assertThrows(InvalidRequestException.class, () -> new LearningRateSchedule(ScheduleKind.LINEAR, -1, 0, 3));
        assertThrows(InvalidRequestException.class, () -> new LearningRateSchedule(ScheduleKind.LINEAR, Double.NaN, 0, 3));
        assertThrows(InvalidRequestException.class, () -> new LearningRateSchedule(ScheduleKind.LINEAR, 1, -1, 3));
        assertThrows(InvalidRequestException.class, () -> new LearningRateSchedule(ScheduleKind.LINEAR, 1, 0, 0));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> new LearningRateSchedule(ScheduleKind.LINEAR, 1, 0, 3).at(-1));
        assertEquals("step: expected >= 0, got -1", e.getMessage());
    }
}
