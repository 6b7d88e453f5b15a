package dev.attn4j.app.bench;

/**
 * One prepared benchmark call on an open backend: inputs uploaded, ready to be run again and again.
 * Closing it frees the inputs.
 *
 * <pre>{@code
 * try (Workload w = AttentionWorkload.prepare(backend, shape, causal, backward)) {
 *     for (int i = 0; i < repeats; i++) w.run();
 * }
 * }</pre>
 */
public interface Workload extends AutoCloseable {

    /**
     * Runs the op once and waits for it: the call ends by downloading a small output, which a device
     * backend can only do once the kernel has finished.
     */
    void run();

    /** FLOPs of one {@link #run()} by docs/design.md §8 and §14, or {@code NaN} when the op has no agreed count. */
    double flops();

    /**
     * Bytes one {@link #run()} must read and write at least (each input once, each output once), for the
     * memory-bound ops; {@code NaN} for the others.
     */
    default double bytes() {
        return Double.NaN;
    }

    @Override
    void close();
}
