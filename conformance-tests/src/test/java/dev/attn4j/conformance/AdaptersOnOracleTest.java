package dev.attn4j.conformance;

import dev.attn4j.conformance.models.AdapterBehaviour;
import dev.attn4j.conformance.models.AdapterParityTest;
import dev.attn4j.ports.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

/**
 * The PEFT adapter fixtures on the float64 oracle engine: the adapters' wiring (keys, head order, slices, scaling,
 * gradients, LoRA+ groups, merging, the file format) apart from any backend's kernels.
 */
class AdaptersOnOracleTest {

    private static Backend oracle() {
        return Backend.of(new OracleEngine("oracle", OracleEngine.everything(), OracleEngine::honest));
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora_gpt_small", "rslora_orca_small", "vera_gpt_small", "vera_gpt_small_noproj"})
    void forwardGradientsAndOneStepMatchPeftsFormulas(String fixture) {
        try (Backend b = oracle()) {
            AdapterParityTest.parity(b, fixture);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora_gpt_small", "rslora_orca_small", "vera_gpt_small"})
    void mergedLogitsEqualAdapterLogits(String fixture) {
        try (Backend b = oracle()) {
            AdapterParityTest.mergedLogitsEqualAdapterLogits(b, fixture);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora_gpt_small", "rslora_orca_small", "vera_gpt_small", "vera_gpt_small_noproj"})
    void aSavedAdapterHoldsTheFixturesTensors(String fixture, @TempDir Path dir) throws Exception {
        try (Backend b = oracle()) {
            AdapterParityTest.savedDirectoryEqualsTheFixture(b, fixture, dir.resolve("saved"));
        }
    }

    @Test
    void veraProjectionsComeFromTheKey() {
        try (Backend b = oracle()) {
            AdapterBehaviour.veraProjectionsComeFromTheKey(b);
        }
    }

    @Test
    void pissaMatchesTorchsSvd() {
        AdapterBehaviour.pissaMatchesTorchsSvd();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 4})
    void pissaStartsAtTheBaseAndConvertsToLora(int niter, @TempDir Path dir) {
        try (Backend b = oracle()) {
            AdapterBehaviour.pissaStartsAtTheBaseAndConvertsToLora(b, dir, niter);
        }
    }

    @Test
    void switchingAdapters() {
        try (Backend b = oracle()) {
            AdapterBehaviour.switchingAdapters(b);
        }
    }

    @Test
    void dropoutIsThePhiloxMaskInForwardAndBackward() {
        try (Backend b = oracle()) {
            AdapterBehaviour.dropoutIsThePhiloxMaskInForwardAndBackward(b);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora_gpt_small", "rslora_orca_small", "vera_gpt_small", "vera_gpt_small_noproj"})
    void hostMergeEqualsDeviceMerge(String fixture) {
        try (Backend b = oracle()) {
            AdapterBehaviour.hostMergeEqualsDeviceMerge(b, fixture);
        }
    }
}
