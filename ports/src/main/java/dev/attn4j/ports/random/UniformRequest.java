package dev.attn4j.ports.random;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fills a tensor with uniform noise from the Philox stream attention dropout uses, so that the same
 * {@code (seed, offset)} gives bit-identical values on every backend (NEFTune's noise is drawn this way).
 *
 * <h2>Counter mapping</h2>
 * Element {@code n} of the tensor (its flat row-major index) takes word {@code n & 3} of one Philox4x32-10 call
 * with key {@code (lo32(seed), hi32(seed))} and counter {@code (lo32(n >>> 2), hi32(n >>> 2), lo32(offset),
 * hi32(offset))} — the rule of {@link dev.attn4j.ports.attention.Dropout} with {@code n} the flat index — and
 * becomes {@code u = (w >>> 8)·2⁻²⁴} in {@code [0, 1)}, then {@code value = fma(u, high − low, low)} in fp32
 * (one rounding, so every backend agrees bit for bit), stored in the tensor's dtype.
 *
 * <pre>{@code
 * float m = alpha / (float) Math.sqrt((double) seqLen * dim);          // NEFTune
 * backend.random().uniform(new UniformRequest(noise, -m, m, seed, step));
 * }</pre>
 *
 * @param tensor floating, any shape; overwritten
 * @param low    the lower bound, finite as a float
 * @param high   the upper bound, finite as a float, {@code >= low}, with {@code high − low} finite
 * @param seed   Philox key
 * @param offset Philox counter offset (advance it for fresh values)
 */
public record UniformRequest(DeviceTensor tensor, float low, float high, long seed, long offset) {

    /** Checks the arguments. */
    public UniformRequest {
        if (tensor == null) throw new InvalidRequestException("tensor", "a tensor", "null");
        InvalidRequestException.check(tensor.dtype().isFloating(), "tensor", "a floating dtype", tensor.dtype());
        Scalars.requireFinite("low", low);
        Scalars.requireFinite("high", high);
        InvalidRequestException.check(high >= low && Float.isFinite(high - low), "high",
                "a bound >= low = " + low + " within float range of it", high);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("tensor", tensor);
        return all;
    }
}
