package dev.attn4j.domain.masks;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** Every builder's result, with the causal flag it carries, passes the ports' request validation. */
class FlashMaskPortsTest {

    private static DeviceTensor tensor(Shape shape, DType dtype) {
        DeviceTensor t = mock(DeviceTensor.class);
        when(t.shape()).thenReturn(shape);
        when(t.dtype()).thenReturn(dtype);
        return t;
    }

    @Test
    void buildersProduceRequestsThePortsAccept() {
        int s = 12;
        int heads = 4;
        List<FlashMask> masks = List.of(
                FlashMasks.full(s, s), FlashMasks.causal(s, s), FlashMasks.slidingWindow(s, s, 3),
                FlashMasks.slidingWindow(s, s, 3, 2), FlashMasks.causalDocument(s, 5, 7), FlashMasks.document(s, 5, 6),
                FlashMasks.sharedQuestion(s, new int[] {4, 3, 3}), FlashMasks.globalSlidingWindow(s, 2, 3, 3),
                FlashMasks.causalBlockwise(s, 4, 4, 4), FlashMasks.prefixLm(s, 4),
                FlashMasks.prefixDocument(s, new int[] {6, 6}, new int[] {2, 3}),
                FlashMasks.qkSparse(s, new int[] {3}, new int[] {4}), FlashMasks.randomEviction(s, 4, 1),
                FlashMasks.packed(FlashMasks.cuSeqlens(5, 7), s, true),
                FlashMasks.packed(FlashMasks.cuSeqlens(5, 7), s, false));
        for (FlashMask mask : masks) {
            FlashMask batched = mask.repeatBatch(2);
            DeviceTensor q = tensor(Shape.of(2, s, heads, 8), DType.F32);
            DeviceTensor kv = tensor(Shape.of(2, s, 2, 8), DType.F32);
            DeviceTensor indices = tensor(batched.shape(), DType.I32);
            AttentionOptions options = AttentionOptions.builder().causal(batched.causal()).flashMask(indices).build();
            assertDoesNotThrow(() -> new AttentionRequest(q, kv, kv, options), mask.toString());
        }
        FlashMask padding = FlashMasks.keyPadding(3, 9, new int[] {9, 4}, false);
        DeviceTensor q = tensor(Shape.of(2, 3, heads, 8), DType.F32);
        DeviceTensor kv = tensor(Shape.of(2, 9, 1, 8), DType.F32);
        AttentionOptions options = AttentionOptions.builder().causal(padding.causal())
                .flashMask(tensor(padding.shape(), DType.I32)).build();
        assertDoesNotThrow(() -> new AttentionRequest(q, kv, kv, options));
    }
}
