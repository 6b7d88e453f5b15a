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

    /** A new tensor {@code a + alpha·b}. */
    DeviceTensor add(AddRequest request);

    /** {@code y += alpha·x} in place. */
    void axpy(AxpyRequest request);

    /** {@code x *= alpha} in place. */
    void scale(ScaleRequest request);

    /** A new tensor {@code x ⊙ v} with {@code v} broadcast along rows or columns. */
    DeviceTensor multiply(BroadcastMultiplyRequest request);

    /** Returns {@code dx} (or {@code null}) and adds the vector's gradient into {@code vectorGrad}. */
    DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest request);

    /** A new tensor with the token shift applied. */
    DeviceTensor shiftTokens(TokenShiftRequest request);
}
