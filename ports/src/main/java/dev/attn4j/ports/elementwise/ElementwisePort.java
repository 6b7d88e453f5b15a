package dev.attn4j.ports.elementwise;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * The small memory-bound operations between a model's big ones (docs/design.md §9): residual adds,
 * accumulation, scaling, vector broadcasts and token shift. Each runs at memory bandwidth and deterministically.
 *
 * <pre>{@code
 * ElementwisePort ew = backend.elementwise();
 * try (DeviceTensor h = ew.add(AddRequest.of(x, f))) {
 *     ew.axpy(new AxpyRequest(1f, dxBranch, dx));
 * }
 * }</pre>
 */
public interface ElementwisePort {

    /**
     * {@return a new tensor {@code a + alpha·b}, shaped and typed as {@code a}}
     *
     * @param request the two operands and {@code alpha}
     */
    DeviceTensor add(AddRequest request);

    /**
     * {@code y += alpha·x} in place.
     *
     * @param request {@code alpha}, the tensor read {@code x} and the accumulator {@code y}
     */
    void axpy(AxpyRequest request);

    /**
     * {@code x *= alpha} in place.
     *
     * @param request the tensor written {@code x} and the factor {@code alpha}
     */
    void scale(ScaleRequest request);

    /**
     * {@return a new tensor {@code x ⊙ v} with {@code v} broadcast along rows or columns}
     *
     * @param request the tensor {@code x}, the vector {@code v} and the axis it is broadcast along
     */
    DeviceTensor multiply(BroadcastMultiplyRequest request);

    /**
     * Returns {@code dx} (or {@code null}) and adds the vector's gradient into {@code vectorGrad}.
     *
     * @param request the forward request, {@code dy}, and which gradients to compute
     * @return a new tensor {@code dx = dy ⊙ v}, or {@code null} when {@code request.inputGrad()} is false
     */
    DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest request);

    /**
     * {@return a new tensor with the token shift applied, shaped and typed as {@code x}}
     *
     * @param request the input, the features shifted, the shift and the documents
     */
    DeviceTensor shiftTokens(TokenShiftRequest request);
}
