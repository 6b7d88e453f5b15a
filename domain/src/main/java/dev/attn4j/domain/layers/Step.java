package dev.attn4j.domain.layers;

import dev.attn4j.ports.Backend;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * One forward (and backward) pass: the backend, whether it trains, the random stream its noise and dropout draw
 * from, and a scope that frees what the pass left open (like DJL's {@code NDManager}). Layers close their
 * temporaries as soon as they are done with them; the scope is the safety net that makes a failed pass leak
 * nothing.
 *
 * <pre>{@code
 * try (Step step = Step.training(backend, seed, stepNumber)) {
 *     ... model.forward(step, batch) ... model.backward(step, ...) ...
 * }   // anything still open from this pass is closed here
 * }</pre>
 */
public final class Step implements AutoCloseable {
    private final Backend backend;
    private final boolean training;
    private final long seed;
    private long nextOffset;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private boolean closed;

    private Step(Backend backend, boolean training, long seed, long offset) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.training = training;
        this.seed = seed;
        this.nextOffset = offset;
    }

    /**
     * A training pass: noise and dropout on, drawing from Philox key {@code seed} from counter offset {@code offset}.
     *
     * @param backend where the pass runs
     * @param seed the Philox key; a run derives it from its seed, so a resumed run draws the same noise
     * @param offset the first counter offset, e.g. derived from the step number so no two steps share draws
     * @return a new pass; close it when the step ends
     */
    public static Step training(Backend backend, long seed, long offset) {
        return new Step(backend, true, seed, offset);
    }

    /**
     * An inference pass: no noise, no dropout.
     *
     * @param backend where the pass runs
     * @return a new pass; close it when the call ends
     */
    public static Step inference(Backend backend) {
        return new Step(backend, false, 0L, 0L);
    }

    /** {@return the backend this pass runs on} */
    public Backend backend() {
        return backend;
    }

    /** {@return whether the pass trains} (NEFTune noise and dropout apply only then) */
    public boolean training() {
        return training;
    }

    /** {@return the Philox key of this pass's random draws} */
    public long seed() {
        return seed;
    }

    /**
     * A fresh Philox counter offset for one random draw of this pass: each offset has 2^64 counters of its own
     * (four values each), more than any tensor needs, so consecutive offsets never overlap.
     *
     * @return an offset no other draw of this pass uses
     */
    public long nextRandomOffset() {
        return nextOffset++;
    }

    /**
     * Registers {@code resource} to be closed when the pass ends (if nobody closed it before). Returns it.
     *
     * @param <T> the resource's type
     * @param resource a tensor or other resource the pass should close at the latest
     * @return {@code resource}, for chaining
     */
    public <T extends AutoCloseable> T own(T resource) {
        if (closed) {
            throw new IllegalStateException("step is closed");
        }
        owned.push(resource);
        return resource;
    }

    /** Closes everything still registered, newest first; the first failure is rethrown after all were tried. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                if (first == null) {
                    first = r;
                } else {
                    first.addSuppressed(r);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
