package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.random.UniformRequest;

import static dev.attn4j.backend.tornado.engine.ModelKernels.*;
import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;

/**
 * Uniform fills from the Philox stream (F32), {@link ModelKernels#philoxUniform}, the generator attention dropout
 * draws from: element {@code n} takes word {@code n & 3} of the block for counter {@code n >>> 2}, bit for bit as
 * every backend ({@code UniformRequest}).
 */
final class TornadoRandom implements RandomPort {
    private final TornadoEngine engine;

    TornadoRandom(TornadoEngine engine) {
        this.engine = engine;
    }

    @Override
    public void uniform(UniformRequest r) {
        long n = r.tensor().shape().elementCount();
        // high − low in fp32, as the request documents (one rounding here, one in the kernel's fma)
        float range = r.high() - r.low();
        synchronized (engine) {
            new HeapCall(engine.heap(), DeviceHeap.Op.UNIFORM).set(N, Math.toIntExact(n)).set(C_AT, at(r.tensor()))
                    .set(I0, (int) r.seed()).set(I1, (int) (r.seed() >>> 32)).set(I2, (int) r.offset())
                    .set(I3, (int) (r.offset() >>> 32)).f(F0, r.low()).f(F1, range).run(64, (n + 3) / 4);
        }
    }
}
