package dev.attn4j.ports.spi;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * String options handed to {@link BackendProvider#open}: the OpenCL device to use, the CPU thread count,
 * and so on. Each backend documents its keys. Immutable.
 *
 * <pre>{@code
 * BackendOptions options = BackendOptions.of(Map.of("threads", "2"));
 * int threads = options.getInt("threads", Runtime.getRuntime().availableProcessors());
 * }</pre>
 *
 * @param values the options by key
 */
public record BackendOptions(Map<String, String> values) {

    /** Copies the map. */
    public BackendOptions {
        values = Map.copyOf(values);
    }

    /** {@return no options} */
    public static BackendOptions none() {
        return new BackendOptions(Map.of());
    }

    /** {@return options from a map} */
    public static BackendOptions of(Map<String, String> values) {
        return new BackendOptions(values);
    }

    /**
     * {@return options for {@code backend} read from system properties {@code attn4j.<backend>.<key>}, e.g.
     * {@code -Dattn4j.cpu.threads=2} or {@code -Dattn4j.opencl.device=1}}
     *
     * @param backend the backend's name, e.g. {@code cpu}
     */
    public static BackendOptions fromSystemProperties(String backend) {
        return fromProperties(backend, System.getProperties());
    }

    static BackendOptions fromProperties(String backend, Properties properties) {
        String prefix = "attn4j." + backend + ".";
        Map<String, String> found = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith(prefix)) {
                found.put(key.substring(prefix.length()), properties.getProperty(key));
            }
        }
        return new BackendOptions(found);
    }

    /**
     * {@return these options, overridden by {@code other}'s}
     *
     * @param other the other options, which win
     */
    public BackendOptions with(BackendOptions other) {
        Map<String, String> merged = new HashMap<>(values);
        merged.putAll(other.values);
        return new BackendOptions(merged);
    }

    /**
     * {@return the option's value, if set}
     *
     * @param key the option's key
     */
    public Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /**
     * {@return the option as an int, or {@code fallback} when unset}
     *
     * @param key the option's key
     * @param fallback used when the key is absent
     * @throws IllegalArgumentException naming the key when the value is not an integer
     */
    public int getInt(String key, int fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend option '" + key + "': expected an integer, got '" + v + "'", e);
        }
    }
}
