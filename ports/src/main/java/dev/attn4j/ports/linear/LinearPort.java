package dev.attn4j.ports.linear;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Linear layers and matrix products on a GEMM (docs/design.md §9). The hot op of every model: backends run it
 * at their platform's best GEMM rate. Results are deterministic run to run (no unordered atomics).
 *
 * <pre>{@code
 * LinearPort linear = backend.linear();
 * LinearRequest fwd = LinearRequest.of(x, w, b);
 * try (DeviceTensor y = linear.forward(fwd);
 *      DeviceTensor dx = linear.backward(new LinearBackwardRequest(fwd, dy, true, dW, db))) { ... }
 * }</pre>
 */
public interface LinearPort {

    /**
     * {@return a new tensor {@code y = x·Wᵀ + b}, shaped {@code request.outputShape()}}
     *
     * @param request the input, weight, optional bias and weight layout
     */
    DeviceTensor forward(LinearRequest request);

    /**
     * Adds the parameter gradients into {@code weightGrad}/{@code biasGrad} and returns a new {@code dx}
     * (shaped as {@code x}), or {@code null} when {@code inputGrad} is false.
     *
     * @param request the forward request, {@code dy}, and which gradients to compute
     * @return the new input gradient {@code dx}, or {@code null} when {@code request.inputGrad()} is false
     */
    DeviceTensor backward(LinearBackwardRequest request);

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C}, in place.
     *
     * @param request the operands, their transposes, {@code alpha}, {@code beta} and the output {@code C}
     */
    void matmul(MatmulRequest request);
}
