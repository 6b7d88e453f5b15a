package dev.attn4j.backend.opencl;

import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.random.UniformRequest;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/**
 * Uniform fills from the Philox stream (F32), {@code ops.cl}'s {@code uniform} with {@code philox.cl}, the function
 * attention dropout draws from: element {@code n} (a view's counting from its own first element) takes word
 * {@code n & 3} of the block for counter {@code n >>> 2}, bit for bit as every backend ({@code UniformRequest}).
 */
final class ClRandom implements RandomPort {
    private final OpenClEngine engine;

    ClRandom(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public void uniform(UniformRequest r) {
        long n = r.tensor().shape().elementCount();
        // high − low in fp32, as the request documents (one rounding here, one in the kernel's fma)
        float range = r.high() - r.low();
        synchronized (engine) {
            engine.requireOpen();
            try {
                engine.ops().run(engine.ops().call("uniform").mem(buf(r.tensor())).l(n).i((int) r.seed())
                        .i((int) (r.seed() >>> 32)).i((int) r.offset()).i((int) (r.offset() >>> 32)).f(r.low()).f(range),
                        ClGemm.ceilDiv(n, 4));
            } catch (RuntimeException e) {
                throw ClAttention.translate(e, "uniform fill");
            }
        }
    }
}
