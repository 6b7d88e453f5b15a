package dev.attn4j.app.bench;

import dev.attn4j.ports.attention.AttentionShape;

/**
 * Floating-point operation counts, so that GFLOP/s figures compare with published ones: attention as FlashAttention
 * reports it (docs/design.md §8), forward {@code 4·B·H·Sq·Sk·D}, half of it when causal, backward 2.5 times the
 * forward; a GEMM as BLAS does, {@code 2·M·N·K} (§14).
 *
 * <pre>{@code
 * double gflops = Flops.attention(shape, true, false) / seconds / 1e9;
 * }</pre>
 */
public final class Flops {
    private Flops() {
    }

    /** FLOPs of a matrix product of an {@code m×k} and a {@code k×n} matrix: {@code 2·m·n·k} (docs/design.md §14). */
    public static double gemm(int m, int n, int k) {
        return 2.0 * m * n * k;
    }

    /**
     * FLOPs of a fused linear cross-entropy with gradients over {@code tokens} rows, a vocabulary {@code v} and
     * width {@code d}: its three GEMMs (logits, {@code dh}, {@code dW}), {@code 3 · 2·tokens·v·d}; the softmax is
     * not counted.
     */
    public static double crossEntropy(int tokens, int v, int d) {
        return 3 * gemm(tokens, v, d);
    }

    /** FLOPs of one attention call of {@code shape}. */
    public static double attention(AttentionShape shape, boolean causal, boolean backward) {
        double forward = 4.0 * shape.batch() * shape.heads() * shape.seqQ() * shape.seqK() * shape.headDim();
        if (causal) {
            forward /= 2;
        }
        return backward ? 2.5 * forward : forward;
    }
}
