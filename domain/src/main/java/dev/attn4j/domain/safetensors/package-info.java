/**
 * The safetensors format, read and written safely: {@link dev.attn4j.domain.safetensors.SafetensorsReader}
 * treats every file as hostile (a streamed, capped header; offsets, dtypes, shapes and overlaps checked before
 * anything is allocated; tensors read straight into the caller's arrays) and
 * {@link dev.attn4j.domain.safetensors.SafetensorsWriter} writes atomically (temporary file, fsync, rename),
 * streaming the host arrays. Checkpoints, weights and the conformance fixtures all go through these two.
 *
 * <pre>{@code
 * SafetensorsWriter.create().f32("w", weights, 1024, 1024).metadata("step", "100").write(Path.of("ckpt.safetensors"));
 * try (SafetensorsReader r = SafetensorsReader.open(Path.of("ckpt.safetensors"))) {
 *     float[] w = r.readFloats("w");
 * }
 * }</pre>
 */
package dev.attn4j.domain.safetensors;
