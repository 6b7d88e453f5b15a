import dev.attn4j.domain.masks.*;
import dev.attn4j.ports.*;
import dev.attn4j.ports.attention.*;
import dev.attn4j.ports.norm.*;
import dev.attn4j.ports.tensor.*;
import java.util.Random;

public class Quickstart {
    public static void main(String[] args) {
        int b = 1, s = 256, h = 8, hkv = 2, d = 64;            // q [B, S, H, D]; k, v [B, S, Hkv, D]: GQA, 4 heads per KV head
        try (Backend backend = Backends.open()) {               // the best backend on the class path (closing frees its tensors)
            TensorPort t = backend.tensors();
            DeviceTensor q = t.upload(random(b * s * h * d), Shape.of(b, s, h, d), DType.F32);
            DeviceTensor k = t.upload(random(b * s * hkv * d), Shape.of(b, s, hkv, d), DType.F32);
            DeviceTensor v = t.upload(random(b * s * hkv * d), Shape.of(b, s, hkv, d), DType.F32);
            FlashMask docs = FlashMasks.causalDocument(s, 100, 156);   // two packed documents, causal within each
            var options = AttentionOptions.builder().causal(docs.causal()).flashMask(docs.upload(t)).build();
            try (AttentionResult out = backend.attention().forward(new AttentionRequest(q, k, v, options));
                 AttentionGradients g = out.backward(t.upload(random(b * s * h * d), Shape.of(b, s, h, d), DType.F32));
                 NormResult norm = backend.normalization().forward(
                         NormRequest.rmsNorm(out.o(), t.upload(ones(d), Shape.of(d), DType.F32), 1e-6))) {
                System.out.printf("%s: dq[last row][0] = %.5f, rmsnorm(o)[0] = %.5f%n", backend.name(),
                        t.download(g.dq())[(s - 1) * h * d], t.download(norm.y())[0]);
            }
        }
    }

    static float[] random(int n) { float[] x = new float[n]; Random r = new Random(n); for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian(); return x; }
    static float[] ones(int n) { float[] x = new float[n]; java.util.Arrays.fill(x, 1f); return x; }
}
