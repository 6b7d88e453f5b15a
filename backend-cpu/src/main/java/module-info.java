/**
 * The pure-Java CPU backend: always available, the embedded default. Vectorised with the JDK Vector API
 * when {@code jdk.incubator.vector} is readable ({@code --add-modules jdk.incubator.vector}), scalar
 * otherwise; multi-threaded over batch × heads × tiles for attention and over fixed-size row or element ranges
 * for everything else, with results that do not depend on the thread count.
 */
module dev.attn4j.backend.cpu {
    requires dev.attn4j.ports;
    requires static jdk.incubator.vector;

    provides dev.attn4j.ports.spi.BackendProvider with dev.attn4j.backend.cpu.CpuBackendProvider;
}
