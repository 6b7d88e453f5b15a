package dev.attn4j.domain.adapters;

import dev.attn4j.domain.layers.Linear;
import dev.attn4j.domain.layers.LinearAdapter;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * One LoRA layer: the delta {@code s·B·A·dropout(x)} that PEFT's {@code lora.Linear.forward} adds to the base output
 * (peft {@code src/peft/tuners/lora/layer.py}: {@code result + lora_B(lora_A(dropout(x))) * scaling}), with
 * {@code A [r, in]} and {@code B [out, r]} parameters of the adapter's store.
 *
 * <p>Nothing is saved between forward and backward ({@link LinearAdapter} hands backward only {@code x}): backward
 * recomputes the dropped input and {@code h = s·A·x} ({@code r} features per row, a GEMM of {@code r/out} of the
 * base layer's), then {@code dB += dyᵀ·h}, {@code dh = s·dy·B}, {@code dA += dhᵀ·x̃}, {@code dx = dropout(dh·A)}
 * (dropout's derivative is the same scaled mask).
 *
 * <pre>{@code
 * linear.attach(new LoraAdapter(linear, store.get(path + ".lora_A.weight"), store.get(path + ".lora_B.weight"), 2.0, 0.0));
 * }</pre>
 */
public final class LoraAdapter implements LinearAdapter {
    private final Linear base;
    private final Parameter a;
    private final Parameter b;
    private final float scaling;
    private final InputDropout dropout;

    /**
     * A LoRA layer over {@code base}.
     *
     * @param base    the wrapped layer (for merging)
     * @param a       {@code lora_A [r, in]}
     * @param b       {@code lora_B [out, r]}
     * @param scaling {@code s} ({@code alpha/r} or rsLoRA's {@code alpha/√r})
     * @param dropout dropout probability on the input, in {@code [0, 1)}
     */
    public LoraAdapter(Linear base, Parameter a, Parameter b, double scaling, double dropout) {
        this.base = Objects.requireNonNull(base, "base");
        this.a = Objects.requireNonNull(a, "a");
        this.b = Objects.requireNonNull(b, "b");
        int r = a.shape().dim(0);
        InvalidRequestException.check(a.shape().rank() == 2 && a.shape().dim(1) == base.inFeatures(), "lora_A",
                "[r, " + base.inFeatures() + "] for " + base.path(), a.shape());
        InvalidRequestException.check(b.shape().rank() == 2 && b.shape().dim(0) == base.outFeatures() && b.shape().dim(1) == r,
                "lora_B", "[" + base.outFeatures() + ", " + r + "] for " + base.path(), b.shape());
        InvalidRequestException.check(Double.isFinite(scaling) && Float.isFinite((float) scaling), "scaling",
                "a finite number", scaling);
        InvalidRequestException.check(dropout >= 0 && dropout < 1, "lora_dropout", "a probability in [0, 1)", dropout);
        this.scaling = (float) scaling;
        this.dropout = new InputDropout(dropout);
    }

    /** {@return the wrapped layer} */
    public Linear base() {
        return base;
    }

    /** {@return {@code lora_A}} */
    public Parameter a() {
        return a;
    }

    /** {@return {@code lora_B}} */
    public Parameter b() {
        return b;
    }

    /** {@return the scaling {@code s}} */
    public float scaling() {
        return scaling;
    }

    /** {@code h = s·(x̃·Aᵀ)} {@code [..., r]}. */
    private DeviceTensor scaledHidden(Backend be, DeviceTensor input) {
        DeviceTensor h = be.linear().forward(LinearRequest.of(input, a.value(), null));
        be.elementwise().scale(new ScaleRequest(h, scaling));
        return h;
    }

    @Override
    public DeviceTensor forward(Step step, DeviceTensor x) {
        Backend be = step.backend();
        try (InputDropout.Dropped in = dropout.apply(step, x);
             DeviceTensor h = scaledHidden(be, in.tensor())) {
            return be.linear().forward(LinearRequest.of(h, b.value(), null));
        }
    }

    @Override
    public DeviceTensor backward(Step step, DeviceTensor x, DeviceTensor dy, boolean inputGrad) {
        if (!inputGrad && a.grad() == null && b.grad() == null) {
            return null;                                     // a frozen adapter under a frozen input: nothing to do
        }
        Backend be = step.backend();
        try (InputDropout.Dropped in = dropout.apply(step, x);
             DeviceTensor h = scaledHidden(be, in.tensor());
             DeviceTensor dh = be.linear().backward(new LinearBackwardRequest(LinearRequest.of(h, b.value(), null), dy,
                     true, b.grad(), null))) {
            if (!inputGrad && a.grad() == null) {
                return null;
            }
            be.elementwise().scale(new ScaleRequest(dh, scaling));
            DeviceTensor dIn = be.linear().backward(new LinearBackwardRequest(LinearRequest.of(in.tensor(), a.value(), null),
                    dh, inputGrad, a.grad(), null));
            if (dIn == null || !dropout.active(step)) {
                return dIn;
            }
            try (dIn) {
                return dropout.applyOwned(step, dIn);         // dropout's derivative is its own mask
            }
        }
    }

    /**
     * Adds ({@code sign = 1}) or subtracts ({@code sign = −1}) {@code s·B·A} to the base weight in place: PEFT's
     * {@code merge} / {@code unmerge} ({@code get_delta_weight} = {@code B @ A * scaling}).
     *
     * @param backend the backend of the weights
     * @param sign    1 or −1
     */
    void mergeInto(Backend backend, int sign) {
        backend.linear().matmul(new MatmulRequest(b.value(), false, a.value(), false, base.weight().value(),
                sign * scaling, 1f));
    }
}
