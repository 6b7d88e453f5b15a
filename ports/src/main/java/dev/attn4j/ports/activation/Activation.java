package dev.attn4j.ports.activation;

/**
 * Element-wise activation functions. The formulas here are the definition every backend computes (in fp32,
 * with the transcendental functions' usual accuracy) and the conformance oracle checks.
 */
public enum Activation {
    /** Exact GELU: {@code x·Φ(x) = x/2·(1 + erf(x/√2))}; derivative {@code Φ(x) + x·φ(x)}. */
    GELU,
    /**
     * GELU's tanh approximation (PyTorch's {@code approximate='tanh'}):
     * {@code x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}.
     */
    GELU_TANH,
    /** SiLU (swish): {@code x·σ(x)}; derivative {@code σ(x)·(1 + x·(1 − σ(x)))}. */
    SILU,
    /** ReLU: {@code max(x, 0)}; derivative 1 for {@code x > 0}, else 0 (0 at 0, as PyTorch). */
    RELU
}
