package dev.attn4j.ports.spi;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.OptionalInt;

/**
 * What a backend implements: its tensors and raw kernels. Callers never see an engine directly; they get a
 * {@link dev.attn4j.ports.Backend}, which validates every request (shapes, dtypes, ownership, declared
 * capabilities, index ranges) before handing it to the engine. An engine may therefore assume that what it
 * receives is valid, owned by it, open and within its capabilities.
 *
 * <p>This split mirrors DJL's engine SPI versus its API: validation lives once, in ports. Every port but the
 * tensor port is optional: its getter returns {@code null} by default, and a port counts as provided exactly
 * when {@link #capabilities()} declares it — so a new port added to attn4j breaks no engine, and an engine
 * implements a port by overriding its getter and declaring it.
 *
 * <pre>{@code
 * final class MyEngine implements BackendEngine {
 *     private final TensorRegistry<MyTensor> tensors = new TensorRegistry<>();
 *     public String name() { return "mine"; }
 *     public Capabilities capabilities() {
 *         return Capabilities.of(TensorCapabilities.transfers(EnumSet.of(DType.F32)),
 *                 new LinearCapabilities(EnumSet.of(DType.F32)));
 *     }
 *     public List<String> devices() { return List.of("mine: one device"); }
 *     public TensorPort tensors() { return myTensorPort; }
 *     public LinearPort linear() { return myLinearPort; }          // declared above, so provided
 *     public boolean owns(DeviceTensor t) { return tensors.contains(t); }
 *     public OptionalInt openTensors() { return OptionalInt.of(tensors.size()); }
 *     public void close() { tensors.closeAll(MyTensor::free); }
 * }
 * }</pre>
 */
public interface BackendEngine extends AutoCloseable {

    /** {@return the backend's name, as its provider's} */
    String name();

    /** {@return what the engine provides, port by port} Constant for the engine's life. */
    Capabilities capabilities();

    /** {@return devices in use, one line each} */
    java.util.List<String> devices();

    /** {@return the raw port for tensor transfers and device-side tensor operations} */
    TensorPort tensors();

    /** {@return the raw port for attention kernels, or {@code null} when the engine has none} */
    default AttentionPort attention() {
        return null;
    }

    /** {@return the raw port for normalisation kernels, or {@code null} when the engine has none} */
    default NormalizationPort normalization() {
        return null;
    }

    /** {@return the raw port for rotary kernels, or {@code null} when the engine has none} */
    default RotaryPort rotary() {
        return null;
    }

    /** {@return the raw port for linear layers and GEMM, or {@code null} when the engine has none} */
    default LinearPort linear() {
        return null;
    }

    /** {@return the raw port for activations, or {@code null} when the engine has none} */
    default ActivationPort activation() {
        return null;
    }

    /** {@return the raw port for element-wise operations, or {@code null} when the engine has none} */
    default ElementwisePort elementwise() {
        return null;
    }

    /** {@return the raw port for embedding look-ups, or {@code null} when the engine has none} */
    default EmbeddingPort embedding() {
        return null;
    }

    /** {@return the raw port for losses, or {@code null} when the engine has none} */
    default LossPort loss() {
        return null;
    }

    /** {@return the raw port for optimizer steps, or {@code null} when the engine has none} */
    default OptimizerPort optimizer() {
        return null;
    }

    /** {@return the raw port for random fills, or {@code null} when the engine has none} */
    default RandomPort random() {
        return null;
    }

    /**
     * {@return whether {@code tensor} was made by this engine (and so may be passed to its kernels)}
     *
     * @param tensor the tensor
     */
    boolean owns(DeviceTensor tensor);

    /**
     * How many tensors the engine holds open, when it counts them (engines built on {@link TensorRegistry}
     * do): leak checks in tests read it.
     *
     * @return the number of open tensors, or empty when the engine does not count them
     */
    default OptionalInt openTensors() {
        return OptionalInt.empty();
    }

    /** Frees every tensor, kernel and device handle the engine still owns. Idempotent. */
    @Override
    void close();
}
