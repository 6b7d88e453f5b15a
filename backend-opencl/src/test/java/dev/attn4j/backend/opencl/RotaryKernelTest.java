package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.RotaryOracle;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.attn4j.backend.opencl.OpenClTesting.assertClose;
import static dev.attn4j.backend.opencl.OpenClTesting.f32;
import static dev.attn4j.backend.opencl.OpenClTesting.random;

/** Rotary / xPos, forward and inverse, against the float64 oracle ({@link RotaryOracle}) by the pass rule. */
class RotaryKernelTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = OpenClTesting.openBackend();
    }

    @AfterAll
    static void close() {
        if (backend != null) backend.close();
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,2,1,INTERLEAVED,false", "2,7,3,16,8,INTERLEAVED,false", "2,7,3,16,8,SPLIT_HALF,true",
            "1,9,2,40,12,SPLIT_HALF,false", "1,5,4,64,32,INTERLEAVED,true"})
    void rotatesLikeTheFormula(int b, int s, int h, int d, int half, RotaryLayout layout, boolean xpos) {
        Random rnd = new Random(b * 31L + s * 7L + d + half + (xpos ? 1 : 0));
        double[] x = random(rnd, b * s * h * d, 2);
        double[] cos = new double[s * half], sin = new double[s * half], zeta = new double[s * half];
        for (int n = 0; n < s; n++) {
            for (int p = 0; p < half; p++) {
                double theta = n * Math.pow(10000, -2.0 * p / (2 * half));
                cos[n * half + p] = (float) Math.cos(theta);
                sin[n * half + p] = (float) Math.sin(theta);
                zeta[n * half + p] = xpos ? (float) Math.pow((2.0 * p + 0.4 * 2 * half) / (1.4 * 2 * half), n / 8.0) : 1;
            }
        }
        try (DeviceTensor xt = backend.tensors().upload(f32(x), Shape.of(b, s, h, d), DType.F32);
             DeviceTensor ct = backend.tensors().upload(f32(cos), Shape.of(s, half), DType.F32);
             DeviceTensor st = backend.tensors().upload(f32(sin), Shape.of(s, half), DType.F32);
             DeviceTensor zt = xpos ? backend.tensors().upload(f32(zeta), Shape.of(s, half), DType.F32) : null) {
            for (boolean inverse : new boolean[] {false, true}) {
                double[] scale = xpos ? zeta : null;
                double[] gold = RotaryOracle.apply(x, b, s, h, d, cos, sin, scale, layout, inverse, Precision.FP64);
                double[] ref = RotaryOracle.apply(x, b, s, h, d, cos, sin, scale, layout, inverse, Precision.FP32);
                try (DeviceTensor y = backend.rotary().apply(new RotaryRequest(xt, ct, st, zt, layout, inverse))) {
                    assertClose("rotary inverse=" + inverse, gold, ref, backend.tensors().download(y));
                }
            }
        }
    }
}
