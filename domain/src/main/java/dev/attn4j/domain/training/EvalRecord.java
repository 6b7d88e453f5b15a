package dev.attn4j.domain.training;

/**
 * One evaluation: the mean cross-entropy per trained token over the evaluation rows.
 *
 * <pre>{@code
 * EvalRecord e = trainer.evaluate();
 * double perplexity = e.perplexity();
 * }</pre>
 *
 * @param step          optimizer steps done when it ran
 * @param loss          mean loss per trained token
 * @param trainedTokens tokens with a loss
 * @param seconds       how long it took
 */
public record EvalRecord(long step, double loss, long trainedTokens, double seconds) {

    /** {@return {@code exp(loss)}, the perplexity} */
    public double perplexity() {
        return Math.exp(loss);
    }
}
