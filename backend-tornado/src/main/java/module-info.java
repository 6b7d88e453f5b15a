/**
 * The TornadoVM backend. Its provider is always present and compiled without TornadoVM: without the runtime it
 * reports "TornadoVM runtime not found (set TORNADOVM_HOME and run under its argfile)". The engine and its
 * kernels ({@code src/tornado/java}) are built only by the {@code tornado} Maven profile, active when
 * {@code TORNADOVM_HOME} names a TornadoVM SDK, and are loaded reflectively when the program runs under the
 * SDK's argfile. The engine declares every port and feature the cpu backend has (attention forward and backward
 * with all masks, biases and dropout; LayerNorm/RMSNorm; rotary/xPos; the model ports: linear/matmul,
 * activations, element-wise ops, embedding, fused cross-entropy, AdamW, uniform fills; tensor views, copies and
 * fills) in F32, head dims 1..256, but the {@code [B, H, S, D]} attention layout.
 *
 * <p>The engine classes are compiled on the class path (this descriptor cannot require TornadoVM's module in
 * the default build), so use the backend from the class path; the profile's tests run that way.
 *
 * <pre>{@code
 * // TORNADOVM_HOME=... mvn -pl backend-tornado -am verify      (builds the engine, runs its tests on the SDK)
 * // java @argfile -Dtornado.recover.bailout=False -cp app.jar:... -Dattn4j.backend=tornado ...
 * try (Backend backend = Backends.open("tornado")) { backend.devices().forEach(System.out::println); }
 * }</pre>
 */
module dev.attn4j.backend.tornado {
    requires dev.attn4j.ports;

    provides dev.attn4j.ports.spi.BackendProvider with dev.attn4j.backend.tornado.TornadoBackendProvider;
}
