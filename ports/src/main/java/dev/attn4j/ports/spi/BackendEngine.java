package dev.attn4j.ports.spi;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.TensorPort;

/**
 * What a backend implements: its tensors and raw kernels. Callers never see an engine directly; they get a
 * {@link dev.attn4j.ports.Backend}, which validates every request (shapes, dtypes, ownership, declared
 * capabilities, index ranges) before handing it to the engine. An engine may therefore assume that what it
 * receives is valid, owned by it, open and within its capabilities.
 *
 * <p>This split mirrors DJL's engine SPI versus its API: validation lives once, in ports.
 */
public interface BackendEngine extends AutoCloseable {

    /** {@return the backend's name, as its provider's} */
    String name();

    /**
     * What the engine supports. Constant for the engine's life.
     *
     * @return the declared capabilities
     */
    Capabilities capabilities();

    /** {@return devices in use, one line each} */
    java.util.List<String> devices();

    /** {@return raw tensor transfers} */
    TensorPort tensors();

    /** {@return raw attention kernels} */
    AttentionPort attention();

    /** {@return raw normalisation kernels} */
    NormalizationPort normalization();

    /** {@return raw rotary kernels; only called when {@link dev.attn4j.ports.Capability#ROTARY} is declared} */
    RotaryPort rotary();

    /**
     * {@return whether {@code tensor} was made by this engine (and so may be passed to its kernels)}
     *
     * @param tensor the tensor
     */
    boolean owns(DeviceTensor tensor);

    /** Frees every tensor, kernel and device handle the engine still owns. Idempotent. */
    @Override
    void close();
}
