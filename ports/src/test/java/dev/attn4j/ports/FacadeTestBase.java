package dev.attn4j.ports;

import dev.attn4j.ports.fake.HeapEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@link Backend} over a fresh {@link HeapEngine} per test, and the assertion every validation test makes:
 * the exact exception, naming the argument, with expected and actual value, and no kernel run, no tensor
 * allocated.
 */
abstract class FacadeTestBase {
    /** Sizes used throughout: B=1, Sq=4, Sk=6, H=4, Hkv=2, D=8. */
    static final int B = 1, SQ = 4, SK = 6, H = 4, HKV = 2, D = 8;

    HeapEngine engine;
    Backend backend;

    @BeforeEach
    void openBackend() {
        engine = new HeapEngine("heap", HeapEngine.everything());
        backend = Backend.of(engine);
    }

    /** Replaces the backend with one whose engine declares only {@code capabilities}. */
    void useCapabilities(Capabilities capabilities) {
        backend.close();
        engine = new HeapEngine("heap", capabilities);
        backend = Backend.of(engine);
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    DeviceTensor f32(int... dims) {
        return zeros(DType.F32, dims);
    }

    DeviceTensor zeros(DType dtype, int... dims) {
        return backend.tensors().zeros(Shape.of(dims), dtype);
    }

    DeviceTensor ints(int[] data, int... dims) {
        return backend.tensors().uploadInts(data, Shape.of(dims));
    }

    DeviceTensor q() {
        return f32(B, SQ, H, D);
    }

    DeviceTensor kv() {
        return f32(B, SK, HKV, D);
    }

    /**
     * Asserts {@code call} throws exactly {@link InvalidRequestException} for {@code argument}, with the message
     * {@code argument: expected <expected>, got <actual>}, and that no kernel ran and no tensor was allocated.
     */
    InvalidRequestException assertRejected(String argument, String expected, String actual, Executable call) {
        int liveBefore = engine.liveTensors();
        InvalidRequestException e = assertThrowsExactly(InvalidRequestException.class, call);
        assertEquals(argument, e.argument(), "argument named by the error");
        String message = e.getMessage();
        assertTrue(message.startsWith(argument + ": expected "), () -> "names the argument first: " + message);
        assertTrue(message.contains("expected " + expected + ", got "), () -> "states what was expected: " + message);
        assertTrue(message.endsWith(", got " + actual), () -> "states what was given: " + message);
        assertNoWork(liveBefore);
        return e;
    }

    /** Asserts {@code call} throws exactly {@link UnsupportedCapabilityException} naming the backend and capability. */
    UnsupportedCapabilityException assertUnsupported(String capability, Executable call) {
        int liveBefore = engine.liveTensors();
        UnsupportedCapabilityException e = assertThrowsExactly(UnsupportedCapabilityException.class, call);
        assertEquals(engine.name(), e.backend());
        assertEquals(capability, e.capability());
        assertEquals("backend '" + engine.name() + "' does not support " + capability, e.getMessage());
        assertNoWork(liveBefore);
        return e;
    }

    void assertNoWork(int liveBefore) {
        assertEquals(List.of(), engine.kernelCalls(), "no kernel may run for a rejected request");
        assertEquals(liveBefore, engine.liveTensors(), "a rejected request must not allocate");
    }
}
