package dev.attn4j.ports.linear;

/** How a linear layer's weight is stored. */
public enum WeightLayout {
    /** {@code W [out, in]}, as {@code torch.nn.Linear.weight}: {@code y = x·Wᵀ}. */
    OUT_IN,
    /** {@code W [in, out]} (PEFT's {@code fan_in_fan_out}, GPT-2's {@code Conv1D}): {@code y = x·W}. */
    IN_OUT
}
