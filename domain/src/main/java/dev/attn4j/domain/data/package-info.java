/**
 * Training data as host arrays, hardware-agnostic (no tensor, no device): tokenizers
 * ({@link dev.attn4j.domain.data.ByteTokenizer} built in, {@link dev.attn4j.domain.data.HuggingFaceTokenizer}
 * for a {@code tokenizer.json} through DJL, an optional dependency), JSON Lines records in three shapes
 * ({@link dev.attn4j.domain.data.JsonlDataset}), packing into rows of {@code maxLength} as PaddleNLP's zero
 * padding and greedy zero padding do ({@link dev.attn4j.domain.data.Packer}), and batches in a
 * deterministic, resumable order ({@link dev.attn4j.domain.data.DataLoader}) whose causal document masks
 * come from {@link dev.attn4j.domain.masks.FlashMasks#causalDocument}. The trainer uploads the arrays.
 *
 * <p>Labels are aligned with the input ids (Hugging Face's convention, −100 = no loss); the fused
 * cross-entropy takes {@link dev.attn4j.domain.data.Labels#nextTokenTargets next-token targets}.
 *
 * <pre>{@code
 * JsonlDataset data = JsonlDataset.read(Path.of("train.jsonl"), ByteTokenizer.INSTANCE, JsonlDataset.Options.defaults());
 * Packer.Packed packed = Packer.pack(data.examples(),
 *         PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 2048).padId(ByteTokenizer.INSTANCE));
 * DataLoader loader = DataLoader.shuffled(packed.rows(), 4, 42L, false);
 * Batch batch = loader.batch(loader.start());   // ids, labels, positions [4, 2048]; mask [4, 1, 2048, 1]
 * }</pre>
 */
package dev.attn4j.domain.data;
