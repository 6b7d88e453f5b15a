package dev.attn4j.ports.random;

/**
 * Random fills from the shared Philox stream (docs/design.md §9), identical on every backend.
 *
 * <pre>{@code
 * backend.random().uniform(new UniformRequest(noise, -0.01f, 0.01f, 42L, 0L));
 * }</pre>
 */
public interface RandomPort {

    /**
     * Overwrites the tensor with uniform values in {@code [low, high)}.
     *
     * @param request the tensor written, the bounds, and the Philox seed and offset
     */
    void uniform(UniformRequest request);
}
