package dev.attn4j.ports.loss;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.Scalars;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fused linear cross-entropy (Liger-Kernel's scheme; Axolotl's {@code flash_attn_cross_entropy}): for each row
 * {@code t} of {@code hidden}, the logits {@code z = h_t·Wᵀ + b} over the vocabulary, and the loss
 * {@code ℓ_t = logsumexp(z) − z[target_t]}; rows whose target is {@code ignoreIndex} count for nothing. The
 * backend works through the rows in chunks, so the {@code [rows, V]} logits never exist whole: per chunk it
 * computes the logits, their row max and sum, writes the gradient {@code g = gradScale·(softmax(z) − onehot)}
 * over the logits in place, then {@code dh = g·W} and {@code dW += gᵀ·h}, {@code db += Σ g}.
 *
 * <p>With {@code gradScale = 1/N} (N the counted tokens of the whole batch, across accumulated micro-batches)
 * the gradients are those of the mean loss, as {@code torch.nn.functional.cross_entropy} computes it.
 *
 * <pre>{@code
 * var ce = CrossEntropyRequest.training(hidden, lmHead, lmBias, targets, 1f / tokens, dLmHead, dLmBias);
 * try (CrossEntropyResult r = backend.loss().linearCrossEntropy(ce)) {
 *     // r.dHidden() flows back into the model; r.lossSum() stays on the device until logged
 * }
 * }</pre>
 *
 * @param hidden       {@code [..., d]}: one row per token
 * @param weight       {@code [V, d]} (the output projection, or the tied embedding table)
 * @param bias         {@code [V]}, or {@code null}
 * @param targets      I32, {@code hidden}'s leading shape: class ids in {@code [0, V)} or {@code ignoreIndex}
 * @param ignoreIndex  the target that marks a row without loss; negative (PyTorch's default is −100)
 * @param gradScale    factor of the gradients, finite as a float and {@code >= 0}
 * @param inputGrad    whether to return {@code dHidden}
 * @param weightGrad   accumulator shaped as {@code weight}, or {@code null}
 * @param biasGrad     accumulator {@code [V]}, or {@code null} (only with a bias)
 * @param perTokenLoss whether to return each row's loss (0 for ignored rows)
 */
public record CrossEntropyRequest(DeviceTensor hidden, DeviceTensor weight, DeviceTensor bias, DeviceTensor targets,
                                  int ignoreIndex, float gradScale, boolean inputGrad, DeviceTensor weightGrad,
                                  DeviceTensor biasGrad, boolean perTokenLoss) {

    /** PyTorch's default ignore index. */
    public static final int IGNORE_INDEX = -100;

    /** Checks shapes, dtypes and scalars. */
    public CrossEntropyRequest {
        if (hidden == null) throw new InvalidRequestException("hidden", "a tensor", "null");
        if (weight == null) throw new InvalidRequestException("weight", "a tensor", "null");
        if (targets == null) throw new InvalidRequestException("targets", "a tensor", "null");
        InvalidRequestException.check(hidden.dtype().isFloating(), "hidden", "a floating dtype", hidden.dtype());
        InvalidRequestException.check(hidden.shape().rank() >= 2, "hidden", "rank >= 2 [..., d]", hidden.shape());
        int d = hidden.shape().dim(-1);
        InvalidRequestException.check(weight.dtype() == hidden.dtype() && weight.shape().rank() == 2
                && weight.shape().dim(1) == d, "weight", hidden.dtype() + " [V, " + d + "]",
                weight.dtype() + " " + weight.shape());
        int v = weight.shape().dim(0);
        if (bias != null) {
            InvalidRequestException.check(bias.dtype() == hidden.dtype() && bias.shape().equals(Shape.of(v)), "bias",
                    hidden.dtype() + " [" + v + "]", bias.dtype() + " " + bias.shape());
        }
        Shape rows = leading(hidden.shape());
        InvalidRequestException.check(targets.dtype() == DType.I32 && targets.shape().equals(rows), "targets",
                "I32 " + rows + " (hidden's leading shape)", targets.dtype() + " " + targets.shape());
        InvalidRequestException.check(ignoreIndex < 0, "ignoreIndex", "a negative id (outside every vocabulary)",
                ignoreIndex);
        Scalars.requireNonNegative("gradScale", gradScale);
        if (weightGrad != null) {
            InvalidRequestException.check(weightGrad.shape().equals(weight.shape()) && weightGrad.dtype() == weight.dtype(),
                    "weightGrad", weight.dtype() + " " + weight.shape() + " (as weight)",
                    weightGrad.dtype() + " " + weightGrad.shape());
            InvalidRequestException.check(weightGrad != weight && weightGrad != hidden, "weightGrad",
                    "a tensor apart from the inputs", "one of them");
        }
        if (biasGrad != null) {
            InvalidRequestException.check(bias != null, "biasGrad", "null without a bias", "a tensor");
            InvalidRequestException.check(biasGrad.shape().equals(bias.shape()) && biasGrad.dtype() == bias.dtype()
                    && biasGrad != bias, "biasGrad", bias.dtype() + " " + bias.shape() + " (as bias, apart from it)",
                    biasGrad.dtype() + " " + biasGrad.shape());
        }
    }

    /**
     * {@return a request for the loss only (evaluation): no gradient, no per-token losses} Targets equal to
     * {@link #IGNORE_INDEX} count for nothing.
     *
     * @param hidden  {@code [..., d]}: one row per token
     * @param weight  {@code [V, d]} (the output projection, or the tied embedding table)
     * @param bias    {@code [V]}, or {@code null}
     * @param targets I32, {@code hidden}'s leading shape: class ids in {@code [0, V)} or {@link #IGNORE_INDEX}
     */
    public static CrossEntropyRequest evaluation(DeviceTensor hidden, DeviceTensor weight, DeviceTensor bias,
                                                 DeviceTensor targets) {
        return new CrossEntropyRequest(hidden, weight, bias, targets, IGNORE_INDEX, 0f, false, null, null, false);
    }

    /**
     * {@return a request for the loss and every gradient: {@code dHidden} returned, the weight's (and bias's)
     * added into the accumulators} Targets equal to {@link #IGNORE_INDEX} count for nothing.
     *
     * @param hidden     {@code [..., d]}: one row per token
     * @param weight     {@code [V, d]} (the output projection, or the tied embedding table)
     * @param bias       {@code [V]}, or {@code null}
     * @param targets    I32, {@code hidden}'s leading shape: class ids in {@code [0, V)} or {@link #IGNORE_INDEX}
     * @param gradScale  factor of the gradients, finite as a float and {@code >= 0} ({@code 1/N} for the mean
     *                   loss over N counted tokens)
     * @param weightGrad accumulator shaped as {@code weight}, or {@code null} for a frozen weight
     * @param biasGrad   accumulator {@code [V]}, or {@code null} (only with a bias)
     */
    public static CrossEntropyRequest training(DeviceTensor hidden, DeviceTensor weight, DeviceTensor bias,
                                               DeviceTensor targets, float gradScale, DeviceTensor weightGrad,
                                               DeviceTensor biasGrad) {
        return new CrossEntropyRequest(hidden, weight, bias, targets, IGNORE_INDEX, gradScale, true, weightGrad,
                biasGrad, false);
    }

    /** {@return a copy of this request that also returns each row's loss} */
    public CrossEntropyRequest withPerTokenLoss() {
        return new CrossEntropyRequest(hidden, weight, bias, targets, ignoreIndex, gradScale, inputGrad, weightGrad,
                biasGrad, true);
    }

    /** {@return whether any gradient is asked for} */
    public boolean wantsGradients() {
        return inputGrad || weightGrad != null || biasGrad != null;
    }

    /** {@return the vocabulary size {@code V}} */
    public int vocabulary() {
        return weight.shape().dim(0);
    }

    /** {@return the number of rows (tokens), counted or ignored} */
    public long rows() {
        return targets.shape().elementCount();
    }

    private static Shape leading(Shape s) {
        int[] dims = s.dims();
        return Shape.of(java.util.Arrays.copyOf(dims, dims.length - 1));
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("hidden", hidden);
        all.put("weight", weight);
        if (bias != null) all.put("bias", bias);
        all.put("targets", targets);
        if (weightGrad != null) all.put("weightGrad", weightGrad);
        if (biasGrad != null) all.put("biasGrad", biasGrad);
        return all;
    }
}
