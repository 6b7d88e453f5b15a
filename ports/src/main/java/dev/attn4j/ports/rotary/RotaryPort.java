package dev.attn4j.ports.rotary;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Applies rotary / xPos tables to q or k on the device, so that no backend round-trips to the host for
 * it. The backward is the same call with {@link RotaryRequest#inverse()} set, on the upstream gradient.
 *
 * <pre>{@code
 * DeviceTensor qRot = backend.rotary().apply(new RotaryRequest(q, cos, sin, xposQ, RotaryLayout.INTERLEAVED, false));
 * DeviceTensor dq   = backend.rotary().apply(new RotaryRequest(dqRot, cos, sin, xposQ, RotaryLayout.INTERLEAVED, true));
 * }</pre>
 */
public interface RotaryPort {

    /**
     * {@return a new tensor shaped and typed as {@code x}, rotated as the request says}
     *
     * @param request the request
     */
    DeviceTensor apply(RotaryRequest request);
}
