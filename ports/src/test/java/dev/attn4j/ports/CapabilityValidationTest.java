package dev.attn4j.ports;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.fake.HeapEngine;
import dev.attn4j.ports.norm.NormFeature;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** docs/design.md §6: a call outside the backend's declaration names the backend and the missing capability. */
class CapabilityValidationTest extends FacadeTestBase {

    /** Options that need exactly {@code feature} (besides forward/backward), given the request's tensors. */
    private AttentionOptions optionsNeeding(AttentionFeature feature) {
        AttentionOptions.Builder b = AttentionOptions.builder();
        return switch (feature) {
            case CAUSAL -> b.causal(true).build();
            case SLIDING_WINDOW -> b.window(2, 0).build();
            case SOFTCAP -> b.softcap(30).build();
            case ALIBI -> b.alibiSlopes(f32(H)).build();
            case BIAS_TABLE -> b.biasTable(f32(H, SQ + SK - 1)).build();
            case DENSE_BIAS -> b.denseBias(f32(1, 1, SQ, SK)).build();
            case DENSE_MASK -> b.denseMask(zeros(DType.BOOL, 1, 1, SQ, SK)).build();
            case FLASH_MASK -> b.causal(true).flashMask(ints(new int[SK], B, 1, SK, 1)).build();
            case DROPOUT -> b.dropout(new Dropout(0.1, 7L, 0L)).build();
            default -> b.build();
        };
    }

    @ParameterizedTest
    @EnumSource(value = AttentionFeature.class, names = {"SLIDING_WINDOW", "SOFTCAP", "ALIBI",
            "BIAS_TABLE", "DENSE_BIAS", "DENSE_MASK", "FLASH_MASK", "DROPOUT"})
    void undeclaredForwardFeature(AttentionFeature feature) {
        useCapabilities(HeapEngine.without(feature));
        DeviceTensor q = q();
        DeviceTensor kv = kv();
        AttentionOptions options = optionsNeeding(feature);
        assertUnsupported(feature.name(), () -> backend.attention().forward(new AttentionRequest(q, kv, kv, options)));
        assertFalse(engine.transferCalls().contains("downloadInts"), "no mask is read for a call that cannot run");
    }

    @Test
    void undeclaredCausal() {
        useCapabilities(HeapEngine.without(AttentionFeature.CAUSAL));
        DeviceTensor q = q();
        DeviceTensor kv = kv();
        var e = assertUnsupported("CAUSAL", () -> backend.attention().forward(
                new AttentionRequest(q, kv, kv, AttentionOptions.builder().causal(true).build())));
        assertEquals("backend 'heap' does not support CAUSAL", e.getMessage());
    }

    @Test
    void undeclaredGroupedQueryAttention() {
        useCapabilities(HeapEngine.without(AttentionFeature.GQA));
        DeviceTensor q = q();
        DeviceTensor kv = kv(); // Hkv = 2 < H = 4
        assertUnsupported("GQA", () -> backend.attention().forward(new AttentionRequest(q, kv, kv, null)));
        // H == Hkv needs no GQA
        DeviceTensor mha = f32(B, SK, H, D);
        backend.attention().forward(new AttentionRequest(q, mha, mha, null)).close();
        assertEquals(List.of("attention.forward"), engine.kernelCalls());
    }

    @ParameterizedTest
    @EnumSource(value = AttentionFeature.class, names = {"BACKWARD", "DETERMINISTIC_BACKWARD", "BIAS_TABLE_GRAD"})
    void undeclaredBackwardFeature(AttentionFeature feature) {
        useCapabilities(HeapEngine.without(feature));
        DeviceTensor q = q();
        DeviceTensor kv = kv();
        DeviceTensor o = q();
        DeviceTensor lse = f32(B, H, SQ);
        AttentionOptions options = AttentionOptions.builder().biasTable(f32(H, SQ + SK - 1))
                .deterministic(feature == AttentionFeature.DETERMINISTIC_BACKWARD)
                .biasTableGrad(feature == AttentionFeature.BIAS_TABLE_GRAD).build();
        assertUnsupported(feature.name(), () -> backend.attention().backward(
                new AttentionBackwardRequest(q, q, kv, kv, o, lse, options)));
    }

    @Test
    void headDimOutsideTheDeclaredRange() {
        useCapabilities(HeapEngine.headDims(16, 128));
        DeviceTensor q = q();
        DeviceTensor kv = kv();
        assertUnsupported("head dim 8 (supported: 16..128)",
                () -> backend.attention().forward(new AttentionRequest(q, kv, kv, null)));
    }

    @Test
    void undeclaredComputeDtype() {
        HeapEngine narrowEngine = new HeapEngine("narrow", HeapEngine.f32Only());
        try (Backend narrow = Backend.of(narrowEngine)) {
            // an engine may make BF16 tensors of its own; the facade must still refuse to compute in BF16
            DeviceTensor q = narrowEngine.tensors().zeros(dev.attn4j.ports.tensor.Shape.of(B, SQ, H, D), DType.BF16);
            DeviceTensor kv = narrowEngine.tensors().zeros(dev.attn4j.ports.tensor.Shape.of(B, SK, HKV, D), DType.BF16);
            var e = org.junit.jupiter.api.Assertions.assertThrowsExactly(UnsupportedCapabilityException.class,
                    () -> narrow.attention().forward(new AttentionRequest(q, kv, kv, null)));
            assertEquals("narrow", e.backend());
            assertEquals("dtype BF16 (attention)", e.capability());
            assertEquals(List.of(), narrowEngine.kernelCalls());
        }
    }

    @ParameterizedTest
    @EnumSource(NormFeature.class)
    void undeclaredNormFeature(NormFeature feature) {
        useCapabilities(HeapEngine.without(feature));
        DeviceTensor x = f32(2, D);
        DeviceTensor gamma = f32(D);
        Function<DeviceTensor, NormRequest> make = switch (feature) {
            case LAYER_NORM -> in -> NormRequest.layerNorm(in, gamma, null, 1e-5);
            case RMS_NORM -> in -> NormRequest.rmsNorm(in, gamma, 1e-6);
            default -> in -> NormRequest.rmsNorm(in, gamma, 1e-6).withResidual(in, 2.0);
        };
        NormRequest request = make.apply(x);
        assertUnsupported(feature.name(), () -> backend.normalization().forward(request));
    }

    @Test
    void undeclaredRotary() {
        useCapabilities(HeapEngine.withoutRotary());
        DeviceTensor x = f32(B, SQ, H, D);
        DeviceTensor table = f32(SQ, D / 2);
        assertUnsupported("the rotary port", () -> backend.rotary().apply(
                new RotaryRequest(x, table, table, null, RotaryLayout.INTERLEAVED, false)));
    }

    @Test
    void requiredFeaturesListExactlyWhatIsUsed() {
        AttentionShape gqa = new AttentionShape(B, SQ, SK, H, HKV, D);
        AttentionShape mha = new AttentionShape(B, SQ, SK, H, H, D);
        assertEquals(Set.of(), AttentionCapabilities.required(mha, AttentionOptions.DEFAULT, false));
        assertEquals(Set.of(AttentionFeature.BACKWARD, AttentionFeature.GQA, AttentionFeature.CAUSAL),
                AttentionCapabilities.required(gqa, AttentionOptions.builder().causal(true).build(), true));
        // deterministic only matters backward
        assertEquals(Set.of(),
                AttentionCapabilities.required(mha, AttentionOptions.builder().deterministic(true).build(), false));
        assertEquals(Set.of(AttentionFeature.SLIDING_WINDOW),
                AttentionCapabilities.required(mha, AttentionOptions.builder().window(-1, 0).build(), false));
    }
}
