package dev.attn4j.ports.linear;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One linear layer forward: {@code y = x·Wᵀ + b} over the last dimension of {@code x}. Every leading dimension
 * of {@code x} is a row, so {@code [B, S, in]} runs as one GEMM of {@code B·S} rows.
 *
 * <pre>{@code
 * try (DeviceTensor y = backend.linear().forward(LinearRequest.of(x, w, b))) { ... }   // x [B, S, 512], w [2048, 512]
 * }</pre>
 *
 * @param x      {@code [..., in]}
 * @param weight {@code [out, in]} ({@link WeightLayout#OUT_IN}) or {@code [in, out]} ({@link WeightLayout#IN_OUT})
 * @param bias   {@code [out]}, or {@code null}
 * @param layout how {@code weight} is stored
 */
public record LinearRequest(DeviceTensor x, DeviceTensor weight, DeviceTensor bias, WeightLayout layout) {

    /** Checks ranks, sizes and dtypes. */
    public LinearRequest {
        if (x == null) throw new InvalidRequestException("x", "a tensor", "null");
        if (weight == null) throw new InvalidRequestException("weight", "a tensor", "null");
        if (layout == null) throw new InvalidRequestException("layout", "OUT_IN or IN_OUT", "null");
        InvalidRequestException.check(x.dtype().isFloating(), "x", "a floating dtype", x.dtype());
        InvalidRequestException.check(weight.dtype() == x.dtype(), "weight", "dtype " + x.dtype() + " (as x)",
                weight.dtype());
        InvalidRequestException.check(weight.shape().rank() == 2, "weight",
                layout == WeightLayout.OUT_IN ? "rank 2 [out, in]" : "rank 2 [in, out]", weight.shape());
        int in = x.shape().dim(-1);
        int wIn = layout == WeightLayout.OUT_IN ? weight.shape().dim(1) : weight.shape().dim(0);
        InvalidRequestException.check(wIn == in, "weight", "in = " + in + " (last dim of x " + x.shape() + ") as its "
                + (layout == WeightLayout.OUT_IN ? "second" : "first") + " dimension", weight.shape());
        if (bias != null) {
            int out = layout == WeightLayout.OUT_IN ? weight.shape().dim(0) : weight.shape().dim(1);
            InvalidRequestException.check(bias.shape().equals(Shape.of(out)), "bias", "shape [" + out + "]", bias.shape());
            InvalidRequestException.check(bias.dtype() == x.dtype(), "bias", "dtype " + x.dtype() + " (as x)", bias.dtype());
        }
    }

    /**
     * {@return the request for {@code y = x·Wᵀ + b} with {@code W [out, in]}}
     *
     * @param x      {@code [..., in]}
     * @param weight {@code [out, in]}, as PyTorch's {@code nn.Linear} stores it
     * @param bias   {@code [out]}, or {@code null} for none
     */
    public static LinearRequest of(DeviceTensor x, DeviceTensor weight, DeviceTensor bias) {
        return new LinearRequest(x, weight, bias, WeightLayout.OUT_IN);
    }

    /** {@return the number of input features, {@code in}} */
    public int inFeatures() {
        return x.shape().dim(-1);
    }

    /** {@return the number of output features, {@code out}} */
    public int outFeatures() {
        return layout == WeightLayout.OUT_IN ? weight.shape().dim(0) : weight.shape().dim(1);
    }

    /** {@return the rows: the product of {@code x}'s leading dimensions} */
    public long rows() {
        return x.shape().elementCount() / inFeatures();
    }

    /** {@return the shape of {@code y}: {@code x}'s with the last dimension {@code out}} */
    public Shape outputShape() {
        int[] dims = x.shape().dims();
        dims[dims.length - 1] = outFeatures();
        return Shape.of(dims);
    }

    /** {@return every tensor by argument name} */
    public Map<String, DeviceTensor> tensors() {
        Map<String, DeviceTensor> all = new LinkedHashMap<>();
        all.put("x", x);
        all.put("weight", weight);
        if (bias != null) all.put("bias", bias);
        return all;
    }
}
