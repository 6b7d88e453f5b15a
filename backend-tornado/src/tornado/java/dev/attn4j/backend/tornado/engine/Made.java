package dev.attn4j.backend.tornado.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensors a call has made so far, so that a call failing halfway (a heap that cannot grow, a kernel that
 * fails) returns their blocks at once instead of leaving them to the garbage collector.
 *
 * <pre>{@code
 * Made made = new Made();
 * try {
 *     TornadoTensor y = made.add(tensors.allocate(shape));
 *     heap.run(...);
 *     return y;
 * } catch (RuntimeException | Error e) {
 *     made.closeAll();
 *     throw e;
 * }
 * }</pre>
 */
final class Made {
    private final List<TornadoTensor> tensors = new ArrayList<>();

    /** Records {@code t} and returns it. */
    TornadoTensor add(TornadoTensor t) {
        tensors.add(t);
        return t;
    }

    /** Closes every tensor recorded. */
    void closeAll() {
        tensors.forEach(TornadoTensor::close);
    }
}
