package dev.attn4j.domain.model;

/**
 * How NEFTune's noise magnitude {@code m} is derived from {@code α} for an embedding output of shape
 * {@code [B, L, D]}; the noise is {@code U(−m, m)}, added in training passes only.
 *
 * <ul>
 *   <li>{@link #HUGGING_FACE}: {@code m = α / √(L·D)}, the NEFTune paper's rule as Hugging Face implements it
 *       ({@code transformers} {@code neftune_post_forward_hook}: {@code dims = output.size(1) * output.size(2)}).</li>
 *   <li>{@link #PADDLE}: {@code m = α / √(B·L)}, PaddleNLP's fine-tuning script
 *       ({@code llm/run_finetune.py}, {@code neft_post_hook}:
 *       {@code paddle.sqrt(output.shape[0] * output.shape[1])} on the {@code [B, L, D]} embedding output): the
 *       batch size takes the place of the model width, so the noise shrinks with the batch instead of the width.</li>
 * </ul>
 * In both, {@code L} is the padded (or packed) row length the pass runs, not the real tokens of a row.
 *
 * <pre>{@code
 * model.neftune(5.0, NeftuneScaling.PADDLE);
 * float m = NeftuneScaling.PADDLE.magnitude(5.0, 4, 2048, 512);   // 5 / sqrt(4 * 2048)
 * }</pre>
 */
public enum NeftuneScaling {
    /** {@code m = α / √(L·D)} (Hugging Face, the paper). */
    HUGGING_FACE,
    /** {@code m = α / √(B·L)} (PaddleNLP's {@code neft_post_hook}). */
    PADDLE;

    /**
     * The noise bound {@code m} for an embedding output {@code [batch, seqLen, dim]}, computed in double and
     * rounded once to float.
     *
     * @param alpha  NEFTune's α
     * @param batch  B, the rows of the pass
     * @param seqLen L, the (padded) row length
     * @param dim    d, the model width
     * @return {@code m}
     */
    public float magnitude(double alpha, int batch, int seqLen, int dim) {
        double n = switch (this) {
            case HUGGING_FACE -> (double) seqLen * dim;
            case PADDLE -> (double) batch * seqLen;
        };
        return (float) (alpha / Math.sqrt(n));
    }
}
