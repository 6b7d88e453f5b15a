package dev.attn4j.backend.tornado.engine;

import dev.attn4j.oracle.RotaryOracle;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.attn4j.oracle.HostArrays.doubles;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs only in the {@code tornado} profile: rotary / xPos forward and inverse against the float64 oracle. */
class TornadoRotaryTest {
    private static TornadoEngine engine;

    @BeforeAll
    static void open() {
        engine = TornadoEngine.open(BackendOptions.none());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @ParameterizedTest(name = "B={0} S={1} H={2} D={3} pairs={4} {5} scale={6}")
    @CsvSource({"1,5,2,8,4,INTERLEAVED,false", "2,7,3,16,4,SPLIT_HALF,true", "1,3,1,10,2,INTERLEAVED,true",
            "2,4,2,6,3,SPLIT_HALF,false"})
    void forwardAndInverseMatchTheOracle(int batch, int seq, int heads, int d, int pairs, RotaryLayout layout,
                                                  boolean scaled) {
        Random rnd = new Random(seq * 31L + d);
        float[] x = new float[batch * seq * heads * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] cos = new float[seq * pairs];
        float[] sin = new float[seq * pairs];
        float[] zeta = new float[seq * pairs];
        for (int t = 0; t < cos.length; t++) {
            double angle = rnd.nextDouble() * 6.0;
            cos[t] = (float) Math.cos(angle);
            sin[t] = (float) Math.sin(angle);
            zeta[t] = 0.5f + rnd.nextFloat();
        }
        Shape shape = Shape.of(batch, seq, heads, d);
        Shape table = Shape.of(seq, pairs);
        DeviceTensor tx = engine.tensors().upload(x, shape, DType.F32);
        DeviceTensor tc = engine.tensors().upload(cos, table, DType.F32);
        DeviceTensor ts = engine.tensors().upload(sin, table, DType.F32);
        DeviceTensor tz = scaled ? engine.tensors().upload(zeta, table, DType.F32) : null;
        for (boolean inverse : new boolean[] {false, true}) {
            float[] y = engine.tensors().download(engine.rotary().apply(new RotaryRequest(tx, tc, ts, tz, layout, inverse)));
            double[] want = RotaryOracle.apply(doubles(x), batch, seq, heads, d, doubles(cos), doubles(sin),
                    scaled ? doubles(zeta) : null, layout, inverse);
            for (int e = 0; e < x.length; e++) {
                double expected = want[e];
                assertEquals(expected, y[e], 1e-5, "inverse=" + inverse + " element " + e);
            }
        }
    }
}
