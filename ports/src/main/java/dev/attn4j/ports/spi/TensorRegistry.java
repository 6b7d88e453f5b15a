package dev.attn4j.ports.spi;

import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The set of tensors an engine has handed out and not yet seen closed: what {@link BackendEngine#owns},
 * leak checks ({@link BackendEngine#openTensors()}) and closing the engine need. Every engine keeps one; it is
 * thread-safe, and closing it frees each tensor once even if a free fails.
 *
 * <pre>{@code
 * private final TensorRegistry<CpuTensor> live = new TensorRegistry<>();
 * CpuTensor t = live.register(new CpuTensor(...));   // on allocation
 * live.release(t);                                    // in the tensor's close()
 * live.closeAll(CpuTensor::drop);                     // when the engine closes
 * }</pre>
 *
 * @param <T> the engine's tensor type
 */
public final class TensorRegistry<T extends DeviceTensor> {
    private final Set<T> live;

    /** A registry holding its tensors strongly: a tensor dropped unclosed lives until the engine closes. */
    public TensorRegistry() {
        this(ConcurrentHashMap.newKeySet());
    }

    private TensorRegistry(Set<T> live) {
        this.live = live;
    }

    /**
     * A registry holding its tensors weakly, for engines that reclaim the storage of tensors dropped unclosed
     * themselves (with a {@link java.lang.ref.Cleaner} on a handle the tensor does not reference back).
     *
     * @param <T> the engine's tensor type
     * @return a new, empty registry
     */
    public static <T extends DeviceTensor> TensorRegistry<T> weak() {
        return new TensorRegistry<>(java.util.Collections.synchronizedSet(
                java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>())));
    }

    /**
     * Records a new tensor; returns it.
     *
     * @param tensor a tensor the engine has just allocated
     * @return {@code tensor}, so that allocation and registration read as one expression
     */
    public T register(T tensor) {
        live.add(tensor);
        return tensor;
    }

    /**
     * Forgets a tensor (its storage was freed by the caller).
     *
     * @param tensor a tensor being closed
     * @return whether it was registered: false when it was already released (or closed by {@link #closeAll}),
     *         so that a caller frees its storage once
     */
    public boolean release(T tensor) {
        return live.remove(tensor);
    }

    /**
     * {@return whether the tensor is registered (made here and not closed)}
     *
     * @param tensor any tensor, of this engine or another
     */
    public boolean contains(DeviceTensor tensor) {
        return live.contains(tensor);
    }

    /** {@return how many tensors are registered} */
    public int size() {
        return live.size();
    }

    /**
     * Hands every registered tensor to {@code free} once and forgets them all; a failing {@code free} does not
     * stop the others, and the first failure is rethrown at the end (later ones are suppressed into it).
     *
     * @param free frees one tensor's storage
     */
    public void closeAll(Consumer<? super T> free) {
        List<T> all;
        synchronized (live) {
            all = new ArrayList<>(live);
            live.clear();
        }
        RuntimeException first = null;
        for (T t : all) {
            try {
                free.accept(t);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
