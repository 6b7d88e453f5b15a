package dev.attn4j.ports;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DeviceTensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A forward result runs its own backward: the same tensors and options, so the two cannot disagree. */
class ForwardBackwardPairTest extends FacadeTestBase {

    private AttentionOptions maskedOptions() {
        // causal FlashMask (n = 1): column j is masked from row LTS[j] down
        int[] lts = new int[B * H * SK];
        java.util.Arrays.fill(lts, SQ);
        lts[2] = 1;
        DeviceTensor mask = ints(lts, B, H, SK, 1);
        return AttentionOptions.builder().causal(true).flashMask(mask).scale(0.5).softcap(20)
                .dropout(new Dropout(0.1, 7, 3)).build();
    }

    @Test
    void backwardUsesTheForwardsTensorsAndOptions() {
        DeviceTensor q = q(), k = kv(), v = kv(), dO = q();
        AttentionOptions options = maskedOptions();
        try (AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, options));
             AttentionGradients g = fwd.backward(dO)) {
            assertNotNull(g.dq());
            AttentionBackwardRequest seen = engine.lastBackward();
            assertSame(options, seen.options(), "the forward's options, FlashMask included");
            assertSame(options.flashMask(), seen.options().flashMask());
            assertSame(q, seen.q());
            assertSame(k, seen.k());
            assertSame(v, seen.v());
            assertSame(fwd.o(), seen.o());
            assertSame(fwd.lse(), seen.lse());
            assertSame(dO, seen.dO());
            assertEquals(List.of("attention.forward", "attention.backward"), engine.kernelCalls());
        }
    }

    @Test
    void backwardOnlyOptionsCanBeSetWithoutTouchingTheRest() {
        DeviceTensor q = q(), k = kv(), v = kv(), dO = q();
        DeviceTensor table = f32(H, SQ + SK - 1);
        AttentionOptions options = AttentionOptions.builder().causal(true).biasTable(table).build();
        try (AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, options));
             AttentionGradients g = fwd.backward(dO, true, true)) {
            assertNotNull(g.dBiasTable());
            AttentionOptions seen = engine.lastBackward().options();
            assertTrue(seen.deterministic());
            assertTrue(seen.biasTableGrad());
            assertEquals(options.toBuilder().deterministic(true).biasTableGrad(true).build(), seen);
        }
    }

    @Test
    void closingTheResultClosesItsOutputsOnlyNeverTheRequestsTensors() {
        DeviceTensor q = q(), k = kv(), v = kv();
        AttentionOptions options = maskedOptions();
        AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, options));
        fwd.close();
        assertTrue(fwd.o().isClosed());
        assertTrue(fwd.lse().isClosed());
        for (DeviceTensor t : List.of(q, k, v, options.flashMask())) {
            assertFalse(t.isClosed(), t.toString());
        }
    }

    @Test
    void aClosedInputIsNamedByTheBackward() {
        DeviceTensor q = q(), k = kv(), v = kv(), dO = q();
        AttentionOptions options = maskedOptions();
        try (AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, options))) {
            options.flashMask().close();
            var e = assertThrowsExactly(InvalidRequestException.class, () -> fwd.backward(dO));
            assertEquals("flashMask: expected an open tensor, got a closed tensor", e.getMessage());
            assertEquals(List.of("attention.forward"), engine.kernelCalls(), "no backward kernel ran");
        }
    }

    @Test
    void aClosedResultCannotRunItsBackward() {
        DeviceTensor q = q(), k = kv(), v = kv(), dO = q();
        AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, null));
        fwd.close();
        var e = assertThrowsExactly(InvalidRequestException.class, () -> fwd.backward(dO));
        assertEquals("o: expected an open tensor, got a closed tensor", e.getMessage());
        assertEquals(List.of("attention.forward"), engine.kernelCalls(), "no backward kernel ran");
    }

    @Test
    void anEngineMadeResultSaysHowToGetItsBackward() {
        DeviceTensor q = q(), k = kv(), v = kv(), dO = q();
        try (AttentionResult raw = engine.attention().forward(new AttentionRequest(q, k, v, null))) {
            assertTrue(raw.request().isEmpty());
            Attn4jException e = assertThrowsExactly(Attn4jException.class, () -> raw.backward(dO));
            assertTrue(e.getMessage().contains("run the forward through a Backend"), e.getMessage());
        }
    }

    @Test
    void theResultKnowsItsRequest() {
        DeviceTensor q = q(), k = kv(), v = kv();
        AttentionRequest request = new AttentionRequest(q, k, v, null);
        try (AttentionResult fwd = backend.attention().forward(request)) {
            assertSame(request, fwd.request().orElseThrow());
        }
    }
}
