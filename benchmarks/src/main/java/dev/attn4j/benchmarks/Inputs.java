package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Random;

/** Benchmark inputs: unit Gaussians uploaded as F32, reproducible by seed. */
final class Inputs {
    private Inputs() {
    }

    /** One host array of {@code shape}'s size, filled once. */
    static float[] gaussian(Shape shape, long seed) {
        float[] host = new float[Math.toIntExact(shape.elementCount())];
        Random rnd = new Random(seed);
        for (int i = 0; i < host.length; i++) {
            host[i] = (float) rnd.nextGaussian();
        }
        return host;
    }

    /** A new F32 tensor of unit Gaussians on {@code backend}. */
    static DeviceTensor upload(Backend backend, Shape shape, long seed) {
        return backend.tensors().upload(gaussian(shape, seed), shape, DType.F32);
    }
}
