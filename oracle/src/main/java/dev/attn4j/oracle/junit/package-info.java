/**
 * JUnit 5 support for backend tests: {@link dev.attn4j.oracle.junit.EachBackend} runs a test on every backend
 * found, skipping unavailable ones with their reason and failing tests that leave tensors open.
 *
 * <pre>{@code
 * @EachBackend
 * void roundTrip(Backend backend) { ... }
 * }</pre>
 */
package dev.attn4j.oracle.junit;
