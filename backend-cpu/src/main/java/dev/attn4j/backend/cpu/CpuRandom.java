package dev.attn4j.backend.cpu;

import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.random.UniformRequest;

/**
 * Uniform fills from the Philox stream ({@code UniformRequest}'s counter mapping), F32. Element {@code n} of the
 * tensor — its own flat index, a view's counting from its first element — takes word {@code n & 3} of the Philox
 * block for counter {@code n >>> 2}; each {@link WorkerPool#RANGE}-sized piece (a multiple of 4 elements) computes
 * its blocks itself, so values do not depend on the split.
 */
final class CpuRandom implements RandomPort {
    private final WorkerPool pool;

    CpuRandom(WorkerPool pool) {
        this.pool = pool;
    }

    @Override
    public void uniform(UniformRequest r) {
        Span<float[]> t = ((CpuTensor) r.tensor()).f32();
        float low = r.low();
        float range = r.high() - r.low();
        long seed = r.seed();
        long offset = r.offset();
        pool.forRanges(t.length(), (from, to) -> {
            int[] words = new int[4];
            float[] a = t.array();
            int base = t.offset();
            for (int n = from; n < to; n++) {
                if ((n & 3) == 0 || n == from) {
                    Philox.block(seed, offset, (long) n >>> 2, words);
                }
                a[base + n] = Math.fma(Philox.uniform(words[n & 3]), range, low);
            }
        });
    }
}
