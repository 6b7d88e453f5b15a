package dev.attn4j.conformance;

import java.util.Arrays;
import java.util.Locale;

/**
 * Every op the suite checks, one constant per row of the {@code attn4j conformance} table. {@link #id()} is the
 * name reports and JUnit display names print ({@code attention_forward}, {@code linear_backward}, ...), stable
 * across releases.
 *
 * <pre>{@code
 * Op op = Op.of("attention_backward");   // Op.ATTENTION_BACKWARD
 * String row = op.id();                  // "attention_backward"
 * }</pre>
 */
public enum Op {
    /** Attention forward: {@code o, lse}. */
    ATTENTION_FORWARD("attention_forward"),
    /** Attention backward on the backend's own forward: {@code dq, dk, dv} (+ the bias table's gradient). */
    ATTENTION_BACKWARD("attention_backward"),
    /** Attention forward on inputs holding NaN or infinities: the non-finite rule's {@code o, lse}. */
    ATTENTION_NONFINITE("attention_nonfinite"),
    /** Its backward, where the rule fixes the NaN pattern of {@code dq, dk, dv}. */
    ATTENTION_NONFINITE_BACKWARD("attention_nonfinite_backward"),
    /** LayerNorm / RMSNorm forward: {@code y} and the saved statistics. */
    NORM_FORWARD("norm_forward"),
    /** LayerNorm / RMSNorm backward. */
    NORM_BACKWARD("norm_backward"),
    /** Rotary tables applied to {@code x}. */
    ROTARY("rotary"),
    /** The inverse rotation applied to an upstream gradient. */
    ROTARY_BACKWARD("rotary_backward"),
    /** {@code y = x·Wᵀ + b}. */
    LINEAR_FORWARD("linear_forward"),
    /** {@code dx}, and {@code dW}, {@code db} added into accumulators. */
    LINEAR_BACKWARD("linear_backward"),
    /** {@code C = alpha·op(A)·op(B) + beta·C}, transposes, strided batches, batch-1 broadcast. */
    MATMUL("matmul"),
    /** An element-wise activation. */
    ACTIVATION_FORWARD("activation_forward"),
    /** Its backward. */
    ACTIVATION_BACKWARD("activation_backward"),
    /** A gated linear unit (SwiGLU, GeGLU, ...). */
    GLU_FORWARD("glu_forward"),
    /** Its backward. */
    GLU_BACKWARD("glu_backward"),
    /** {@code a + alpha·b}. */
    ADD("add"),
    /** {@code y += alpha·x}, in place. */
    AXPY("axpy"),
    /** {@code x *= alpha}, in place. */
    SCALE("scale"),
    /** {@code x ⊙ v} with {@code v} broadcast along rows or columns. */
    BROADCAST_MULTIPLY_FORWARD("broadcast_multiply_forward"),
    /** Its backward: {@code dx} and the vector's gradient added into an accumulator. */
    BROADCAST_MULTIPLY_BACKWARD("broadcast_multiply_backward"),
    /** Token shift per document. */
    TOKEN_SHIFT_FORWARD("token_shift_forward"),
    /** Its backward (the shift the other way). */
    TOKEN_SHIFT_BACKWARD("token_shift_backward"),
    /** Embedding look-up. */
    EMBEDDING_FORWARD("embedding_forward"),
    /** Its scatter-add backward into an accumulator. */
    EMBEDDING_BACKWARD("embedding_backward"),
    /** Fused linear cross-entropy: loss sum, count, per-token losses, {@code dHidden}, {@code dW}, {@code db}. */
    LINEAR_CROSS_ENTROPY("linear_cross_entropy"),
    /** One fused AdamW step (with or without clipping). */
    ADAMW("adamw"),
    /** {@code accumulator += Σ x²}. */
    SUM_OF_SQUARES("sum_of_squares"),
    /** Uniform fill from the Philox stream, bit for bit. */
    UNIFORM("uniform"),
    /** A view over part of a tensor, reading and writing through. */
    TENSOR_VIEW("tensor_view"),
    /** A strided block copy. */
    TENSOR_COPY("tensor_copy"),
    /** A copy in another floating dtype. */
    TENSOR_CAST("tensor_cast"),
    /** Every element set to one value. */
    TENSOR_FILL("tensor_fill");

    private final String id;

    Op(String id) {
        this.id = id;
    }

    /** {@return the op's name in reports, e.g. {@code attention_forward}} */
    public String id() {
        return id;
    }

    /**
     * The op named {@code id}.
     *
     * @param id the op's name in reports
     * @return the op
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public static Op of(String id) {
        String wanted = id == null ? "" : id.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(o -> o.id.equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("op: expected one of "
                        + Arrays.stream(values()).map(Op::id).toList() + ", got '" + id + "'"));
    }

    /** {@return {@link #id()}, so that display names read as before the enum} */
    @Override
    public String toString() {
        return id;
    }
}
