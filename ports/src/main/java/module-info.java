/**
 * attn4j ports: the SPI that backends implement ({@link dev.attn4j.ports.spi.BackendProvider}), the port
 * interfaces the domain calls, the value objects that cross the hexagon's edge, and the errors.
 *
 * <pre>{@code
 * try (Backend backend = Backends.open()) {            // attn4j.backend / ATTN4J_BACKEND, else best available
 *     AttentionPort attention = backend.attention();
 *     ...
 * }
 * }</pre>
 */
module dev.attn4j.ports {
    exports dev.attn4j.ports;
    exports dev.attn4j.ports.spi;
    exports dev.attn4j.ports.tensor;
    exports dev.attn4j.ports.attention;
    exports dev.attn4j.ports.norm;
    exports dev.attn4j.ports.rotary;
    exports dev.attn4j.ports.linear;
    exports dev.attn4j.ports.activation;
    exports dev.attn4j.ports.elementwise;
    exports dev.attn4j.ports.embedding;
    exports dev.attn4j.ports.loss;
    exports dev.attn4j.ports.optim;
    exports dev.attn4j.ports.random;

    uses dev.attn4j.ports.spi.BackendProvider;
}
