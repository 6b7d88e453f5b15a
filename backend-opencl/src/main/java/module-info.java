/** The opencl backend (filled by its own issue). */
module dev.attn4j.backend.opencl {
    requires dev.attn4j.ports;
}
