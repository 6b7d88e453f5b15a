package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs only in the {@code tornado} profile. Where every row sees a single key, {@code o = v} exactly, and the
 * backward's {@code dP − D} must cancel to exactly 0, so dQ and dK are exactly 0 as in real arithmetic. That
 * holds only if every kernel sums its dot products in the same order with IEEE rounding: it failed with
 * TornadoVM's default {@code -cl-fast-relaxed-math} (which lets each kernel's compiler reassociate), and would
 * fail if {@code delta} and {@code dP} were summed differently.
 */
class ExactCancellationTest {

    @ParameterizedTest(name = "B={0} Sq={1} H={2} Hkv={3} D={4} seed={5}")
    @CsvSource({"2,16,4,2,256,5", "2,16,4,2,256,6", "1,31,2,1,256,7", "2,17,2,2,96,8", "1,27,4,1,128,9",
            "1,9,2,2,7,10"})
    void aRowThatSeesOneKeyHasExactlyZeroQueryAndKeyGradients(int batch, int sq, int heads, int kvHeads, int d,
                                                              long seed) {
        try (TornadoEngine engine = TornadoEngine.open(BackendOptions.none())) {
            Random rnd = new Random(seed);
            float[] qValues = new float[batch * sq * heads * d];
            float[] dOValues = new float[qValues.length];
            for (int i = 0; i < qValues.length; i++) {
                qValues[i] = (float) rnd.nextGaussian();
                dOValues[i] = (float) rnd.nextGaussian();
            }
            float[] kValues = new float[batch * kvHeads * d];
            float[] vValues = new float[kValues.length];
            for (int i = 0; i < kValues.length; i++) {
                kValues[i] = (float) rnd.nextGaussian();
                vValues[i] = (float) rnd.nextGaussian();
            }
            DeviceTensor q = engine.tensors().upload(qValues, Shape.of(batch, sq, heads, d), DType.F32);
            DeviceTensor k = engine.tensors().upload(kValues, Shape.of(batch, 1, kvHeads, d), DType.F32);
            DeviceTensor v = engine.tensors().upload(vValues, Shape.of(batch, 1, kvHeads, d), DType.F32);
            DeviceTensor dO = engine.tensors().upload(dOValues, Shape.of(batch, sq, heads, d), DType.F32);
            AttentionOptions options = AttentionOptions.builder().scale(0.5).build();
            try (AttentionResult r = engine.attention().forward(new AttentionRequest(q, k, v, options));
                 AttentionGradients g = engine.attention().backward(
                         new AttentionBackwardRequest(dO, q, k, v, r.o(), r.lse(), options))) {
                float[] o = engine.tensors().download(r.o());
                int group = heads / kvHeads;
                for (int e = 0; e < o.length; e++) {
                    int x = e % d;
                    int h = (e / d) % heads;
                    int b = e / (d * heads * sq);
                    assertEquals(vValues[(b * kvHeads + h / group) * d + x], o[e], 0.0, "o[" + e + "] = v exactly");
                }
                assertAllZero("dq", engine.tensors().download(g.dq()));
                assertAllZero("dk", engine.tensors().download(g.dk()));
            }
        }
    }

    private static void assertAllZero(String what, float[] values) {
        for (int i = 0; i < values.length; i++) {
            assertEquals(0.0f, values[i], 0.0, what + "[" + i + "]");
        }
    }
}
