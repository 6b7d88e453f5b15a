/** The cuda backend (filled by its own issue). */
module dev.attn4j.backend.cuda {
    requires dev.attn4j.ports;
}
