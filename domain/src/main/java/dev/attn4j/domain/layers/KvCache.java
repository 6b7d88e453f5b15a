package dev.attn4j.domain.layers;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * What incremental decoding keeps between passes, preallocated on the backend: per self-attention layer and per
 * batch row, the rotated keys and the values of every token so far ({@code [1, capacity, G, dh]}, appended in place),
 * per cross-attention layer the context's keys and values (computed once), and per block with a token shift the last
 * inputs it will shift in. Attention over the cache uses bottom-right causal alignment, so a pass of {@code n} new
 * tokens after {@code t} cached ones computes exactly the rows {@code t..t+n−1} of a full pass.
 *
 * <pre>{@code
 * try (KvCache cache = new KvCache(backend, 1, 2048)) {
 *     model.forward(step, prompt, cache);        // prefill
 *     model.forward(step, nextToken, cache);     // one token at a time
 * }
 * }</pre>
 */
public final class KvCache implements AutoCloseable {
    private final Backend backend;
    private final int batch;
    private final int capacity;
    private final List<Layer> layers = new ArrayList<>();
    private int length;
    private boolean closed;

    /**
     * An empty cache; each layer's key and value buffers are allocated on its first append.
     *
     * @param backend where the cached tensors live (the model's backend)
     * @param batch    rows decoded together (all of one length)
     * @param capacity the most tokens a row will hold (prompt plus generated)
     */
    public KvCache(Backend backend, int batch, int capacity) {
        InvalidRequestException.check(batch >= 1, "batch", ">= 1", batch);
        InvalidRequestException.check(capacity >= 1, "capacity", ">= 1", capacity);
        this.backend = backend;
        this.batch = batch;
        this.capacity = capacity;
    }

    /** {@return the tokens cached per row} */
    public int length() {
        return length;
    }

    /** {@return the most tokens a row can hold} */
    public int capacity() {
        return capacity;
    }

    /** {@return the rows decoded together} */
    public int batch() {
        return batch;
    }

    /**
     * Marks {@code n} more tokens as cached (after a pass appended them in every layer).
     *
     * @param n the tokens the pass added to every row
     * @throws InvalidRequestException when the cache would exceed its capacity
     */
    public void advance(int n) {
        InvalidRequestException.check(length + (long) n <= capacity, "tokens", "at most " + (capacity - length)
                + " more (cache capacity " + capacity + ")", n);
        length += n;
    }

    /**
     * Checks that a pass of {@code n} tokens fits.
     *
     * @param n the tokens the pass will add to every row
     * @param rows the pass's batch size, which must be the cache's
     * @throws InvalidRequestException when the rows differ or the tokens do not fit
     */
    public void requireRoom(int n, int rows) {
        InvalidRequestException.check(rows == batch, "batch", batch + " rows (as the cache)", rows);
        InvalidRequestException.check(length + (long) n <= capacity, "tokens", "at most " + (capacity - length)
                + " new tokens (cache capacity " + capacity + ", " + length + " used)", n);
    }

    /**
     * The cache of layer {@code index} (in block order), created on first use.
     *
     * @param index the block's index in the stack, from 0
     * @return that block's keys, values and token-shift history
     */
    public Layer layer(int index) {
        while (layers.size() <= index) {
            layers.add(new Layer());
        }
        return layers.get(index);
    }

    /** One block's cached state. */
    public final class Layer {
        /** Made only by {@link KvCache#layer(int)}, one per block. */
        Layer() {
        }

        /** Tokens cached before the current pass. */
        int length() {
            return length;
        }

        /** The backend the cache lives on. */
        Backend backend() {
            return backend;
        }

        private DeviceTensor[] keys;
        private DeviceTensor[] values;
        private DeviceTensor contextKeys;
        private DeviceTensor contextValues;
        private DeviceTensor history;

        /** Appends {@code k, v [B, n, G, dh]} at the cache's current length (every row). */
        void append(DeviceTensor k, DeviceTensor v) {
            Shape s = k.shape();
            int n = s.dim(1);
            int row = s.dim(2) * s.dim(3);
            if (keys == null) {
                keys = new DeviceTensor[batch];
                values = new DeviceTensor[batch];
                for (int b = 0; b < batch; b++) {
                    keys[b] = backend.tensors().zeros(Shape.of(1, capacity, s.dim(2), s.dim(3)), DType.F32);
                    values[b] = backend.tensors().zeros(Shape.of(1, capacity, s.dim(2), s.dim(3)), DType.F32);
                }
            }
            long block = (long) n * row;
            for (int b = 0; b < batch; b++) {
                backend.tensors().copy(new CopyRequest(k, b * block, block, keys[b], (long) length * row, block, 1, block));
                backend.tensors().copy(new CopyRequest(v, b * block, block, values[b], (long) length * row, block, 1, block));
            }
        }

        /** Row {@code b}'s keys of the first {@code tokens} positions, {@code [1, tokens, G, dh]} (a view). */
        DeviceTensor keys(int b, int tokens) {
            Shape s = keys[b].shape();
            return backend.tensors().view(keys[b], 0, Shape.of(1, tokens, s.dim(2), s.dim(3)));
        }

        /** Row {@code b}'s values of the first {@code tokens} positions (a view). */
        DeviceTensor values(int b, int tokens) {
            Shape s = values[b].shape();
            return backend.tensors().view(values[b], 0, Shape.of(1, tokens, s.dim(2), s.dim(3)));
        }

        /** The context's keys and values of a cross-attention layer, or {@code null} before the first pass. */
        DeviceTensor[] context() {
            return contextKeys == null ? null : new DeviceTensor[] {contextKeys, contextValues};
        }

        /** Keeps the context's keys and values (the cache owns them from now on). */
        void context(DeviceTensor k, DeviceTensor v) {
            contextKeys = k;
            contextValues = v;
        }

        /** The last inputs of a token-shifting block {@code [B, n, D]}, or {@code null} before the first pass. */
        DeviceTensor history() {
            return history;
        }

        /** Replaces the shift history (the cache owns it). */
        void history(DeviceTensor h) {
            if (history != null) {
                history.close();
            }
            history = h;
        }

        private void close() {
            if (keys != null) {
                for (int b = 0; b < batch; b++) {
                    keys[b].close();
                    values[b].close();
                }
            }
            if (contextKeys != null) {
                contextKeys.close();
                contextValues.close();
            }
            if (history != null) {
                history.close();
            }
        }
    }

    /** {@return whether {@link #close()} was called} */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            layers.forEach(Layer::close);
        }
    }
}
