package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The natural backward path on real kernels: {@code forward(...).backward(dO)} gives exactly the gradients of the
 * explicit request with the forward's FlashMask, and not those of the request that forgot it (which the
 * explicit form accepts, and which is the mistake the natural path rules out).
 */
class ForwardBackwardPairTest {

    @Test
    void theResultsBackwardKeepsTheForwardsFlashMask() {
        int b = 1, sq = 24, sk = 24, h = 2, d = 16;
        Random random = new Random(11);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            DeviceTensor q = upload(backend, random, b, sq, h, d);
            DeviceTensor k = upload(backend, random, b, sk, h, d);
            DeviceTensor v = upload(backend, random, b, sk, h, d);
            DeviceTensor dO = upload(backend, random, b, sq, h, d);
            // causal FlashMask [LTS]: column j is hidden from rows >= j + 4 (a band of width 4 below the diagonal)
            int[] lts = new int[b * h * sk];
            for (int i = 0; i < lts.length; i++) {
                lts[i] = i % sk + 4;
            }
            DeviceTensor mask = backend.tensors().uploadInts(lts, Shape.of(b, h, sk, 1));
            AttentionOptions masked = AttentionOptions.builder().causal(true).flashMask(mask).build();
            AttentionOptions forgotten = AttentionOptions.builder().causal(true).build();

            try (AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, masked));
                 AttentionGradients natural = fwd.backward(dO);
                 AttentionGradients explicit = backend.attention().backward(
                         new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), masked));
                 AttentionGradients wrong = backend.attention().backward(
                         new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), forgotten))) {
                float[] dq = backend.tensors().download(natural.dq());
                assertArrayEquals(backend.tensors().download(explicit.dq()), dq);
                assertArrayEquals(backend.tensors().download(explicit.dk()), backend.tensors().download(natural.dk()));
                assertArrayEquals(backend.tensors().download(explicit.dv()), backend.tensors().download(natural.dv()));
                assertFalse(Arrays.equals(backend.tensors().download(wrong.dq()), dq),
                        "the mask matters here, so forgetting it would have shown");
            }
        }
    }

    private static DeviceTensor upload(Backend backend, Random random, int... dims) {
        Shape shape = Shape.of(dims);
        float[] data = new float[(int) shape.elementCount()];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian();
        }
        return backend.tensors().upload(data, shape, DType.F32);
    }
}
