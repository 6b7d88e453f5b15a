/** The tornado backend (filled by its own issue). */
module dev.attn4j.backend.tornado {
    requires dev.attn4j.ports;
}
