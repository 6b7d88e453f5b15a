package dev.attn4j.ports.spi;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.BackendUnavailableException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Finds backend providers and chooses one by the rules of docs/design.md §2: an explicit name from the
 * system property {@code attn4j.backend} or the environment variable {@code ATTN4J_BACKEND} wins (and must
 * be available: never a silent fallback); otherwise the available provider that runs on the best kind of
 * device ({@link DeviceKind#rank()}: an accelerator, then the native {@code cpu} backend, then the host CPU
 * through a device API such as POCL), ties broken by the higher priority.
 *
 * <p>Probing is lazy: constructing a selector loads nothing, {@link #survey()} probes every provider
 * once and remembers the answers.
 *
 * <pre>{@code
 * BackendSelector selector = BackendSelector.fromServiceLoader();
 * selector.survey().forEach(System.out::println);
 * try (Backend backend = selector.open(BackendOptions.none())) { ... }
 * }</pre>
 */
public final class BackendSelector {

    /** System property naming the backend to use. */
    public static final String PROPERTY = "attn4j.backend";
    /** Environment variable naming the backend to use (the property wins). */
    public static final String ENVIRONMENT = "ATTN4J_BACKEND";

    /** A qualified Java class name, e.g. {@code dev.attn4j.backend.cuda.CudaBackendProvider}. */
    private static final Pattern QUALIFIED_NAME = Pattern.compile(
            "\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*(\\.\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*)+");

    private final Supplier<List<ProviderStatus>> discovery;
    private final Function<String, String> properties;
    private final Function<String, String> environment;
    private List<ProviderStatus> surveyed;

    /**
     * A selector over explicit providers, with injectable property and environment lookups (for tests
     * and for programs that configure backends themselves).
     *
     * @param providers the providers to choose among
     * @param properties system property look-up
     * @param environment environment variable look-up
     */
    public BackendSelector(List<BackendProvider> providers, Function<String, String> properties,
                           Function<String, String> environment) {
        List<BackendProvider> copy = List.copyOf(providers);
        this.discovery = () -> copy.stream().map(BackendSelector::probe).toList();
        this.properties = properties;
        this.environment = environment;
    }

    private BackendSelector(Supplier<List<ProviderStatus>> discovery) {
        this.discovery = discovery;
        this.properties = System::getProperty;
        this.environment = System::getenv;
    }

    /** {@return a selector over the providers {@link ServiceLoader} finds, reading the real properties and environment} */
    public static BackendSelector fromServiceLoader() {
        return fromServiceLoader(ServiceLoader.load(BackendProvider.class));
    }

    /**
     * A selector over the providers a given loader finds. A provider that fails to load is reported, not thrown.
     *
     * @param loader the service loader
     * @return the selector
     */
    public static BackendSelector fromServiceLoader(Iterable<BackendProvider> loader) {
        return new BackendSelector(() -> {
            List<ProviderStatus> found = new ArrayList<>();
            Iterator<BackendProvider> it = loader.iterator();
            String lastFailure = null;
            while (true) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    found.add(probe(it.next()));
                    lastFailure = null;
                } catch (ServiceConfigurationError | LinkageError e) {
                    String reason = "provider could not be loaded: " + e
                            + (e.getCause() != null ? "; caused by " + e.getCause() : "");
                    // ServiceLoader "makes a best effort" to go on after an error; a loader that fails the same
                    // way again is not advancing, and would otherwise be retried forever.
                    if (reason.equals(lastFailure)) {
                        break;
                    }
                    lastFailure = reason;
                    found.add(new ProviderStatus(describe(e), Integer.MIN_VALUE, Availability.unavailable(reason), null));
                }
            }
            return found;
        });
    }

    /** {@return every provider found, each probed once, in discovery order} */
    public synchronized List<ProviderStatus> survey() {
        if (surveyed == null) {
            surveyed = List.copyOf(discovery.get());
        }
        return surveyed;
    }

    /** {@return the explicitly requested backend name, if any (property first, then environment)} */
    public String requestedName() {
        String name = properties.apply(PROPERTY);
        if (name == null || name.isBlank()) {
            name = environment.apply(ENVIRONMENT);
        }
        return name == null || name.isBlank() ? null : name.trim().toLowerCase(Locale.ROOT);
    }

    /**
     * {@return the provider to use}
     *
     * @throws BackendUnavailableException listing every provider found and why each was skipped
     */
    public ProviderStatus select() {
        String requested = requestedName();
        return requested != null ? select(requested) : best();
    }

    /**
     * {@return the named provider}
     *
     * @param name the name
     * @throws BackendUnavailableException when it is missing or unavailable
     */
    public ProviderStatus select(String name) {
        List<ProviderStatus> found = survey();
        for (ProviderStatus s : found) {
            if (s.name().equalsIgnoreCase(name)) {
                if (!s.availability().available()) {
                    throw new BackendUnavailableException("backend '" + name + "' was requested but is unavailable: "
                            + s.availability().reason(), found);
                }
                return s;
            }
        }
        throw new BackendUnavailableException("backend '" + name + "' was requested but no such provider is on the class path",
                found);
    }

    /** Default selection's order, best first: the device kind's rank, then the higher priority. */
    private static final Comparator<ProviderStatus> PREFERENCE =
            Comparator.comparingInt((ProviderStatus s) -> s.availability().deviceKind().rank())
                    .thenComparing(Comparator.comparingInt(ProviderStatus::priority).reversed());

    private ProviderStatus best() {
        List<ProviderStatus> found = survey();
        return found.stream()
                .filter(s -> s.availability().available())
                .min(PREFERENCE)
                .orElseThrow(() -> new BackendUnavailableException("no usable attn4j backend", found));
    }

    /**
     * What {@link #select()} chooses and why, in one line, e.g. {@code cpu (runs on the host CPU (native);
     * preferred to opencl: runs on the host CPU through a device API)}.
     *
     * <pre>{@code
     * System.out.println("default backend: " + BackendSelector.fromServiceLoader().explain());
     * }</pre>
     *
     * @return the chosen provider's name and the reason
     * @throws BackendUnavailableException as {@link #select()} does
     */
    public String explain() {
        ProviderStatus chosen = select();
        if (requestedName() != null) {
            return chosen.name() + " (named by -D" + PROPERTY + " or " + ENVIRONMENT + ")";
        }
        DeviceKind kind = chosen.availability().deviceKind();
        List<String> passedOver = survey().stream()
                .filter(s -> s != chosen && s.availability().available())
                .sorted(PREFERENCE)
                .map(s -> s.name() + ": " + (s.availability().deviceKind().rank() > kind.rank()
                        ? "runs on " + s.availability().deviceKind().description()
                        : "lower priority (" + s.priority() + " < " + chosen.priority() + ")"))
                .toList();
        return chosen.name() + " (runs on " + kind.description()
                + (passedOver.isEmpty() ? "; the only available backend" : "; preferred to " + String.join(", ", passedOver))
                + ")";
    }

    /**
     * Opens the selected backend with options from {@code attn4j.<name>.*} system properties plus {@code options}.
     *
     * @param options the options
     * @return the open backend; close it when done
     */
    public Backend open(BackendOptions options) {
        return open(select(), options);
    }

    /**
     * Opens the named backend.
     *
     * @param name the name
     * @param options the options
     * @return the open backend; close it when done
     */
    public Backend open(String name, BackendOptions options) {
        return open(select(name), options);
    }

    private static Backend open(ProviderStatus status, BackendOptions options) {
        BackendOptions merged = BackendOptions.fromSystemProperties(status.name()).with(options);
        return Backend.of(status.provider().open(merged));
    }

    private static ProviderStatus probe(BackendProvider provider) {
        String name;
        int priority;
        try {
            name = provider.name();
            priority = provider.priority();
        } catch (RuntimeException | LinkageError e) {
            return new ProviderStatus(provider.getClass().getName(), Integer.MIN_VALUE,
                    Availability.unavailable("provider failed to describe itself: " + e), null);
        }
        if (name == null || name.isBlank()) {
            // a nameless provider could never be requested, and would break look-up by name for the others
            return new ProviderStatus(provider.getClass().getName(), Integer.MIN_VALUE,
                    Availability.unavailable("provider has no name: name() returned "
                            + (name == null ? "null" : "'" + name + "'")), null);
        }
        Availability availability;
        try {
            availability = provider.probe();
            if (availability == null) {
                availability = Availability.unavailable("probe() returned null");
            }
        } catch (RuntimeException | LinkageError e) {
            // probe() must not throw; a provider that does anyway is reported, never allowed to crash selection.
            availability = Availability.unavailable("probe failed: " + e);
        }
        return new ProviderStatus(name, priority, availability, provider);
    }

    /**
     * The provider class a loading error is about. ServiceLoader's messages read
     * {@code <service>: Provider <class> could not be instantiated} (or {@code ... not found},
     * {@code <class> not a subtype}, ...): the first qualified name after the service's is the provider's.
     */
    private static String describe(Throwable e) {
        String msg = String.valueOf(e.getMessage());
        String service = BackendProvider.class.getName() + ": ";
        if (msg.startsWith(service)) {
            msg = msg.substring(service.length());
        }
        for (String word : msg.split(" ")) {
            if (QUALIFIED_NAME.matcher(word).matches()) {
                return word;
            }
        }
        return "unknown provider";
    }
}
