package dev.attn4j.backend.tornado;

import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Provider of the {@code tornado} backend. It is compiled without TornadoVM so the jar can sit on any class
 * path: {@link #probe()} looks for TornadoVM's runtime reflectively, and the engine (built only by the
 * {@code tornado} Maven profile) is loaded by name, so neither constructing the provider nor probing it can
 * fail to link.
 *
 * <pre>{@code
 * Availability a = new TornadoBackendProvider().probe();
 * if (!a.available()) System.out.println(a.reason());
 * }</pre>
 */
public final class TornadoBackendProvider implements BackendProvider {

    /** The backend's name. */
    static final String NAME = "tornado";
    /** Reason given when TornadoVM's runtime is not on the class/module path. */
    static final String RUNTIME_NOT_FOUND =
            "TornadoVM runtime not found (set TORNADOVM_HOME and run under its argfile)";
    /** A class only TornadoVM's runtime (not its API jar) holds. */
    static final String RUNTIME_CLASS = "uk.ac.manchester.tornado.runtime.TornadoCoreRuntime";
    /** The engine, compiled by the {@code tornado} profile against TornadoVM's API. */
    static final String ENGINE_CLASS = "dev.attn4j.backend.tornado.engine.TornadoEngine";

    private final String runtimeClass;
    private final String engineClass;

    /** The provider ServiceLoader makes. */
    public TornadoBackendProvider() {
        this(RUNTIME_CLASS, ENGINE_CLASS);
    }

    /** For tests: other class names to look for. */
    TornadoBackendProvider(String runtimeClass, String engineClass) {
        this.runtimeClass = runtimeClass;
        this.engineClass = engineClass;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY_TORNADO;
    }

    @Override
    public Availability probe() {
        try {
            if (!runtimePresent()) {
                return Availability.unavailable(RUNTIME_NOT_FOUND);
            }
            Class<?> engine = engineOrNull();
            if (engine == null) {
                return Availability.unavailable("TornadoVM runtime found, but attn4j-backend-tornado was built "
                        + "without its engine (build with TORNADOVM_HOME set to enable the 'tornado' profile)");
            }
            Method probe = engine.getMethod("probe");
            return (Availability) probe.invoke(null);
        } catch (InvocationTargetException e) {
            return Availability.unavailable("TornadoVM failed to start: " + describe(e.getCause()));
        } catch (Throwable e) { // never let a probe crash the caller: linkage, reflection, vendor errors alike
            if (e instanceof VirtualMachineError vme && !(e instanceof StackOverflowError)) {
                throw vme;
            }
            return Availability.unavailable("TornadoVM failed to start: " + describe(e));
        }
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        Availability availability = probe();
        if (!availability.available()) {
            throw new DeviceException(NAME, "UNAVAILABLE", availability.reason());
        }
        try {
            Method open = engineOrNull().getMethod("open", BackendOptions.class);
            return (BackendEngine) open.invoke(null, options);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new DeviceException(NAME, "OPEN_FAILED", describe(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new DeviceException(NAME, "OPEN_FAILED", describe(e));
        }
    }

    private boolean runtimePresent() {
        try {
            Class.forName(runtimeClass, false, loader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private Class<?> engineOrNull() {
        try {
            return Class.forName(engineClass, true, loader());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    private static ClassLoader loader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : TornadoBackendProvider.class.getClassLoader();
    }

    private static String describe(Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
