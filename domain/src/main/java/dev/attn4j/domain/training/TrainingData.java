package dev.attn4j.domain.training;

import dev.attn4j.domain.data.DataLoader;
import dev.attn4j.ports.InvalidRequestException;

/**
 * What a {@link Trainer} reads: the training rows as a {@link DataLoader} whose batch size is the micro-batch
 * (an optimizer step reads {@link TrainingConfig#gradientAccumulation()} of its batches, in order), whether the
 * rows are packed, and optionally evaluation rows (read once through, in order, at each evaluation).
 *
 * <pre>{@code
 * Packer.Packed packed = Packer.pack(train.examples(), PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 1024));
 * TrainingData data = new TrainingData(DataLoader.shuffled(packed.rows(), 8, seed, false), true,
 *         DataLoader.inOrder(evalPacked.rows(), 8, false));
 * }</pre>
 *
 * @param train  the training batches
 * @param packed whether rows hold several documents (zero padding, greedy zero padding) or one each (no packing)
 * @param eval   the evaluation batches, or {@code null} for none
 */
public record TrainingData(DataLoader train, boolean packed, DataLoader eval) {

    /** Requires the training loader. */
    public TrainingData {
        InvalidRequestException.check(train != null, "train", "a data loader", "null");
    }
}
