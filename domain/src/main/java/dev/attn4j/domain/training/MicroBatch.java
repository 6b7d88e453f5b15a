package dev.attn4j.domain.training;

import dev.attn4j.domain.data.Batch;
import dev.attn4j.domain.data.Labels;
import dev.attn4j.domain.data.PackedRow;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.ports.InvalidRequestException;

import java.util.List;

/**
 * One forward/backward pass's worth of rows as the model takes them: the {@link TokenBatch} and the next-token
 * targets aligned with its logits ({@link Labels#nextTokenTargets}, −100 where nothing is scored), with the
 * counts the trainer normalises and reports by.
 *
 * <p>Packed rows (zero padding, greedy zero padding) become {@link TokenBatch#packed}: each row's documents attend
 * only within themselves (a causal document FlashMask) and their positions restart at 0. Unpacked rows (one
 * document per row, then padding) become {@link TokenBatch#masked} with the padding masked out, as
 * x-transformers' {@code mask} argument does.
 *
 * <pre>{@code
 * MicroBatch mb = MicroBatch.of(loader.batch(position), true);
 * Transformer.Pass pass = model.forward(step, mb.tokens(), true);
 * model.lossAndBackward(step, pass, mb.targets(), 1f / mb.trainedTokens());
 * }</pre>
 *
 * @param tokens        the model's input
 * @param targets       {@code [B, L]} next-token targets, −100 where no loss is taken
 * @param trainedTokens targets other than −100 (the loss's denominator)
 * @param realTokens    tokens that are not padding
 */
public record MicroBatch(TokenBatch tokens, int[] targets, long trainedTokens, long realTokens) {

    /** Checks the sizes agree and copies the targets. */
    public MicroBatch {
        InvalidRequestException.check(tokens != null, "tokens", "a token batch", "null");
        InvalidRequestException.check(targets != null && targets.length == tokens.ids().length, "targets",
                tokens.ids().length + " targets [B, L]", targets == null ? "null" : targets.length);
        targets = targets.clone();
        InvalidRequestException.check(trainedTokens == Labels.countTrained(targets), "trainedTokens",
                "the count of targets other than -100", trainedTokens);
    }

    /**
     * {@return the pass for a data loader's batch}
     *
     * @param batch  the rows
     * @param packed whether the rows are packed (documents apart by a causal document mask) or one document each
     *               (padding masked)
     * @throws InvalidRequestException for an unpacked row holding more than one document
     */
    public static MicroBatch of(Batch batch, boolean packed) {
        InvalidRequestException.check(batch != null, "batch", "a batch", "null");
        int rows = batch.size();
        int length = batch.length();
        int[] ids = batch.inputIds();
        int[] targets = batch.nextTokenTargets();
        List<PackedRow> list = batch.rows();
        TokenBatch tokens;
        if (packed) {
            int[][] docs = new int[rows][];
            for (int r = 0; r < rows; r++) {
                docs[r] = list.get(r).docLengths();
            }
            tokens = TokenBatch.packed(ids, docs, rows, length);
        } else {
            boolean[] keep = new boolean[Math.multiplyExact(rows, length)];
            for (int r = 0; r < rows; r++) {
                int[] docs = list.get(r).docLengths();
                InvalidRequestException.check(docs.length == 1, "batch.rows[" + r + "]",
                        "one document (unpacked rows); pack with zero padding instead", docs.length + " documents");
                for (int t = 0; t < docs[0]; t++) {
                    keep[r * length + t] = true;
                }
            }
            tokens = TokenBatch.masked(ids, keep, rows, length);
        }
        return new MicroBatch(tokens, targets, Labels.countTrained(targets), batch.tokens());
    }

    /** {@return a copy of the targets} */
    @Override
    public int[] targets() {
        return targets.clone();
    }
}
