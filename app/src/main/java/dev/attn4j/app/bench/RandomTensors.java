package dev.attn4j.app.bench;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.SplittableRandom;

/** Uploads seeded uniform [-1, 1) inputs: benchmark inputs are the same from run to run. */
final class RandomTensors {
    private final Backend backend;
    private final DType dtype;
    private final SplittableRandom random;

    RandomTensors(Backend backend, DType dtype, long seed) {
        this.backend = backend;
        this.dtype = dtype;
        this.random = new SplittableRandom(seed);
    }

    DeviceTensor next(Shape shape) {
        long n = shape.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor of shape " + shape + ": at most " + (Integer.MAX_VALUE - 8)
                    + " elements, got " + n);
        }
        float[] data = new float[(int) n];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return backend.tensors().upload(data, shape, dtype);
    }

    /** Gains near 1, as a trained norm's. */
    DeviceTensor gains(int c) {
        float[] data = new float[c];
        for (int i = 0; i < c; i++) {
            data[i] = (float) (1 + 0.1 * (random.nextDouble() * 2 - 1));
        }
        return backend.tensors().upload(data, Shape.of(c), dtype);
    }
}
