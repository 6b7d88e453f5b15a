package dev.attn4j.ports.rotary;

/** How the rotated pairs sit in the head dimension. */
public enum RotaryLayout {
    /** Pairs {@code (x[2i], x[2i+1])} (GPT-J, x-transformers). */
    INTERLEAVED,
    /** Pairs {@code (x[i], x[i + R/2])} (GPT-NeoX, LLaMA in Hugging Face). */
    SPLIT_HALF
}
