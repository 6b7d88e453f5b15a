package dev.attn4j.domain.safetensors;

import dev.attn4j.ports.Attn4jException;

/**
 * A safetensors file is malformed or hostile: a bad header length, invalid JSON, a header over a limit, an
 * unknown dtype, a shape that does not match its byte range, offsets out of range or overlapping, a BOOL byte
 * other than 0 or 1. Raised before anything the file claims is allocated; the message names the file (when
 * read from a path), the tensor or key, and the offending value.
 *
 * <pre>{@code
 * try (SafetensorsReader r = SafetensorsReader.open(path)) { ... }
 * catch (SafetensorsFormatException e) { System.err.println("bad file: " + e.getMessage()); }
 * }</pre>
 */
public final class SafetensorsFormatException extends Attn4jException {
    private static final long serialVersionUID = 1L;

    /**
     * An error about a file.
     *
     * @param message what is wrong, naming the part of the file and the offending value
     */
    public SafetensorsFormatException(String message) {
        super(message);
    }
}
