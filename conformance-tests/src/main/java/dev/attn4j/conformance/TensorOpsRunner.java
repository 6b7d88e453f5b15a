package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs one of the tensor port's device-side operations and checks it exactly (they move or convert values; nothing
 * is computed): a view reads the right elements (and, when the backend also fills, writes through to the base and
 * nowhere else), a strided copy lands where it should and leaves the rest of the destination alone, a cast rounds to
 * nearest even, a fill sets every element to the value rounded to the dtype.
 */
final class TensorOpsRunner {
    private static final float FILL_VALUE = 0.1f;   // not representable in any 16-bit type: the fill must round

    private TensorOpsRunner() {
    }

    static List<PassRule.Check> run(TensorOpsConfig cfg, Op op, Backend backend) {
        double[] values = cfg.data();
        DType dtype = cfg.dtype();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor base = scope.upload(values, cfg.shape(), dtype);
            return switch (op) {
                case TENSOR_VIEW -> view(cfg, values, base, backend, scope);
                case TENSOR_COPY -> copy(cfg, values, base, backend, scope);
                case TENSOR_CAST -> cast(values, base, dtype, backend, scope);
                case TENSOR_FILL -> {
                    backend.tensors().fill(base, FILL_VALUE);
                    double[] want = new double[values.length];
                    Arrays.fill(want, Precision.of(dtype).round(FILL_VALUE));
                    yield List.of(PassRule.exact("filled", want, scope.download(base)));
                }
                default -> throw new IllegalArgumentException("not a tensor op: " + op);
            };
        }
    }

    /** A view of about the middle half, at an offset the backend's alignment allows. */
    private static List<PassRule.Check> view(TensorOpsConfig cfg, double[] values, DeviceTensor base, Backend backend,
                                             DeviceScope scope) {
        int n = values.length;
        int alignment = backend.capabilities().port(TensorCapabilities.class).map(TensorCapabilities::viewAlignment)
                .orElse(1);
        long offset = (n / 4) / alignment * alignment;
        int length = (int) Math.max(1, Math.min(n - offset, (n + 1) / 2));
        DeviceTensor view = scope.track(backend.tensors().view(base, offset, Shape.of(length)));
        List<PassRule.Check> checks = new ArrayList<>();
        double[] window = Arrays.copyOfRange(values, (int) offset, (int) offset + length);
        checks.add(PassRule.exact("view", window, scope.download(view)));
        boolean fills = backend.capabilities().port(TensorCapabilities.class).map(t -> t.supports(TensorFeature.FILL))
                .orElse(false);
        if (fills) {
            backend.tensors().fill(view, -2f);
            double[] want = values.clone();
            Arrays.fill(want, (int) offset, (int) offset + length, -2);
            checks.add(PassRule.exact("base after writing the view", want, scope.download(base)));
        }
        return checks;
    }

    /** Every other row of the tensor, its columns from 1 (when there are two), into a larger zeroed destination. */
    private static List<PassRule.Check> copy(TensorOpsConfig cfg, double[] values, DeviceTensor base, Backend backend,
                                             DeviceScope scope) {
        int rows = cfg.rows();
        int cols = cfg.cols();
        int firstCol = cols > 1 ? 1 : 0;
        int width = cols - firstCol;
        long copied = (rows + 1) / 2;
        int dstStride = width + 3;
        int dstOffset = 2;
        int dstSize = (int) (dstOffset + copied * dstStride);
        DeviceTensor dst = scope.track(backend.tensors().zeros(Shape.of(dstSize), cfg.dtype()));
        backend.tensors().copy(new CopyRequest(base, firstCol, 2L * cols, dst, dstOffset, dstStride, copied, width));
        double[] want = new double[dstSize];
        for (int r = 0; r < copied; r++) {
            for (int c = 0; c < width; c++) {
                want[dstOffset + r * dstStride + c] = values[2 * r * cols + firstCol + c];
            }
        }
        return List.of(PassRule.exact("dst", want, scope.download(dst)),
                PassRule.exact("src unchanged", values, scope.download(base)));
    }

    /** To each other floating type. */
    private static List<PassRule.Check> cast(double[] values, DeviceTensor base, DType from, Backend backend,
                                             DeviceScope scope) {
        List<PassRule.Check> checks = new ArrayList<>();
        for (DType to : List.of(DType.F32, DType.BF16, DType.F16)) {
            if (to == from) {
                continue;
            }
            DeviceTensor cast = scope.track(backend.tensors().cast(base, to));
            if (cast.dtype() != to || !cast.shape().equals(base.shape())) {
                throw new IllegalStateException("cast to " + to + " gave " + cast.dtype() + " " + cast.shape());
            }
            double[] want = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                want[i] = Precision.of(to).round(values[i]);
            }
            checks.add(PassRule.exact("as " + Draw.dtype(to), want, scope.download(cast)));
        }
        return checks;
    }
}
