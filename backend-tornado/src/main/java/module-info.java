/**
 * The TornadoVM backend. Its provider is always present and compiled without TornadoVM; the engine and its
 * kernels are built only by the {@code tornado} Maven profile (active when {@code TORNADOVM_HOME} is set)
 * and loaded reflectively when the program runs under TornadoVM's argfile.
 *
 * <pre>{@code
 * // java @$TORNADOVM_HOME/tornado-argfile -Dtornado.recover.bailout=False -Dattn4j.backend=tornado ...
 * try (Backend backend = Backends.open("tornado")) { backend.devices().forEach(System.out::println); }
 * }</pre>
 */
module dev.attn4j.backend.tornado {
    requires dev.attn4j.ports;

    provides dev.attn4j.ports.spi.BackendProvider with dev.attn4j.backend.tornado.TornadoBackendProvider;
}
