package dev.attn4j.ports.spi;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;

class BackendOptionsTest {

    @Test
    void noneIsEmpty() {
        assertEquals(Map.of(), BackendOptions.none().values());
        assertEquals(Optional.empty(), BackendOptions.none().get("threads"));
    }

    @Test
    void valuesAreCopiedAndImmutable() {
        Map<String, String> source = new HashMap<>(Map.of("threads", "2"));
        BackendOptions options = BackendOptions.of(source);
        source.put("threads", "8");
        assertEquals(Optional.of("2"), options.get("threads"));
        assertThrows(UnsupportedOperationException.class, () -> options.values().put("device", "1"));
    }

    @Test
    void getIntParsesTrimsAndFallsBack() {
        BackendOptions options = BackendOptions.of(Map.of("threads", " 4 ", "device", "1"));
        assertEquals(4, options.getInt("threads", 1));
        assertEquals(1, options.getInt("device", 0));
        assertEquals(7, options.getInt("missing", 7));
    }

    @Test
    void getIntNamesTheKeyOfABadValue() {
        BackendOptions options = BackendOptions.of(Map.of("threads", "many"));
        var e = assertThrowsExactly(IllegalArgumentException.class, () -> options.getInt("threads", 1));
        assertEquals("backend option 'threads': expected an integer, got 'many'", e.getMessage());
        assertInstanceOf(NumberFormatException.class, e.getCause());
    }

    @Test
    void withOverridesAndKeepsTheRest() {
        BackendOptions base = BackendOptions.of(Map.of("threads", "2", "device", "0"));
        BackendOptions merged = base.with(BackendOptions.of(Map.of("device", "1", "tile", "64")));
        assertEquals(Map.of("threads", "2", "device", "1", "tile", "64"), merged.values());
        assertEquals(Map.of("threads", "2", "device", "0"), base.values(), "the original is unchanged");
    }

    @Test
    void propertiesAreReadForOneBackendOnly() {
        Properties p = new Properties();
        p.setProperty("attn4j.opencl.device", "1");
        p.setProperty("attn4j.opencl.platform", "NVIDIA");
        p.setProperty("attn4j.cpu.threads", "2");
        p.setProperty("attn4j.backend", "opencl");
        p.setProperty("attn4j.openclx.device", "9");
        assertEquals(Map.of("device", "1", "platform", "NVIDIA"), BackendOptions.fromProperties("opencl", p).values());
        assertEquals(Map.of("threads", "2"), BackendOptions.fromProperties("cpu", p).values());
        assertEquals(Map.of(), BackendOptions.fromProperties("cuda", p).values());
    }

    @Test
    void systemPropertiesAreRead() {
        System.setProperty("attn4j.optionstest.threads", "5");
        try {
            assertEquals(5, BackendOptions.fromSystemProperties("optionstest").getInt("threads", 1));
        } finally {
            System.clearProperty("attn4j.optionstest.threads");
        }
    }
}
