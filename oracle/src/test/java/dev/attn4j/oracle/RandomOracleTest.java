package dev.attn4j.oracle;

import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The uniform fill reads the same stream as dropout, element by flat index, and stays in [low, high). */
class RandomOracleTest {

    @Test
    void elementNDrawsDropoutsUniformOfFlatIndexN() {
        long seed = 0xDEAD_BEEF_1234L, offset = 5L << 32 | 3;
        int count = 37;
        double[] values = RandomOracle.uniform(count, 0f, 1f, seed, offset, DType.F32);
        // a [1, 1, 1, 37] attention problem numbers its elements as the flat index
        AttentionDims d = new AttentionDims(1, 1, count, 1, 1, 1);
        Dropout dropout = new Dropout(0.5, seed, offset);
        for (int n = 0; n < count; n++) {
            assertEquals(DropoutBits.uniform(dropout, d, 0, 0, 0, n), values[n], "element " + n);
        }
    }

    @Test
    void valuesLieInTheRangeAndAreStoredInTheDtype() {
        double[] f32 = RandomOracle.uniform(4096, -0.25f, 0.75f, 7, 0, DType.F32);
        double mean = 0;
        for (double v : f32) {
            assertTrue(v >= -0.25 && v < 0.75, "in [low, high): " + v);
            mean += v / f32.length;
        }
        assertEquals(0.25, mean, 0.02);   // 4096 uniforms on [-0.25, 0.75): sd of the mean 0.0045
        double[] bf16 = RandomOracle.uniform(64, -3f, 3f, 7, 0, DType.BF16);
        for (double v : bf16) {
            assertEquals(Precision.BF16.round(v), v, "BF16-representable");
        }
        double[] same = RandomOracle.uniform(4, 2f, 2f, 1, 1, DType.F32);
        for (double v : same) {
            assertEquals(2.0, v, "low == high gives low");
        }
    }
}
