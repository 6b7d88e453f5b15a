package dev.attn4j.domain.adapters;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** adapter_config.json in PEFT's field names: defaults, round trips, ignored and refused fields. */
class AdapterConfigsTest {

    @Test
    void loraWithPeftsDefaultsAndUnknownFieldsIgnored() {
        AdapterConfig c = AdapterConfigs.parse("""
                {"peft_type": "LORA", "target_modules": ["q_proj", "v_proj"], "task_type": "CAUSAL_LM",
                 "fan_in_fan_out": true, "megatron_core": "megatron.core", "some_new_field": {"x": [1, 2]},
                 "loftq_config": {}, "use_dora": false, "rank_pattern": {}, "modules_to_save": null}""");
        LoraConfig l = assertInstanceOf(LoraConfig.class, c);
        assertEquals(8, l.r());
        assertEquals(8.0, l.loraAlpha());
        assertEquals(1.0, l.scaling());
        assertEquals(LoraInit.DEFAULT, l.init());
        assertEquals(0.0, l.loraDropout());
        assertEquals(List.of("q_proj", "v_proj"), l.targetModules().names());
        assertFalse(l.useRslora());
    }

    @Test
    void rsloraScalesByTheRootOfTheRank() {
        LoraConfig l = (LoraConfig) AdapterConfigs.parse("""
                {"peft_type": "LORA", "r": 16, "lora_alpha": 32, "use_rslora": true, "target_modules": "all-linear"}""");
        assertEquals(32 / 4.0, l.scaling(), 1e-12);
        assertTrue(l.targetModules().isAllLinear());
    }

    @Test
    void writtenConfigurationsReadBackEqual() {
        LoraConfig l = LoraConfig.of(8, 16, TargetModules.regex(".*\\.to_(q|v)")).withRslora(true).withDropout(0.05)
                .withInit(LoraInit.pissaNiter(4)).withBaseModel("orca").withExclude(TargetModules.names("to_out"));
        assertEquals(l, AdapterConfigs.parse(AdapterConfigs.toJson(l)));
        VeraConfig v = VeraConfig.of(256, TargetModules.names("to_q")).withProjectionKey(-7).withSaveProjection(false)
                .withDropout(0.1);
        assertEquals(v, AdapterConfigs.parse(AdapterConfigs.toJson(v)));
        String json = AdapterConfigs.toJson(l);
        assertTrue(json.contains("\"init_lora_weights\" : \"pissa_niter_4\""), json);
        assertTrue(json.contains("\"peft_version\" : \"" + AdapterConfigs.PEFT_FORMAT_VERSION + "\""), json);
        assertTrue(AdapterConfigs.toJson(LoraConfig.of(8, 16, TargetModules.names("to_q"))).contains("\"lora_alpha\" : 16,"));
    }

    @Test
    void veraWithPeftsDefaults() {
        VeraConfig v = (VeraConfig) AdapterConfigs.parse("{\"peft_type\": \"VERA\", \"target_modules\": [\"to_q\"]}");
        assertEquals(256, v.r());
        assertEquals(0L, v.projectionPrngKey());
        assertTrue(v.saveProjection());
        assertEquals(0.1, v.dInitial());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"use_dora\": true}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"layers_to_transform\": 3}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"layers_to_transform\": [0, 1]}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"rank_pattern\": {\"q\": 4}}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"modules_to_save\": [\"lm_head\"]}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"bias\": \"all\"}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"init_lora_weights\": \"olora\"}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"lora_dropout\": 1.0}",
            "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"r\": 0}",
            "{\"peft_type\": \"LORA\"}",
            "{\"peft_type\": \"IA3\", \"target_modules\": [\"q\"]}",
            "{\"target_modules\": [\"q\"]}",
            "[1, 2]",
            "{not json"})
    void whatAttn4jWouldSilentlyGetWrongIsRefused(String json) {
        assertThrows(InvalidRequestException.class, () -> AdapterConfigs.parse(json));
    }

    @Test
    void initLoraWeightsSpellings() {
        assertEquals(LoraInit.DEFAULT, LoraInit.parse(true));
        assertEquals(LoraInit.RANDOM, LoraInit.parse(false));
        assertEquals(LoraInit.GAUSSIAN, LoraInit.parse("gaussian"));
        assertEquals(LoraInit.PISSA, LoraInit.parse("pissa"));
        assertEquals(16, LoraInit.parse("pissa_niter_16").niter());
        assertThrows(InvalidRequestException.class, () -> LoraInit.parse("pissa_niter_"));
        assertThrows(InvalidRequestException.class, () -> LoraInit.parse("pissa_niter_0"));
        assertThrows(InvalidRequestException.class, () -> LoraInit.parse("corda"));
    }
}
