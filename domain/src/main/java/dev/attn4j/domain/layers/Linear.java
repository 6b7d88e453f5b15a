package dev.attn4j.domain.layers;

import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Objects;

/**
 * A linear layer {@code y = x·Wᵀ + b} over the linear port, with an optional {@link LinearAdapter}. Its backward
 * reads the forward's input, which the caller keeps (it is the saved state of a linear layer).
 *
 * <pre>{@code
 * Linear toQ = new Linear("attn_layers.layers.0.1.to_q", store.get("....to_q.weight"), null);
 * DeviceTensor q = toQ.forward(step, u);
 * DeviceTensor du = toQ.backward(step, u, dq, true);     // dW accumulated into the weight's gradient
 * }</pre>
 */
public final class Linear {
    private final String path;
    private final Parameter weight;
    private final Parameter bias;
    private LinearAdapter adapter;

    /**
     * Binds a linear layer to its parameters in the model's store.
     *
     * @param path   the module path (the parameter names without {@code .weight}), which adapters match
     * @param weight {@code [out, in]}
     * @param bias   {@code [out]}, or {@code null}
     */
    public Linear(String path, Parameter weight, Parameter bias) {
        this.path = Objects.requireNonNull(path, "path");
        this.weight = Objects.requireNonNull(weight, "weight");
        this.bias = bias;
    }

    /** {@return the module path}, e.g. {@code attn_layers.layers.0.1.fn.to_q}: what adapter target patterns match. */
    public String path() {
        return path;
    }

    /** {@return the weight {@code [out, in]}} */
    public Parameter weight() {
        return weight;
    }

    /** {@return the bias {@code [out]}, or {@code null}} */
    public Parameter bias() {
        return bias;
    }

    /** {@return the input features} (the weight's columns) */
    public int inFeatures() {
        return weight.shape().dim(1);
    }

    /** {@return the output features} (the weight's rows) */
    public int outFeatures() {
        return weight.shape().dim(0);
    }

    /** {@return the adapter attached, or {@code null}} */
    public LinearAdapter adapter() {
        return adapter;
    }

    /**
     * Attaches (or with {@code null} detaches) an adapter.
     *
     * @param adapter the adapter whose update is added to this layer's output, or {@code null} for the base layer alone
     */
    public void attach(LinearAdapter adapter) {
        this.adapter = adapter;
    }

    private LinearRequest request(DeviceTensor x) {
        return LinearRequest.of(x, weight.value(), bias == null ? null : bias.value());
    }

    /**
     * A new {@code y} for {@code x [..., in]}.
     *
     * @param step the pass; it owns {@code y} (closing it earlier is allowed)
     * @param x F32 {@code [..., in]}
     * @return {@code y = x·Wᵀ + b} (plus the adapter's update) F32 {@code [..., out]}
     */
    public DeviceTensor forward(Step step, DeviceTensor x) {
        DeviceTensor y = step.own(step.backend().linear().forward(request(x)));
        if (adapter != null) {
            try (DeviceTensor delta = adapter.forward(step, x)) {
                step.backend().elementwise().axpy(new AxpyRequest(1f, delta, y));
            }
        }
        return y;
    }

    /**
     * Accumulates the gradients of the trainable parameters (the base weight's only when it is trainable: a frozen
     * weight runs no dW GEMM) and returns {@code dx}, or {@code null} when {@code inputGrad} is false.
     *
     * @param step the training pass of the forward
     * @param x the forward's input {@code [..., in]}
     * @param dy F32 {@code [..., out]} the gradient of the output
     * @param inputGrad whether {@code dx} is needed (skipping it saves one GEMM)
     * @return {@code dx} F32 {@code [..., in]}, or {@code null}
     */
    public DeviceTensor backward(Step step, DeviceTensor x, DeviceTensor dy, boolean inputGrad) {
        DeviceTensor dW = weight.grad();
        DeviceTensor db = bias == null ? null : bias.grad();
        DeviceTensor dx = null;
        if (inputGrad || dW != null || db != null) {
            dx = step.backend().linear().backward(new LinearBackwardRequest(request(x), dy, inputGrad, dW, db));
            if (dx != null) {
                step.own(dx);
            }
        }
        if (adapter != null) {
            DeviceTensor dxAdapter = adapter.backward(step, x, dy, inputGrad);
            if (dxAdapter != null) {
                try (dxAdapter) {
                    step.backend().elementwise().axpy(new AxpyRequest(1f, dxAdapter, dx));
                }
            }
        }
        return dx;
    }
}
