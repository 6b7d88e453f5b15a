package dev.attn4j.backend.cpu;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Base of the twin tests: each subclass runs one family of {@link CpuKernels} — every fast (Vector API) path of
 * it — against its scalar twin on the same inputs, as Lucene's vectorization tests run the Panama provider against
 * the default one. The twins are taken from {@link CpuKernels#scalar()} and {@link CpuKernels#vector()} directly,
 * so both run whatever {@link CpuKernels#selected()} chose; tests of the vector twin are skipped when the JVM runs
 * without {@code --add-modules jdk.incubator.vector}.
 *
 * <p>Lengths straddle the vector width ({@link #LENGTHS}) and arrays are read at odd offsets, so loop tails and
 * offset bugs show up.
 */
abstract class KernelTwinTestCase {
    /** The plain-Java twins. */
    static final CpuKernels SCALAR = CpuKernels.scalar();
    /** Element counts around one and two vectors of 8 and 16 lanes, and a long run. */
    static final int[] LENGTHS = {1, 7, 8, 15, 16, 17, 31, 33, 64, 1000};

    /** The Vector API twins; the calling test is skipped when the Vector API is not enabled. */
    static CpuKernels vector() {
        assumeTrue(Simd.available(), "Vector API not enabled in this JVM");
        return CpuKernels.vector();
    }

    /** {@code n} Gaussians of the given mean and deviation, reproducible by seed. */
    static float[] gauss(long seed, int n, double mean, double sd) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (mean + sd * rnd.nextGaussian());
        }
        return x;
    }
}
