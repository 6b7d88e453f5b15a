package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs only in the {@code tornado} profile: tensors kept in the device heaps, across ops and heap growth. */
class DeviceHeapTest {

    @Test
    void roundTripsEveryDtypeIncludingBlocksLargerThanTheStage() {
        try (TornadoEngine engine = TornadoEngine.open(BackendOptions.none())) {
            Random rnd = new Random(1);
            float[] floats = new float[2 * DeviceHeap.STAGE + 17];
            for (int i = 0; i < floats.length; i++) {
                floats[i] = rnd.nextFloat();
            }
            int[] ints = rnd.ints(DeviceHeap.STAGE + 5).toArray();
            boolean[] bools = {true, false, false, true, true};
            DeviceTensor f = engine.tensors().upload(floats, Shape.of(floats.length), DType.F32);
            DeviceTensor i = engine.tensors().uploadInts(ints, Shape.of(ints.length));
            DeviceTensor b = engine.tensors().uploadBools(bools, Shape.of(bools.length));
            assertArrayEquals(floats, engine.tensors().download(f));
            assertArrayEquals(ints, engine.tensors().downloadInts(i));
            assertArrayEquals(bools, engine.tensors().downloadBools(b));
            assertArrayEquals(new float[7], engine.tensors().download(engine.tensors().zeros(Shape.of(7), DType.F32)));
            assertArrayEquals(new int[3], engine.tensors().downloadInts(engine.tensors().zeros(Shape.of(3), DType.I32)));
            assertTrue(engine.heap().hostSideUntouched(), "data went through the heaps' host side");
        }
    }

    @Test
    void tensorsKeepTheirValuesWhenTheHeapGrowsUnderThem() {
        try (TornadoEngine engine = TornadoEngine.open(BackendOptions.of(Map.of("heapMiB", "1")))) {
            long before = engine.heap().capacities()[0];
            Random rnd = new Random(2);
            float[] x = new float[2 * 3 * 2 * 8];
            float[] cos = new float[3 * 4];
            float[] sin = new float[3 * 4];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            for (int t = 0; t < cos.length; t++) {
                cos[t] = (float) Math.cos(t);
                sin[t] = (float) Math.sin(t);
            }
            DeviceTensor tx = engine.tensors().upload(x, Shape.of(2, 3, 2, 8), DType.F32);
            DeviceTensor tc = engine.tensors().upload(cos, Shape.of(3, 4), DType.F32);
            DeviceTensor ts = engine.tensors().upload(sin, Shape.of(3, 4), DType.F32);
            DeviceTensor y = engine.rotary().apply(new RotaryRequest(tx, tc, ts, null, RotaryLayout.INTERLEAVED, false));
            float[] expected = engine.tensors().download(y);

            float[] big = new float[(int) before + 1000];
            java.util.Arrays.fill(big, 3.5f);
            DeviceTensor tb = engine.tensors().upload(big, Shape.of(big.length), DType.F32);

            assertTrue(engine.heap().capacities()[0] > before, "the float heap grew");
            assertArrayEquals(x, engine.tensors().download(tx));
            assertArrayEquals(expected, engine.tensors().download(y));
            assertArrayEquals(big, engine.tensors().download(tb));
            // The kernels work on the new plan's heaps, reading tensors made before it.
            DeviceTensor again = engine.rotary().apply(new RotaryRequest(tx, tc, ts, null, RotaryLayout.INTERLEAVED, false));
            assertArrayEquals(expected, engine.tensors().download(again));
        }
    }

    @Test
    void eachHeapKeepsTheOthersTensorsWhenItGrows() {
        try (TornadoEngine engine = TornadoEngine.open(BackendOptions.of(Map.of("heapMiB", "1")))) {
            long[] before = engine.heap().capacities();
            float[] floats = {1.5f, -2f, 3.25f};
            int[] ints = {7, -8, 9, 10};
            boolean[] bools = {true, false, true};
            DeviceTensor f = engine.tensors().upload(floats, Shape.of(3), DType.F32);
            DeviceTensor i = engine.tensors().uploadInts(ints, Shape.of(4));
            DeviceTensor b = engine.tensors().uploadBools(bools, Shape.of(3));

            int[] bigInts = new int[(int) before[1] + 100];
            java.util.Arrays.fill(bigInts, 42);
            DeviceTensor bi = engine.tensors().uploadInts(bigInts, Shape.of(bigInts.length));
            assertTrue(engine.heap().capacities()[1] > before[1], "the int heap grew");
            assertArrayEquals(floats, engine.tensors().download(f));
            assertArrayEquals(ints, engine.tensors().downloadInts(i));
            assertArrayEquals(bools, engine.tensors().downloadBools(b));
            assertArrayEquals(bigInts, engine.tensors().downloadInts(bi));

            float[] bigFloats = new float[(int) before[0] + 100];
            DeviceTensor bf = engine.tensors().upload(bigFloats, Shape.of(bigFloats.length), DType.F32);
            assertTrue(engine.heap().capacities()[0] > before[0], "the float heap grew");
            assertArrayEquals(ints, engine.tensors().downloadInts(i));
            assertArrayEquals(bools, engine.tensors().downloadBools(b));
            assertArrayEquals(bigInts, engine.tensors().downloadInts(bi));
            assertArrayEquals(floats, engine.tensors().download(f));
            assertArrayEquals(bigFloats, engine.tensors().download(bf));
        }
    }

    @Test
    void opsChainOnTheDeviceAndClosingTensorsReturnsTheirBlocks() {
        try (TornadoEngine engine = TornadoEngine.open(BackendOptions.none())) {
            long[] empty = engine.heap().used();
            Random rnd = new Random(3);
            int b = 1, s = 20, h = 2, d = 16;
            DeviceTensor q = upload(engine, rnd, Shape.of(b, s, h, d));
            DeviceTensor k = upload(engine, rnd, Shape.of(b, s, h, d));
            DeviceTensor v = upload(engine, rnd, Shape.of(b, s, h, d));
            DeviceTensor dO = upload(engine, rnd, Shape.of(b, s, h, d));
            AttentionOptions options = AttentionOptions.builder().causal(true).build();
            long[] inputs = engine.heap().used();
            try (AttentionResult r = engine.attention().forward(new AttentionRequest(q, k, v, options));
                 AttentionGradients g = engine.attention().backward(
                         new AttentionBackwardRequest(dO, q, k, v, r.o(), r.lse(), options))) {
                // The forward's outputs fed the backward without a download; dq is finite and not all zero.
                float[] dq = engine.tensors().download(g.dq());
                double norm = 0;
                for (float x : dq) {
                    assertTrue(Float.isFinite(x));
                    norm += x * x;
                }
                assertTrue(norm > 0);
            }
            assertArrayEquals(inputs, engine.heap().used(), "outputs closed and the backward's scratch freed");
            for (DeviceTensor t : new DeviceTensor[] {q, k, v, dO}) {
                t.close();
            }
            assertArrayEquals(empty, engine.heap().used());
            assertTrue(engine.heap().hostSideUntouched());
        }
    }

    @Test
    void blocksOfTensorsDroppedUnclosedAreReclaimedAfterGarbageCollection() throws InterruptedException {
        try (TornadoEngine engine = TornadoEngine.open(BackendOptions.none())) {
            long[] empty = used(engine);
            for (int i = 0; i < 10; i++) {
                engine.tensors().upload(new float[1000], Shape.of(1000), DType.F32);
            }
            assertTrue(used(engine)[0] >= 10_000);
            for (int tries = 0; tries < 100 && used(engine)[0] != empty[0]; tries++) {
                System.gc();
                Thread.sleep(50);
            }
            assertArrayEquals(empty, used(engine));
        }
    }

    @Test
    void aBlockLargerThanAHeapCanEverBeIsAClearErrorAndLeavesTheHeapAsItWas() {
        try (TornadoEngine engine = TornadoEngine.open(BackendOptions.of(Map.of("heapMiB", "1")))) {
            float[] values = {4f, 5f, 6f};
            DeviceTensor t = engine.tensors().upload(values, Shape.of(3), DType.F32);
            long[] capacities = engine.heap().capacities();
            long[] used = engine.heap().used();
            DeviceException e = assertThrows(DeviceException.class,
                    () -> engine.heap().allocateFloats(DeviceHeap.MAX_ELEMENTS));
            assertTrue(e.getMessage().contains("OUT_OF_MEMORY") && e.getMessage().contains("at most " + DeviceHeap.MAX_ELEMENTS),
                    e.getMessage());
            assertArrayEquals(capacities, engine.heap().capacities());
            assertArrayEquals(used, engine.heap().used());
            assertArrayEquals(values, engine.tensors().download(t));
        }
    }

    @Test
    void rejectsAHeapSizeThatIsNotAWholeNumberOfMiBInRange() {
        for (String bad : new String[] {"0", "4097", "lots"}) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> TornadoEngine.open(BackendOptions.of(Map.of("heapMiB", bad))));
            assertTrue(e.getMessage().contains("'heapMiB'") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    private static long[] used(TornadoEngine engine) {
        synchronized (engine) {
            return engine.heap().used();
        }
    }

    private static DeviceTensor upload(TornadoEngine engine, Random rnd, Shape shape) {
        float[] a = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return engine.tensors().upload(a, shape, DType.F32);
    }
}
