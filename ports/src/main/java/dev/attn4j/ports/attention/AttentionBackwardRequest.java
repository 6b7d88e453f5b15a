package dev.attn4j.ports.attention;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One attention backward call (docs/design.md §5): the upstream gradient {@code dO}, the forward inputs, and the
 * forward's {@code o} and {@code lse}. The options must be those of the forward call.
 *
 * <pre>{@code
 * var bwd = new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options);
 * try (AttentionGradients g = backend.attention().backward(bwd)) { ... g.dq() ... }
 * }</pre>
 *
 * @param dO      gradient of the loss w.r.t. {@code o}, {@code [B, Sq, H, D]}
 * @param q       queries
 * @param k       keys
 * @param v       values
 * @param o       forward output
 * @param lse     forward log-sum-exp {@code [B, H, Sq]}, F32
 * @param options the forward call's options (plus {@code deterministic}, {@code biasTableGrad})
 */
public record AttentionBackwardRequest(DeviceTensor dO, DeviceTensor q, DeviceTensor k, DeviceTensor v,
                                       DeviceTensor o, DeviceTensor lse, AttentionOptions options) {

    /** Checks every shape and dtype. */
    public AttentionBackwardRequest {
        if (options == null) {
            options = AttentionOptions.DEFAULT;
        }
        AttentionShape shape = AttentionShape.of(q, k, v, options.layout());
        shape.checkOptions(options, q.dtype());
        // As in the forward request: a window too wide to exclude a key is unbounded.
        options = shape.normalizeWindow(options);
        AttentionShape.requirePresent(dO, "dO");
        AttentionShape.requirePresent(o, "o");
        AttentionShape.requirePresent(lse, "lse");
        AttentionShape.requireShape(dO, "dO", shape.queryShape(options.layout()), "(as q)");
        AttentionShape.requireDType(dO, "dO", q.dtype());
        AttentionShape.requireShape(o, "o", shape.queryShape(options.layout()), "(as q)");
        AttentionShape.requireDType(o, "o", q.dtype());
        AttentionShape.requireShape(lse, "lse", shape.lseShape(), "[B, H, Sq]");
        AttentionShape.requireDType(lse, "lse", DType.F32);
    }

    /** {@return the problem's sizes} */
    public AttentionShape shape() {
        return AttentionShape.of(q, k, v, options.layout());
    }

    /** {@return every tensor of the request by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("dO", dO);
        all.put("q", q);
        all.put("k", k);
        all.put("v", v);
        all.put("o", o);
        all.put("lse", lse);
        AttentionRequest.putOptionTensors(all, options);
        return all;
    }
}
