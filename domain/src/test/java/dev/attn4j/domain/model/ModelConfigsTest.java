package dev.attn4j.domain.model;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigsTest {

    /** The JSON for the seed's Orca, copied from the x-transformers call. */
    private static final String ORCA_JSON = """
            {"num_tokens": 20000, "max_seq_len": 8192, "use_abs_pos_emb": false,
             "attn_layers": {"kind": "decoder", "dim": 512, "depth": 6, "heads": 8, "alibi_pos_bias": true,
                             "alibi_num_heads": 4, "rotary_xpos": true, "attn_flash": true, "deepnorm": true,
                             "shift_tokens": 1, "attn_one_kv_head": true}}""";

    @Test
    void orcaJsonIsTheOrcaPreset() {
        assertEquals(ModelConfigs.orca(), ModelConfigs.parse(ORCA_JSON));
    }

    @Test
    void orcaDerivedValuesFollowXTransformers() {
        LayersConfig l = ModelConfigs.orca().attnLayers();
        assertEquals(64, l.dimHead());
        assertEquals(1, l.kvHeads());
        assertEquals(32, l.rotaryDim(), "max(64 / 2, 32)");
        assertTrue(l.postNorm());
        assertFalse(l.finalNorm());
        assertTrue(l.learnedResidualScale());
        assertEquals(1.8612097182041991, l.residualAlpha(), 1e-15);
        assertEquals(0.37991784282579627, l.deepnormBeta(), 1e-15);
        assertEquals(2048, l.ffInner());
        assertFalse(ModelConfigs.orca().absolutePositions());
    }

    @ParameterizedTest
    @ValueSource(strings = {"orca", "gpt", "t5"})
    void presetsRoundTripThroughJson(String name) {
        ModelConfig config = ModelConfigs.load(name);
        assertEquals(config, ModelConfigs.parse(ModelConfigs.toJson(config)));
    }

    @Test
    void unknownOptionIsAnErrorNamingIt() {
        // x-transformers 1.20 silently builds a LayerNorm model from this typo
        var e = assertThrows(InvalidRequestException.class, () -> ModelConfigs.parse("""
                {"num_tokens": 10, "max_seq_len": 8, "attn_layers": {"kind": "decoder", "dim": 8, "depth": 1,
                 "use_rms_norm": true}}"""));
        assertEquals("use_rms_norm", e.argument());
    }

    @Test
    void unimplementedOptionIsAnErrorUnlessAtItsDefault() {
        var e = assertThrows(InvalidRequestException.class, () -> ModelConfigs.parse("""
                {"num_tokens": 10, "max_seq_len": 8, "attn_layers": {"kind": "decoder", "dim": 8, "depth": 1,
                 "attn_qk_norm": true}}"""));
        assertEquals("attn_qk_norm", e.argument());
        assertTrue(e.getMessage().contains("not implemented"), e.getMessage());
        ModelConfig ok = ModelConfigs.parse("""
                {"num_tokens": 10, "max_seq_len": 8, "attn_layers": {"kind": "decoder", "dim": 8, "depth": 1,
                 "attn_qk_norm": false, "ff_dropout": 0.0}}""");
        assertEquals(8, ok.dim());
    }

    @Test
    void inconsistentOptionsAreRejectedAsXTransformersRejectsThem() {
        assertThrows(InvalidRequestException.class, () -> ModelConfigs.parse("""
                {"num_tokens": 10, "max_seq_len": 8, "attn_layers": {"kind": "encoder", "dim": 8, "depth": 1,
                 "rotary_xpos": true}}"""));
        var e = assertThrows(InvalidRequestException.class, () -> ModelConfigs.parse("""
                {"num_tokens": 10, "max_seq_len": 8, "attn_layers": {"kind": "decoder", "dim": 8, "depth": 1,
                 "heads": 6, "attn_kv_heads": 4}}"""));
        assertEquals("attn_kv_heads", e.argument());
        assertThrows(InvalidRequestException.class, () -> ModelConfigs.parse("""
                {"num_tokens": 10, "max_seq_len": 8, "attn_layers": {"kind": "decoder", "dim": 8, "depth": 1,
                 "attn_dim_head": 16, "rotary_pos_emb": true}}"""), "rotary needs 32 features per head");
    }

    @Test
    void xTransformerCallParsesWithPrefixedOptions() {
        ModelConfig c = ModelConfigs.parse("""
                {"dim": 32, "tie_token_emb": false, "ignore_index": -100, "pad_value": 0, "enc_num_tokens": 59,
                 "enc_max_seq_len": 64, "enc_depth": 2, "enc_heads": 4, "enc_attn_dim_head": 8, "enc_rel_pos_bias": true,
                 "enc_use_rmsnorm": true, "enc_ff_glu": true, "enc_ff_mult": 2, "dec_num_tokens": 61,
                 "dec_max_seq_len": 64, "dec_depth": 2, "dec_heads": 4, "dec_attn_dim_head": 8, "dec_rel_pos_bias": true,
                 "dec_use_rmsnorm": true, "dec_ff_glu": true, "dec_ff_mult": 2}""");
        XTransformerConfig x = (XTransformerConfig) c;
        assertFalse(x.encoder().attnLayers().causal());
        assertTrue(x.decoder().attnLayers().causal());
        assertTrue(x.decoder().attnLayers().crossAttend());
        assertEquals(59, x.encoder().numTokens());
        assertEquals(61, x.decoder().numTokens());
        assertEquals(2.0, x.encoder().attnLayers().ffMult());
        var e = assertThrows(InvalidRequestException.class, () -> ModelConfigs.parse("{\"dim\": 32, \"depth\": 2}"));
        assertEquals("depth", e.argument(), "an unprefixed option x-transformers would drop");
    }

    @Test
    void unknownPresetOrMissingFileIsAClearError() {
        var e = assertThrows(InvalidRequestException.class, () -> ModelConfigs.load("orcas"));
        assertTrue(e.getMessage().contains("orca"), e.getMessage());
    }
}
