package dev.attn4j.domain.adapters;

import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.LinearAdapter;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Objects;

/**
 * One VeRA layer: the delta {@code λ_b ⊙ (B_s·(λ_d ⊙ (A_s·dropout(x))))} of PEFT's {@code vera.Linear.forward}
 * (peft {@code src/peft/tuners/vera/layer.py}: {@code lambda_b * F.linear(lambda_d * F.linear(dropout(x), sliced_A),
 * sliced_B)}), where {@code A_s = vera_A[:, :in]} and {@code B_s = vera_B[:out, :]} are this layer's slices of the
 * shared frozen projections, and {@code λ_d [r]}, {@code λ_b [out]} are its trained vectors. The λ products are the
 * elementwise port's column broadcasts, whose backward adds the vectors' gradients.
 *
 * <p>Backward recomputes the two small intermediates ({@code r} features per row, and the {@code out}-wide
 * {@code B_s} product) rather than keeping them: the adapter hook hands backward only {@code x}.
 *
 * <pre>{@code
 * linear.attach(new VeraAdapter(linear, aSlice, bSlice, store.get(path + ".vera_lambda_d"), store.get(path + ".vera_lambda_b"), 0.0));
 * }</pre>
 */
public final class VeraAdapter implements LinearAdapter {
    private final Linear base;
    private final DeviceTensor aSlice;
    private final DeviceTensor bSlice;
    private final Parameter lambdaD;
    private final Parameter lambdaB;
    private final InputDropout dropout;

    /**
     * A VeRA layer over {@code base}.
     *
     * @param base    the wrapped layer
     * @param aSlice  {@code A_s [r, in]} (frozen; in attn4j's column order for this layer)
     * @param bSlice  {@code B_s [out, r]} (frozen; in attn4j's row order for this layer)
     * @param lambdaD {@code λ_d [r]}
     * @param lambdaB {@code λ_b [out]}
     * @param dropout dropout probability on the input
     */
    public VeraAdapter(Linear base, DeviceTensor aSlice, DeviceTensor bSlice, Parameter lambdaD, Parameter lambdaB,
                       double dropout) {
        this.base = Objects.requireNonNull(base, "base");
        this.aSlice = Objects.requireNonNull(aSlice, "aSlice");
        this.bSlice = Objects.requireNonNull(bSlice, "bSlice");
        this.lambdaD = Objects.requireNonNull(lambdaD, "lambdaD");
        this.lambdaB = Objects.requireNonNull(lambdaB, "lambdaB");
        int r = lambdaD.shape().dim(0);
        InvalidRequestException.check(aSlice.shape().equals(Shape.of(r, base.inFeatures())), "vera_A slice",
                "[" + r + ", " + base.inFeatures() + "] for " + base.path(), aSlice.shape());
        InvalidRequestException.check(bSlice.shape().equals(Shape.of(base.outFeatures(), r)), "vera_B slice",
                "[" + base.outFeatures() + ", " + r + "] for " + base.path(), bSlice.shape());
        InvalidRequestException.check(lambdaB.shape().equals(Shape.of(base.outFeatures())), "vera_lambda_b",
                "[" + base.outFeatures() + "] for " + base.path(), lambdaB.shape());
        InvalidRequestException.check(dropout >= 0 && dropout < 1, "vera_dropout", "a probability in [0, 1)", dropout);
        this.dropout = new InputDropout(dropout);
    }

    /** {@return {@code λ_d}} */
    public Parameter lambdaD() {
        return lambdaD;
    }

    /** {@return {@code λ_b}} */
    public Parameter lambdaB() {
        return lambdaB;
    }

    /** {@return the wrapped layer} */
    public Linear base() {
        return base;
    }

    private BroadcastMultiplyRequest scaleD(DeviceTensor h) {
        return new BroadcastMultiplyRequest(h, lambdaD.value(), BroadcastAxis.COLUMNS);
    }

    private BroadcastMultiplyRequest scaleB(DeviceTensor g) {
        return new BroadcastMultiplyRequest(g, lambdaB.value(), BroadcastAxis.COLUMNS);
    }

    @Override
    public DeviceTensor forward(Step step, DeviceTensor x) {
        Backend be = step.backend();
        try (InputDropout.Dropped in = dropout.apply(step, x);
             DeviceTensor h = be.linear().forward(LinearRequest.of(in.tensor(), aSlice, null));
             DeviceTensor hd = be.elementwise().multiply(scaleD(h));
             DeviceTensor g = be.linear().forward(LinearRequest.of(hd, bSlice, null))) {
            return be.elementwise().multiply(scaleB(g));
        }
    }

    @Override
    public DeviceTensor backward(Step step, DeviceTensor x, DeviceTensor dy, boolean inputGrad) {
        boolean trainD = lambdaD.grad() != null;
        if (!inputGrad && !trainD && lambdaB.grad() == null) {
            return null;
        }
        Backend be = step.backend();
        try (InputDropout.Dropped in = dropout.apply(step, x);
             DeviceTensor h = be.linear().forward(LinearRequest.of(in.tensor(), aSlice, null));
             DeviceTensor hd = be.elementwise().multiply(scaleD(h));
             DeviceTensor g = be.linear().forward(LinearRequest.of(hd, bSlice, null));
             // dλ_b += Σ_rows dy ⊙ g; dg = dy ⊙ λ_b
             DeviceTensor dg = be.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(scaleB(g), dy,
                     true, lambdaB.grad()));
             DeviceTensor dhd = be.linear().backward(new LinearBackwardRequest(LinearRequest.of(hd, bSlice, null), dg,
                     true, null, null))) {
            if (!inputGrad && !trainD) {
                return null;
            }
            // dλ_d += Σ_rows dhd ⊙ h; dh = dhd ⊙ λ_d
            DeviceTensor dh = be.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(scaleD(h), dhd,
                    inputGrad, lambdaD.grad()));
            if (!inputGrad) {
                return null;
            }
            try (dh) {
                DeviceTensor dIn = be.linear().backward(new LinearBackwardRequest(LinearRequest.of(in.tensor(), aSlice, null),
                        dh, true, null, null));
                if (!dropout.active(step)) {
                    return dIn;
                }
                try (dIn) {
                    return dropout.applyOwned(step, dIn);
                }
            }
        }
    }

    /**
     * Adds ({@code sign = 1}) or subtracts {@code (λ_b ⊙ B_s)·(λ_d ⊙ A_s)} to the base weight: PEFT's
     * {@code get_delta_weight}.
     */
    void mergeInto(Backend be, int sign) {
        try (DeviceTensor bl = be.elementwise().multiply(new BroadcastMultiplyRequest(bSlice, lambdaB.value(), BroadcastAxis.ROWS));
             DeviceTensor al = be.elementwise().multiply(new BroadcastMultiplyRequest(aSlice, lambdaD.value(), BroadcastAxis.ROWS))) {
            be.linear().matmul(new MatmulRequest(bl, false, al, false, base.weight().value(), sign, 1f));
        }
    }
}
