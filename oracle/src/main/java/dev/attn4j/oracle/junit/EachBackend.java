package dev.attn4j.oracle.junit;

import dev.attn4j.ports.PortCapabilities;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs a test once per backend that {@link java.util.ServiceLoader} finds on the test class path, handing it the
 * opened {@link dev.attn4j.ports.Backend} as a parameter:
 * <ul>
 *   <li>an <em>unavailable</em> backend's invocation is skipped, with its probe's reason (unless it is named in the
 *       system property {@value EachBackendExtension#REQUIRED_PROPERTY}, as CI does for a backend it installs: then
 *       it fails);</li>
 *   <li>a backend that does not declare one of {@link #ports()} is opened, then the invocation is aborted as
 *       <em>unsupported</em>, naming the port (neither counts as passed);</li>
 *   <li>after the test (and its {@code @AfterEach} methods), the backend must hold as many open tensors as it did
 *       right after opening, when its engine counts them ({@link dev.attn4j.ports.Backend#openTensors()}): a leak
 *       fails the invocation. Then the backend is closed.</li>
 * </ul>
 *
 * <pre>{@code
 * @EachBackend(ports = LinearCapabilities.class)
 * void linearMatchesTheOracle(Backend backend) {
 *     try (DeviceTensor x = backend.tensors().upload(xs, Shape.of(3, 5), DType.F32)) { ... }
 * }
 * }</pre>
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(EachBackendExtension.class)
public @interface EachBackend {

    /** {@return the names of the backends to run on (case-insensitive); empty runs on every backend found} */
    String[] value() default {};

    /** {@return the ports the test calls: a backend that does not declare one is reported unsupported, not run} */
    Class<? extends PortCapabilities>[] ports() default {};

    /**
     * {@return options given to every backend opened, as {@code key=value} (for example {@code threads=2}); they
     * override {@code -Dattn4j.<backend>.<key>} system properties}
     */
    String[] options() default {};

    /** {@return whether a tensor left open after the test fails it (on engines that count their tensors)} */
    boolean checkLeaks() default true;
}
