package dev.attn4j.domain.generation;

import dev.attn4j.domain.layers.KvCache;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.EncoderDecoder;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;
import java.util.OptionalInt;

/**
 * Autoregressive generation with a KV cache: one prefill pass over the prompt, then one pass per new token that
 * attends over the cache (no past key is recomputed or uploaded again). Rows of a batch share the prompt length.
 *
 * <pre>{@code
 * int[][] out = Generator.generate(model, new int[][] {{1, 2, 3}}, 32, Sampling.greedy(), OptionalInt.empty());
 * }</pre>
 */
public final class Generator {
    private Generator() {
    }

    /**
     * Continues each prompt by up to {@code maxNewTokens} tokens (stopping a row at {@code eos}, and the whole batch
     * once every row has stopped). Returns the new tokens of each row (without the prompt, with the eos).
     *
     * @param model a decoder-only model
     * @param prompts the rows' prompts, all of one length (at least one token each)
     * @param maxNewTokens the most tokens to add to a row
     * @param sampling greedy, or temperature/top-k/top-p with a seed
     * @param eos the token that ends a row, or empty to always generate {@code maxNewTokens}
     * @return per row, its new tokens
     */
    public static int[][] generate(Transformer model, int[][] prompts, int maxNewTokens, Sampling sampling, OptionalInt eos) {
        return run(model, prompts, maxNewTokens, sampling, eos, null);
    }

    /**
     * Encodes {@code source} once and generates the decoder's continuation of {@code starts} against it.
     *
     * @param model an encoder-decoder model
     * @param source the encoder's tokens {@code [B, Ss]}, with their padding
     * @param starts per row, the decoder's first tokens (all of one length)
     * @param maxNewTokens the most tokens to add to a row
     * @param sampling greedy, or temperature/top-k/top-p with a seed
     * @param eos the token that ends a row, or empty
     * @return per row, its new tokens (without the start tokens)
     */
    public static int[][] generate(EncoderDecoder model, TokenBatch source, int[][] starts, int maxNewTokens,
                                   Sampling sampling, OptionalInt eos) {
        Backend b = model.parameters().backend();
        try (Step step = Step.inference(b)) {
            Transformer.Pass enc = model.encoder().forward(step, source, false);
            return run(model.decoder(), starts, maxNewTokens, sampling, eos, new Context(enc.hidden(), source));
        }
    }

    private record Context(dev.attn4j.ports.tensor.DeviceTensor hidden, TokenBatch batch) {
    }

    private static int[][] run(Transformer model, int[][] prompts, int maxNewTokens, Sampling sampling, OptionalInt eos,
                               Context context) {
        InvalidRequestException.check(prompts.length >= 1, "prompts", "at least one row", 0);
        int len = prompts[0].length;
        InvalidRequestException.check(len >= 1, "prompts", "at least one token per row", 0);
        for (int[] p : prompts) {
            InvalidRequestException.check(p.length == len, "prompts", "rows of one length " + len, p.length);
        }
        InvalidRequestException.check(maxNewTokens >= 1, "maxNewTokens", ">= 1", maxNewTokens);
        int rows = prompts.length;
        int capacity = Math.addExact(len, maxNewTokens);
        if (model.config().absolutePositions()) {
            InvalidRequestException.check(capacity <= model.config().maxSeqLen(), "maxNewTokens",
                    "at most " + (model.config().maxSeqLen() - len) + " (learned positions end at max_seq_len)", maxNewTokens);
        }
        int v = model.config().numTokens();
        Backend b = model.parameters().backend();
        Sampler sampler = new Sampler(sampling);
        int[][] out = new int[rows][maxNewTokens];
        int[] produced = new int[rows];
        boolean[] done = new boolean[rows];
        try (KvCache cache = new KvCache(b, rows, capacity)) {
            int[] ids = new int[rows * len];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(prompts[r], 0, ids, r * len, len);
            }
            TokenBatch next = TokenBatch.of(ids, rows, len);
            for (int t = 0; t < maxNewTokens; t++) {
                float[] logits;
                try (Step step = Step.inference(b)) {
                    logits = model.decode(step, next, cache, context == null ? null : context.hidden(),
                            context == null ? null : context.batch());
                }
                int[] chosen = new int[rows];
                boolean all = true;
                for (int r = 0; r < rows; r++) {
                    int token = sampler.next(logits, r * v, v);
                    chosen[r] = token;
                    if (!done[r]) {
                        out[r][produced[r]++] = token;
                        done[r] = eos.isPresent() && token == eos.getAsInt();
                    }
                    all &= done[r];
                }
                if (all) {
                    break;
                }
                next = TokenBatch.of(chosen, rows, 1);
            }
        }
        int[][] trimmed = new int[rows][];
        for (int r = 0; r < rows; r++) {
            trimmed[r] = Arrays.copyOf(out[r], produced[r]);
        }
        return trimmed;
    }
}
