package dev.attn4j.domain.adapters;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT's check_target_module_exists rules on x-transformers module paths. */
class TargetModulesTest {

    @Test
    void namesMatchExactlyOrAsTheLastComponents() {
        TargetModules t = TargetModules.names("to_q", "ff.2");
        assertTrue(t.matches("attn_layers.layers.0.1.to_q"));
        assertTrue(t.matches("to_q"));
        assertTrue(t.matches("attn_layers.layers.1.1.fn.ff.2"));
        assertFalse(t.matches("attn_layers.layers.0.1.to_qq"), "a suffix must start at a component");
        assertFalse(t.matches("attn_layers.layers.0.1.xto_q"));
        assertFalse(t.matches("attn_layers.layers.1.1.ff.2.x"));
        assertFalse(t.matches("attn_layers.layers.0.1.to_k"));
    }

    @Test
    void aStringIsARegularExpressionOverTheWholePath() {
        TargetModules t = TargetModules.regex(".*\\.(to_k|ff\\.0\\.0)");
        assertTrue(t.matches("attn_layers.layers.0.1.fn.to_k"));
        assertTrue(t.matches("attn_layers.layers.1.1.fn.ff.0.0"));
        assertFalse(t.matches("attn_layers.layers.0.1.fn.to_k.x"), "re.fullmatch, not re.search");
        assertFalse(TargetModules.regex("to_k").matches("attn_layers.layers.0.1.to_k"), "a bare name is a full match");
    }

    @Test
    void allLinearMatchesAnyLayerInAnyCase() {
        assertTrue(TargetModules.allLinear().matches("attn_layers.layers.3.1.ff.2"));
        assertTrue(new TargetModules(null, "ALL-LINEAR").isAllLinear());
    }

    @Test
    void excludeModulesWinOverTargets() {
        LoraConfig c = LoraConfig.of(4, 8, TargetModules.allLinear()).withExclude(TargetModules.names("to_out"));
        assertTrue(c.wraps("attn_layers.layers.0.1.to_q"));
        assertFalse(c.wraps("attn_layers.layers.0.1.to_out"));
        LoraConfig r = LoraConfig.of(4, 8, TargetModules.names("to_q")).withExclude(TargetModules.regex(".*layers\\.0\\..*"));
        assertFalse(r.wraps("attn_layers.layers.0.1.to_q"));
        assertTrue(r.wraps("attn_layers.layers.2.1.to_q"));
    }

    @Test
    void badFormsAreRefused() {
        assertThrows(InvalidRequestException.class, () -> TargetModules.regex("(unclosed"));
        assertThrows(InvalidRequestException.class, () -> TargetModules.names(new String[0]));
        assertThrows(InvalidRequestException.class, () -> new TargetModules(java.util.List.of("a"), "b"));
        assertThrows(InvalidRequestException.class, () -> TargetModules.names("to_q", " "));
    }
}
