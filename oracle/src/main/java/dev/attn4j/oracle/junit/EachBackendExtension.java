package dev.attn4j.oracle.junit;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The extension behind {@link EachBackend}: one invocation per backend found, each opening its backend before the
 * test, resolving {@link Backend} parameters to it, and checking for leaked tensors and closing it afterwards.
 * Providers are found and probed once per test run (the selector is kept in the root context's store).
 *
 * <pre>{@code
 * @EachBackend
 * void uploadsRoundTrip(Backend backend) { ... }   // the extension is registered by the annotation
 * }</pre>
 */
public final class EachBackendExtension implements TestTemplateInvocationContextProvider {

    /** Registered by {@link EachBackend} (JUnit instantiates it). */
    public EachBackendExtension() {
    }
    /**
     * System property: backend names, comma-separated, that must be available; an unavailable one fails its
     * invocations instead of skipping them (CI sets it for the backends it installs).
     */
    public static final String REQUIRED_PROPERTY = "attn4j.test.requiredBackends";

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(EachBackendExtension.class);

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return context.getTestMethod().map(m -> m.isAnnotationPresent(EachBackend.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        EachBackend spec = context.getRequiredTestMethod().getAnnotation(EachBackend.class);
        BackendSelector selector = context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(BackendSelector.class, k -> BackendSelector.fromServiceLoader(), BackendSelector.class);
        List<ProviderStatus> found = selector.survey();
        if (found.isEmpty()) {
            throw new ExtensionConfigurationException("@EachBackend: no backend provider on the test class path");
        }
        List<ProviderStatus> chosen = choose(spec, found);
        BackendOptions options = options(spec);
        Set<String> required = required();
        return chosen.stream().map(status -> new Invocation(selector, status, spec, options,
                required.contains(status.name().toLowerCase(Locale.ROOT))));
    }

    private static List<ProviderStatus> choose(EachBackend spec, List<ProviderStatus> found) {
        if (spec.value().length == 0) {
            return found;
        }
        List<ProviderStatus> chosen = new ArrayList<>();
        for (String name : spec.value()) {
            ProviderStatus match = found.stream().filter(s -> s.name().equalsIgnoreCase(name.strip())).findFirst()
                    .orElseThrow(() -> new ExtensionConfigurationException("@EachBackend: no backend '" + name
                            + "' on the test class path, found " + found.stream().map(ProviderStatus::name).toList()));
            chosen.add(match);
        }
        return chosen;
    }

    private static BackendOptions options(EachBackend spec) {
        Map<String, String> values = new HashMap<>();
        for (String option : spec.options()) {
            int eq = option.indexOf('=');
            if (eq <= 0) {
                throw new ExtensionConfigurationException("@EachBackend options: expected key=value, got '" + option + "'");
            }
            values.put(option.substring(0, eq).strip(), option.substring(eq + 1).strip());
        }
        return BackendOptions.of(values);
    }

    private static Set<String> required() {
        String names = System.getProperty(REQUIRED_PROPERTY, "");
        return Arrays.stream(names.split(",")).map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
    }

    /** One backend's run of the test. */
    private record Invocation(BackendSelector selector, ProviderStatus status, EachBackend spec, BackendOptions options,
                              boolean required) implements TestTemplateInvocationContext {

        @Override
        public String getDisplayName(int invocationIndex) {
            return status.name();
        }

        @Override
        public List<Extension> getAdditionalExtensions() {
            if (status.availability().available()) {
                Lifecycle lifecycle = new Lifecycle(this);
                return List.of(lifecycle);
            }
            String reason = "backend '" + status.name() + "' unavailable: " + status.availability().reason();
            if (required) {
                // -D{REQUIRED_PROPERTY} names it: unavailability is a failure here, not a skip.
                return List.of((BeforeEachCallback) c -> Assertions.fail(reason + " (required by -D" + REQUIRED_PROPERTY + ")"));
            }
            return List.of((ExecutionCondition) c -> ConditionEvaluationResult.disabled(reason));
        }
    }

    /** Opens the backend before the test, resolves it as a parameter, checks for leaks and closes it after. */
    private static final class Lifecycle implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
        private final Invocation invocation;
        private Backend backend;
        private OptionalInt openAtStart = OptionalInt.empty();

        Lifecycle(Invocation invocation) {
            this.invocation = invocation;
        }

        @Override
        public void beforeEach(ExtensionContext context) {
            backend = invocation.selector().open(invocation.status().name(), invocation.options());
            openAtStart = backend.openTensors();
            for (Class<? extends PortCapabilities> port : invocation.spec().ports()) {
                if (!backend.provides(port)) {
                    // afterEach still runs and closes the backend
                    Assumptions.abort("unsupported: backend '" + backend.name() + "' does not declare "
                            + port.getSimpleName());
                }
            }
        }

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == Backend.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            if (backend == null) {
                throw new ExtensionConfigurationException("@EachBackend: the backend is not open yet (a Backend "
                        + "parameter is resolved for @BeforeEach methods and the test, not for @BeforeAll)");
            }
            return backend;
        }

        @Override
        public void afterEach(ExtensionContext context) {
            if (backend == null) {
                return;
            }
            try (Backend b = backend) {
                backend = null;
                // A failed or aborted test has its own verdict; a leak report on top of it would only confuse.
                if (invocation.spec().checkLeaks() && context.getExecutionException().isEmpty()
                        && openAtStart.isPresent()) {
                    int now = b.openTensors().orElseThrow();
                    Assertions.assertEquals(openAtStart.getAsInt(), now, () -> "backend '" + b.name() + "': "
                            + (now - openAtStart.getAsInt()) + " tensor(s) left open by the test");
                }
            }
        }
    }
}
