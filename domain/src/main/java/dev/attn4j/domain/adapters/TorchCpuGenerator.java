package dev.attn4j.domain.adapters;

/**
 * PyTorch's CPU random generator for {@code Tensor.uniform_}, reproduced bit for bit so that VeRA's projections
 * follow from {@code projection_prng_key} exactly as PEFT draws them ({@code torch.Generator().manual_seed(key)},
 * then {@code uniform_(-bound, bound, generator=g)}): an MT19937 seeded with the low 32 bits of the seed
 * (ATen's {@code at::mt19937}, {@code init_with_uint32}), one 32-bit draw per float element in row-major order
 * ({@code cpu_serial_kernel}), {@code u = (w & (2²⁴ − 1))·2⁻²⁴} and {@code value = float(u·(hi − lo) + lo)} computed
 * in double with {@code lo}, {@code hi} first rounded to float (ATen's {@code uniform_real_distribution<float>} and
 * {@code transformation::uniform_real}). Checked against torch 1.13 by the adapter fixtures.
 */
final class TorchCpuGenerator {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] state = new int[N];
    private int index;

    /** {@code torch.Generator().manual_seed(seed)}. */
    TorchCpuGenerator(long seed) {
        state[0] = (int) seed;                       // the low 32 bits, as init_with_uint32 keeps them
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        index = N;
    }

    /** The next 32-bit output (MT19937 with its tempering), as an unsigned value in an int. */
    int next() {
        if (index >= N) {
            for (int k = 0; k < N; k++) {
                int y = (state[k] & 0x80000000) | (state[(k + 1) % N] & 0x7fffffff);
                state[k] = state[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            index = 0;
        }
        int y = state[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /** Fills {@code out} as {@code torch.empty(n).uniform_(low, high, generator=this)} does. */
    void uniform(float[] out, double low, double high) {
        double lo = (float) low;
        double hi = (float) high;
        for (int i = 0; i < out.length; i++) {
            double u = (next() & 0xFFFFFF) * 0x1.0p-24;
            out[i] = (float) (u * (hi - lo) + lo);
        }
    }

    /**
     * PEFT's {@code _kaiming_init} (peft {@code src/peft/tuners/vera/model.py}) of a tensor {@code [rows, cols]}:
     * fan-in {@code cols}, gain √2, bound {@code √3·(√2/√fan)}, computed in the same order as Python does.
     */
    float[] kaimingUniform(int rows, int cols) {
        double std = Math.sqrt(2) / Math.sqrt(cols);
        double bound = Math.sqrt(3.0) * std;
        float[] out = new float[Math.multiplyExact(rows, cols)];
        uniform(out, -bound, bound);
        return out;
    }
}
