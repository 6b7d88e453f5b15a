package dev.attn4j.app.bench;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;

/**
 * How a timed call waits for the device without timing a large transfer: it downloads one element of the call's
 * output through a view when the backend declares views, else a one-element tensor uploaded beforehand, which an
 * in-order device queue (every backend's today) can only hand back once the call's kernels have finished.
 */
final class Completion {
    private final Backend backend;
    private final boolean views;
    private final DeviceTensor sentinel;

    private Completion(Backend backend, boolean views, DeviceTensor sentinel) {
        this.backend = backend;
        this.views = views;
        this.sentinel = sentinel;
    }

    /** For a workload on {@code backend}; its sentinel (if any) is added to {@code owned}. */
    static Completion on(Backend backend, Owned owned) {
        boolean views = backend.capabilities().port(TensorCapabilities.class)
                .map(t -> t.supports(TensorFeature.VIEW)).orElse(false);
        DeviceTensor sentinel = views ? null : owned.add(backend.tensors().upload(new float[1], Shape.of(1), DType.F32));
        return new Completion(backend, views, sentinel);
    }

    /** Waits for the call that wrote {@code output}. */
    void await(DeviceTensor output) {
        if (views) {
            try (DeviceTensor first = backend.tensors().view(output, 0, Shape.of(1))) {
                backend.tensors().download(first);
            }
        } else {
            backend.tensors().download(sentinel);
        }
    }
}
