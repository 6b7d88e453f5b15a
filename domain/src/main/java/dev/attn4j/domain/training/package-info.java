/**
 * Training (docs/design.md §12): {@link dev.attn4j.domain.training.Trainer} runs optimizer steps of
 * micro-batches with gradient accumulation over a {@link dev.attn4j.domain.model.Transformer},
 * {@link dev.attn4j.domain.training.AdamW} updates each parameter group with one fused optimizer-port call
 * (per-group learning-rate multiplier and weight decay, global-norm clipping on the device),
 * {@link dev.attn4j.domain.training.LearningRateSchedule} gives Hugging Face's warm-up + constant/linear/cosine
 * learning rates, and {@link dev.attn4j.domain.training.CheckpointStore} writes crash-safe checkpoints that
 * resume bit for bit. Data come from {@link dev.attn4j.domain.data} ({@link dev.attn4j.domain.training.MicroBatch}
 * turns its batches into model inputs).
 *
 * <pre>{@code
 * TrainingConfig config = TrainingConfig.of(500, 1e-3).schedule(ScheduleKind.COSINE, 50).seed(7);
 * try (Transformer model = Transformer.create(backend, modelConfig, 7);
 *      Trainer trainer = new Trainer(model, config, new TrainingData(loader, true, null))) {
 *     trainer.checkpoints(CheckpointStore.at(Path.of("out/checkpoints"), 3)).resume();
 *     Trainer.Result result = trainer.run();
 * }
 * }</pre>
 */
package dev.attn4j.domain.training;
