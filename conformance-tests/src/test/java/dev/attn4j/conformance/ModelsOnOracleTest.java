package dev.attn4j.conformance;

import dev.attn4j.conformance.models.ModelParityTest;
import dev.attn4j.ports.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The domain's models on the float64 oracle engine against the x-transformers fixtures: this separates the
 * models' wiring (names, head order, masks, residuals, losses) from any backend's kernels.
 */
class ModelsOnOracleTest {

    private static Backend oracle() {
        return Backend.of(new OracleEngine("oracle", OracleEngine.everything(), OracleEngine::honest));
    }

    @ParameterizedTest
    @ValueSource(strings = {"orca_small", "orca_small_mask", "gpt_small", "gpt2_small"})
    void decoders(String fixture) {
        try (Backend b = oracle()) {
            ModelParityTest.decoderParity(b, fixture);
        }
    }

    @Test
    void encoderDecoder() {
        try (Backend b = oracle()) {
            ModelParityTest.encoderDecoderParity(b);
        }
    }
}
