package dev.attn4j.domain.training;

import dev.attn4j.domain.model.NeftuneScaling;
import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingConfigTest {

    @Test
    void withersChangeOneThingAndTheScheduleFollows() {
        TrainingConfig c = TrainingConfig.of(100, 3e-4).gradientAccumulation(4).schedule(ScheduleKind.COSINE, 10)
                .neftune(5, NeftuneScaling.PADDLE).every(5, 20, 50).keep(2).seed(7);
        assertEquals(4, c.gradientAccumulation());
        assertEquals(new LearningRateSchedule(ScheduleKind.COSINE, 3e-4, 10, 100), c.learningRates());
        assertEquals(NeftuneScaling.PADDLE, c.neftuneScaling());
        assertEquals(50, c.checkpointEvery());
        assertEquals(2, c.keepCheckpoints());
        assertEquals(7, c.seed());
        assertEquals(200, c.steps(200).learningRates().totalSteps());
    }

    @Test
    void badNumbersAreRejectedByName() {
        TrainingConfig ok = TrainingConfig.of(10, 1e-3);
        assertTrue(assertThrows(InvalidRequestException.class, () -> ok.steps(0)).getMessage().startsWith("steps:"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> ok.gradientAccumulation(0)).getMessage()
                .startsWith("gradient accumulation:"));
        assertThrows(InvalidRequestException.class, () -> TrainingConfig.of(10, Double.POSITIVE_INFINITY));
        assertThrows(InvalidRequestException.class, () -> TrainingConfig.of(10, 1e39), "not finite as a float");
        assertThrows(InvalidRequestException.class, () -> ok.neftune(-1, NeftuneScaling.HUGGING_FACE));
        assertThrows(InvalidRequestException.class, () -> ok.every(0, 0, 0));
        assertThrows(InvalidRequestException.class, () -> ok.keep(0));
        assertThrows(InvalidRequestException.class, () -> AdamWOptions.defaults().betas(1.0, 0.9));
        assertThrows(InvalidRequestException.class, () -> AdamWOptions.defaults().eps(0));
        assertThrows(InvalidRequestException.class, () -> AdamWOptions.defaults().eps(1e-50), "0 as a float");
        assertThrows(InvalidRequestException.class, () -> AdamWOptions.defaults().maxGradNorm(-1));
    }

    @Test
    void epochsBecomeStepsRoundedUp() {
        java.util.List<dev.attn4j.domain.data.PackedRow> rows = new java.util.ArrayList<>();
        for (int r = 0; r < 10; r++) {
            rows.add(new dev.attn4j.domain.data.PackedRow(new int[] {1, 2}, new int[] {1, 2}, new int[] {0, 1},
                    new int[] {2}, new int[] {r}));
        }
        dev.attn4j.domain.data.DataLoader loader = dev.attn4j.domain.data.DataLoader.inOrder(rows, 3, false);
        assertEquals(4, loader.batchesPerEpoch());
        assertEquals(2, TrainingConfig.stepsForEpochs(1, loader, 2));
        assertEquals(3, TrainingConfig.stepsForEpochs(1.5, loader, 2));
        assertEquals(1, TrainingConfig.stepsForEpochs(0.01, loader, 4));
        assertThrows(InvalidRequestException.class, () -> TrainingConfig.stepsForEpochs(0, loader, 1));
        assertThrows(InvalidRequestException.class, () -> TrainingConfig.stepsForEpochs(1e300, loader, 1));
    }

    @Test
    void philoxOffsetsFollowStepAndMicroBatchAndCannotOverflow() {
        assertEquals(0, Trainer.randomOffset(0, 4, 0));
        assertEquals(Trainer.OFFSETS_PER_PASS, Trainer.randomOffset(0, 4, 1));
        assertEquals(9 * Trainer.OFFSETS_PER_PASS, Trainer.randomOffset(2, 4, 1));
        assertThrows(ArithmeticException.class, () -> Trainer.randomOffset(Long.MAX_VALUE / 2, 4, 0));
        assertThrows(ArithmeticException.class, () -> TrainingConfig.of(Long.MAX_VALUE / 8, 1e-3));
    }
}
