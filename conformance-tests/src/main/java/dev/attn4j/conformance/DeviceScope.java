package dev.attn4j.conformance;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayDeque;
import java.util.Deque;

/** The device tensors one case made, closed together (newest first) when the case ends, however it ends. */
final class DeviceScope implements AutoCloseable {
    private final Backend backend;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();

    DeviceScope(Backend backend) {
        this.backend = backend;
    }

    <T extends AutoCloseable> T track(T resource) {
        owned.push(resource);
        return resource;
    }

    DeviceTensor upload(double[] values, Shape shape, DType dtype) {
        return track(backend.tensors().upload(toFloats(values), shape, dtype));
    }

    DeviceTensor uploadInts(int[] values, Shape shape) {
        return track(backend.tensors().uploadInts(values, shape));
    }

    DeviceTensor uploadBools(boolean[] values, Shape shape) {
        return track(backend.tensors().uploadBools(values, shape));
    }

    float[] download(DeviceTensor t) {
        return backend.tensors().download(t);
    }

    /** Fails a case whose backend returned no tensor where one was asked for. */
    static DeviceTensor requirePresent(DeviceTensor t, String name) {
        if (t == null) {
            throw new IllegalStateException("the backend returned no " + name);
        }
        return t;
    }

    static float[] toFloats(double[] values) {
        float[] f = new float[values.length];
        for (int n = 0; n < values.length; n++) {
            f[n] = (float) values[n];
        }
        return f;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException re ? re : new RuntimeException(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
