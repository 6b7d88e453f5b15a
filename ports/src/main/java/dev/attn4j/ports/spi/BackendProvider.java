package dev.attn4j.ports.spi;

/**
 * The service a backend jar registers (in {@code module-info} with {@code provides} and in
 * {@code META-INF/services/dev.attn4j.ports.spi.BackendProvider}) so that
 * {@link java.util.ServiceLoader} finds it. Putting the jar on the class path is all it takes.
 *
 * <p>Rules (docs/design.md §2):
 * <ul>
 *   <li>Constructing the provider and calling {@link #name()} and {@link #priority()} must not load
 *       native libraries or vendor classes: keep those behind a lazily loaded holder class.</li>
 *   <li>{@link #probe()} never throws and never crashes the JVM: it catches {@link LinkageError}
 *       ({@code UnsatisfiedLinkError}, {@code NoClassDefFoundError}, {@code ExceptionInInitializerError})
 *       and vendor exceptions and turns them into {@link Availability#unavailable a reason}.</li>
 * </ul>
 *
 * <pre>{@code
 * public final class CpuBackendProvider implements BackendProvider {
 *     public String name() { return "cpu"; }
 *     public int priority() { return 100; }
 *     public Availability probe() { return Availability.available("pure Java", List.of("cpu")); }
 *     public BackendEngine open(BackendOptions options) { return new CpuEngine(options); }
 * }
 * }</pre>
 */
public interface BackendProvider {

    /** Well-known priorities (higher wins when no backend is named): cuda > tornado > opencl > cpu. */
    int PRIORITY_CPU = 100;
    /** Priority of the OpenCL backend. */
    int PRIORITY_OPENCL = 200;
    /** Priority of the TornadoVM backend. */
    int PRIORITY_TORNADO = 300;
    /** Priority of the CUDA backend. */
    int PRIORITY_CUDA = 400;

    /** {@return the short lower-case name used in {@code attn4j.backend}, e.g. {@code cpu}, {@code cuda}} */
    String name();

    /** {@return selection priority among available backends; higher wins} */
    int priority();

    /**
     * Whether the backend can run on this machine, and why. Never throws.
     *
     * @return whether the backend can run here, and why
     */
    Availability probe();

    /**
     * Opens the backend. Called only after a successful {@link #probe()}.
     *
     * @param options the options
     * @return the open engine
     * @throws dev.attn4j.ports.Attn4jException when the device cannot be opened after all
     */
    BackendEngine open(BackendOptions options);
}
