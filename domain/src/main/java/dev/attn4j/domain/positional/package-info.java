/**
 * Position schemes computed by the domain, the one place their formulas live: ALiBi slopes
 * ({@link dev.attn4j.domain.positional.Alibi}); relative bias tables {@code [H, Sq + Sk - 1]}
 * ({@link dev.attn4j.domain.positional.RelativeBiasTable}) for T5 buckets, KERPLE and Sandwich; RoPE
 * cos/sin tables ({@link dev.attn4j.domain.positional.Rotary}) and xPos scales
 * ({@link dev.attn4j.domain.positional.Xpos}) for the rotary port.
 *
 * <pre>{@code
 * RelativeBiasTable t = RelativeBiasTable.of(Kerple.of(r1, r2), seqQ, seqK);
 * RotaryTables rope = Rotary.of(64).tables(seqLen);
 * }</pre>
 */
package dev.attn4j.domain.positional;
