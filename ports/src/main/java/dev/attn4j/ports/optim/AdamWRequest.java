package dev.attn4j.ports.optim;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One fused AdamW step over a flat range of parameters (one parameter group), with PyTorch's semantics
 * ({@code torch.optim.AdamW}, {@code amsgrad=False}): for every element, with {@code g} the gradient times the
 * clipping factor (1 without clipping),
 * <pre>
 *   p ← p − lr·wd·p                                 (decoupled weight decay)
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * </pre>
 * in fp32, {@code t = step}. Parameters, gradients and both moments are F32 of one shape (16-bit models keep
 * fp32 master weights).
 *
 * <pre>{@code
 * backend.optimizer().adamW(new AdamWRequest(params, grads, m, v, step, lr, 0.9f, 0.999f, 1e-8f, 0.01f, clip));
 * }</pre>
 *
 * @param params      F32, updated in place
 * @param grads       F32, shaped as params; read
 * @param expAvg      F32 first moment {@code m}, updated in place
 * @param expAvgSq    F32 second moment {@code v}, updated in place
 * @param step        the step number {@code t >= 1} (bias correction)
 * @param lr          learning rate, finite as a float and {@code >= 0}
 * @param beta1       β₁ in {@code [0, 1)}
 * @param beta2       β₂ in {@code [0, 1)}
 * @param eps         ε, finite as a float and {@code > 0}
 * @param weightDecay decoupled weight decay, finite as a float and {@code >= 0}
 * @param clip        global-norm clipping, or {@code null}
 */
public record AdamWRequest(DeviceTensor params, DeviceTensor grads, DeviceTensor expAvg, DeviceTensor expAvgSq,
                           long step, float lr, float beta1, float beta2, float eps, float weightDecay,
                           GradientClip clip) {

    /** Checks tensors and hyper-parameters. */
    public AdamWRequest {
        require("params", params);
        require("grads", grads);
        require("expAvg", expAvg);
        require("expAvgSq", expAvgSq);
        same("grads", grads, params);
        same("expAvg", expAvg, params);
        same("expAvgSq", expAvgSq, params);
        InvalidRequestException.check(params != grads && params != expAvg && params != expAvgSq && grads != expAvg
                && grads != expAvgSq && expAvg != expAvgSq, "request", "four distinct tensors", "a tensor passed twice");
        InvalidRequestException.check(step >= 1, "step", ">= 1", step);
        Scalars.requireNonNegative("lr", lr);
        InvalidRequestException.check(beta1 >= 0f && beta1 < 1f, "beta1", "in [0, 1)", beta1);
        InvalidRequestException.check(beta2 >= 0f && beta2 < 1f, "beta2", "in [0, 1)", beta2);
        Scalars.requirePositive("eps", eps);
        Scalars.requireNonNegative("weightDecay", weightDecay);
    }

    private static void require(String name, DeviceTensor t) {
        if (t == null) throw new InvalidRequestException(name, "a tensor", "null");
        InvalidRequestException.check(t.dtype() == DType.F32, name, "dtype F32 (fp32 master weights and state)",
                t.dtype());
    }

    private static void same(String name, DeviceTensor t, DeviceTensor params) {
        InvalidRequestException.check(t.shape().equals(params.shape()), name, "shape " + params.shape() + " (as params)",
                t.shape());
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("params", params);
        all.put("grads", grads);
        all.put("expAvg", expAvg);
        all.put("expAvgSq", expAvgSq);
        if (clip != null) all.put("clip.sumOfSquares", clip.sumOfSquares());
        return all;
    }
}
