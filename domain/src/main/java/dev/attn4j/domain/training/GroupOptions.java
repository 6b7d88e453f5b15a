package dev.attn4j.domain.training;

import dev.attn4j.ports.InvalidRequestException;

/**
 * One parameter group's own optimizer settings: a multiplier of the scheduled learning rate (LoRA+ trains its
 * {@code B} matrices at {@code lr·ratio}) and its weight decay.
 *
 * <pre>{@code
 * Map<String, GroupOptions> groups = Map.of("lora_B", new GroupOptions(16.0, 0.0));
 * }</pre>
 *
 * @param lrScale     multiplies the scheduled learning rate, finite and {@code >= 0}
 * @param weightDecay the group's decoupled weight decay, finite and {@code >= 0}
 */
public record GroupOptions(double lrScale, double weightDecay) {

    /** Checks ranges. */
    public GroupOptions {
        InvalidRequestException.check(Double.isFinite(lrScale) && lrScale >= 0, "lrScale", "a finite number >= 0", lrScale);
        InvalidRequestException.check(Double.isFinite(weightDecay) && weightDecay >= 0, "weightDecay",
                "a finite number >= 0", weightDecay);
    }
}
