package dev.attn4j.ports.attention;

import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One attention forward call. Shapes are checked on construction, so an inconsistent request cannot
 * exist; the {@link dev.attn4j.ports.Backend} checks ownership, capabilities and index ranges next. A window
 * side too wide to exclude any key is stored as −1 (unbounded), so {@link #options()} may differ from the
 * options given in that one respect.
 *
 * <pre>{@code
 * var request = new AttentionRequest(q, k, v, AttentionOptions.builder().causal(true).build());
 * try (AttentionResult r = backend.attention().forward(request)) { ... r.o() ... r.lse() ... }
 * }</pre>
 *
 * @param q       queries {@code [B, Sq, H, D]} ({@code [B, H, Sq, D]} with layout BHSD)
 * @param k       keys {@code [B, Sk, Hkv, D]} ({@code [B, Hkv, Sk, D]} with layout BHSD)
 * @param v       values, shaped as {@code k}
 * @param options masks, biases, scale, dropout
 */
public record AttentionRequest(DeviceTensor q, DeviceTensor k, DeviceTensor v, AttentionOptions options) {

    /** Checks shapes and dtypes of every tensor against each other. */
    public AttentionRequest {
        if (options == null) {
            options = AttentionOptions.DEFAULT;
        }
        AttentionShape shape = AttentionShape.of(q, k, v, options.layout());
        shape.checkOptions(options, q.dtype());
        options = shape.normalizeWindow(options);
        if (options.biasTableGrad()) {
            throw new dev.attn4j.ports.InvalidRequestException("biasTableGrad",
                    "false in a forward request (it asks backward for a gradient)", true);
        }
    }

    /** {@return the problem's sizes} */
    public AttentionShape shape() {
        return AttentionShape.of(q, k, v, options.layout());
    }

    /** {@return every tensor of the request by argument name, for ownership and liveness checks} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("q", q);
        all.put("k", k);
        all.put("v", v);
        putOptionTensors(all, options);
        return all;
    }

    static void putOptionTensors(Map<String, DeviceTensor> all, AttentionOptions o) {
        if (o.alibiSlopes() != null) all.put("alibiSlopes", o.alibiSlopes());
        if (o.biasTable() != null) all.put("biasTable", o.biasTable());
        if (o.denseBias() != null) all.put("denseBias", o.denseBias());
        if (o.flashMask() != null) all.put("flashMask", o.flashMask());
        if (o.denseMask() != null) all.put("denseMask", o.denseMask());
    }
}
