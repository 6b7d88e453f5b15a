package dev.attn4j.backend.cpu;

import java.util.Optional;

/**
 * Decides once whether the Vector API kernels can run: {@code jdk.incubator.vector} must be in the boot
 * layer (it is only when the JVM was started with {@code --add-modules jdk.incubator.vector}) and
 * readable from this module. When it is not, the scalar twins run and a one-line hint is logged, as
 * Lucene does.
 */
final class Simd {
    private static final String MODULE = "jdk.incubator.vector";
    private static final boolean AVAILABLE = detect();

    private Simd() {
    }

    /** Whether the vectorised kernels are used. */
    static boolean available() {
        return AVAILABLE;
    }

    /** One line for probe reasons and reports. */
    static String description() {
        return AVAILABLE ? "Vector API, " + VectorTileMath.bitSize() + "-bit"
                : "scalar kernels (Vector API not enabled: add --add-modules " + MODULE + ")";
    }

    private static boolean detect() {
        if (Boolean.getBoolean("attn4j.cpu.scalar")) {
            return false;
        }
        Optional<Module> vector = ModuleLayer.boot().findModule(MODULE);
        if (vector.isEmpty()) {
            System.getLogger(Simd.class.getName()).log(System.Logger.Level.INFO, "attn4j cpu: Java vector incubator module is not readable; "
                    + "for vectorised kernels pass '--add-modules " + MODULE + "' to the JVM");
            return false;
        }
        Module self = Simd.class.getModule();
        if (self.isNamed() && !self.canRead(vector.get())) {
            self.addReads(vector.get());
        }
        return true;
    }
}
