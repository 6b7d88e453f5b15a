package dev.attn4j.ports;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.fake.HeapEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Transfers, tensor ownership and liveness, and the backend's own lifecycle through the facade. */
class TensorValidationTest extends FacadeTestBase {

    private void assertNoUpload(int transfersBefore) {
        assertEquals(transfersBefore, engine.transferCalls().size(), "the engine must not be asked to upload");
    }

    @Test
    void uploadAndDownloadRoundTrip() {
        float[] data = {1, 2, 3, 4, 5, 6};
        try (DeviceTensor t = backend.tensors().upload(data, Shape.of(2, 3), DType.F32)) {
            assertEquals(Shape.of(2, 3), t.shape());
            assertEquals(DType.F32, t.dtype());
            assertEquals("heap", t.backendName());
            assertArrayEquals(data, backend.tensors().download(t));
        }
        assertEquals(0, engine.liveTensors());
    }

    @Test
    void dataLongerThanShape() {
        int before = engine.transferCalls().size();
        assertRejected("data", "6 elements for shape [2, 3]", "7",
                () -> backend.tensors().upload(new float[7], Shape.of(2, 3), DType.F32));
        assertNoUpload(before);
    }

    @Test
    void intDataShorterThanShape() {
        int before = engine.transferCalls().size();
        assertRejected("data", "4 elements for shape [1, 1, 4, 1]", "3",
                () -> backend.tensors().uploadInts(new int[3], Shape.of(1, 1, 4, 1)));
        assertNoUpload(before);
    }

    @Test
    void boolDataOfWrongLength() {
        int before = engine.transferCalls().size();
        assertRejected("data", "12 elements for shape [3, 4]", "11",
                () -> backend.tensors().uploadBools(new boolean[11], Shape.of(3, 4)));
        assertNoUpload(before);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"I32", "BOOL"})
    void floatUploadAsNonFloatingDtype(DType dtype) {
        int before = engine.transferCalls().size();
        assertRejected("dtype", "F32, F16 or BF16", dtype.name(),
                () -> backend.tensors().upload(new float[2], Shape.of(2), dtype));
        assertNoUpload(before);
    }

    @Test
    void nullArguments() {
        assertRejected("data", "an array", "null", () -> backend.tensors().upload(null, Shape.of(2), DType.F32));
        assertRejected("shape", "a shape", "null", () -> backend.tensors().upload(new float[2], null, DType.F32));
        assertRejected("dtype", "F32, F16 or BF16", "null", () -> backend.tensors().upload(new float[2], Shape.of(2), null));
        assertRejected("dtype", "a dtype", "null", () -> backend.tensors().zeros(Shape.of(2), null));
        assertRejected("tensor", "a tensor", "null", () -> backend.tensors().download(null));
    }

    @Test
    void undeclaredDtypeOnUpload() {
        useCapabilities(HeapEngine.f32Only());
        assertUnsupported("dtype BF16 (tensors)", () -> backend.tensors().upload(new float[2], Shape.of(2), DType.BF16));
        assertUnsupported("dtype F16 (tensors)", () -> backend.tensors().zeros(Shape.of(2), DType.F16));
        assertEquals(List.of(), engine.transferCalls());
        // integer and boolean tensors are not storage types a backend declares: always allowed
        backend.tensors().zeros(Shape.of(2), DType.I32).close();
    }

    @Test
    void zerosBeyondIntRange() {
        int before = engine.transferCalls().size();
        assertRejected("shape", "at most 2147483647 elements", "4294967296",
                () -> backend.tensors().zeros(Shape.of(65536, 65536), DType.F32));
        assertNoUpload(before);
    }

    @Test
    void downloadOfTheWrongKind() {
        DeviceTensor ints = ints(new int[] {1, 2}, 2);
        DeviceTensor floats = f32(2);
        DeviceTensor bools = zeros(DType.BOOL, 2);
        assertRejected("tensor", "a floating dtype (use downloadInts/Bools)", "I32", () -> backend.tensors().download(ints));
        assertRejected("tensor", "dtype I32", "F32", () -> backend.tensors().downloadInts(floats));
        assertRejected("tensor", "dtype BOOL", "I32", () -> backend.tensors().downloadBools(ints));
        assertArrayEquals(new boolean[2], backend.tensors().downloadBools(bools));
    }

    @Test
    void tensorOfAnotherBackend() {
        HeapEngine otherEngine = new HeapEngine("other", HeapEngine.everything());
        try (Backend other = Backend.of(otherEngine)) {
            DeviceTensor q = q();
            DeviceTensor k = kv();
            DeviceTensor foreignV = other.tensors().zeros(Shape.of(B, SK, HKV, D), DType.F32);
            assertRejected("v", "a tensor of backend 'heap'", "a tensor of backend 'other'",
                    () -> backend.attention().forward(new AttentionRequest(q, k, foreignV, null)));
            assertRejected("tensor", "a tensor of backend 'heap'", "a tensor of backend 'other'",
                    () -> backend.tensors().download(foreignV));
            DeviceTensor foreignSlopes = other.tensors().zeros(Shape.of(H), DType.F32);
            assertRejected("alibiSlopes", "a tensor of backend 'heap'", "a tensor of backend 'other'",
                    () -> backend.attention().forward(new AttentionRequest(q, k, k,
                            AttentionOptions.builder().alibiSlopes(foreignSlopes).build())));
            assertEquals(List.of(), otherEngine.kernelCalls());
        }
    }

    @Test
    void closedTensor() {
        DeviceTensor q = q();
        DeviceTensor k = kv();
        DeviceTensor v = kv();
        k.close();
        assertTrue(k.isClosed());
        assertRejected("k", "an open tensor", "a closed tensor",
                () -> backend.attention().forward(new AttentionRequest(q, k, v, null)));
        assertRejected("tensor", "an open tensor", "a closed tensor", () -> backend.tensors().download(k));
    }

    @Test
    void closedBackendRejectsEverything() {
        DeviceTensor q = q();
        DeviceTensor k = kv();
        DeviceTensor v = kv();
        backend.close();
        assertTrue(backend.isClosed());
        assertEquals(0, engine.liveTensors(), "closing the backend frees every tensor it owns");
        assertTrue(q.isClosed());
        int transfers = engine.transferCalls().size();
        for (org.junit.jupiter.api.function.Executable call : List.<org.junit.jupiter.api.function.Executable>of(
                () -> backend.attention().forward(new AttentionRequest(q, k, v, null)),
                () -> backend.tensors().upload(new float[1], Shape.of(1), DType.F32),
                () -> backend.tensors().zeros(Shape.of(1), DType.F32),
                () -> backend.tensors().download(q))) {
            Attn4jException e = assertThrowsExactly(ClosedException.class, call);
            assertEquals("backend 'heap' is closed", e.getMessage());
        }
        assertEquals(List.of(), engine.kernelCalls());
        assertEquals(transfers, engine.transferCalls().size());
    }

    @Test
    void closeIsIdempotent() {
        backend.close();
        backend.close();
        assertEquals(1, engine.closeCalls());
    }

    @Test
    void facadeReportsTheEngine() {
        assertEquals("heap", backend.name());
        assertEquals(HeapEngine.everything(), backend.capabilities());
        assertEquals(List.of("heap: the Java heap"), backend.devices());
        assertEquals("Backend[heap]", backend.toString());
        assertFalse(backend.isClosed());
    }
}
