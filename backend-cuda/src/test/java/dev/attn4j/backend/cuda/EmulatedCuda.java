package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Backend;

/**
 * The cuda backend on the host emulation of its kernels ({@link EmulatedGpu}), for tests of this module and, through
 * its test jar, of the conformance suite: the whole engine — every port's Java code and CUDA kernels — runs on a
 * machine without a GPU (GEMMs by a host reference instead of cuBLAS). The emulator is built once per JVM with g++;
 * where that fails, or with {@code -Dattn4j.cuda.emulation=off}, {@link #unavailable()} says why and tests skip.
 * {@code -Dattn4j.cuda.emulationDir=...} points at the host-emulation sources when they are not found from the
 * working directory; the environment variable {@code ATTN4J_EMULATE_ASAN=1} builds it with AddressSanitizer.
 *
 * <pre>{@code
 * assumeTrue(EmulatedCuda.unavailable() == null, EmulatedCuda.unavailable());
 * try (Backend cuda = EmulatedCuda.open(0)) { ... }
 * }</pre>
 */
public final class EmulatedCuda {
    private static EmulatedGpu.Built built;

    private EmulatedCuda() {
    }

    private static synchronized EmulatedGpu.Built built() {
        if (built == null) {
            built = "off".equals(System.getProperty("attn4j.cuda.emulation"))
                    ? new EmulatedGpu.Built(null, "the host emulation is switched off (-Dattn4j.cuda.emulation=off)")
                    : EmulatedGpu.build();
        }
        return built;
    }

    /** {@return why the emulated backend cannot run here, or {@code null} when it can} */
    public static String unavailable() {
        return built().problem();
    }

    /**
     * A backend over a new emulator process (closed with the backend).
     *
     * @param lossChunkRows rows per chunk of the fused cross-entropy (0: the engine's default)
     * @return the backend
     */
    public static Backend open(int lossChunkRows) {
        EmulatedGpu.Built b = built();
        if (b.problem() != null) {
            throw new IllegalStateException(b.problem());
        }
        return Backend.of(new CudaEngine(EmulatedGpu.start(b.binary()), false, lossChunkRows));
    }

    /** As {@link #open(int)}, also giving the engine (for its live-tensor count). */
    static CudaEngine openEngine(int lossChunkRows) {
        EmulatedGpu.Built b = built();
        if (b.problem() != null) {
            throw new IllegalStateException(b.problem());
        }
        return new CudaEngine(EmulatedGpu.start(b.binary()), false, lossChunkRows);
    }
}
