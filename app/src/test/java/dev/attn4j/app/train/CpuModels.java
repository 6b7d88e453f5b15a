package dev.attn4j.app.train;

import dev.attn4j.app.CliHarness;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.spi.BackendOptions;
import org.junit.jupiter.api.Assumptions;

import java.util.List;

/** The commands of this package run models: their tests need a cpu backend that declares every model port. */
final class CpuModels {
    private CpuModels() {
    }

    /** Skips the test (with the reason) while the cpu backend lacks a port a model needs. */
    static void assume() {
        try (Backend cpu = Backend.of(CliHarness.cpu().open(BackendOptions.none()))) {
            for (Class<? extends PortCapabilities> port : List.of(LinearCapabilities.class, LossCapabilities.class)) {
                Assumptions.assumeTrue(cpu.capabilities().port(port).isPresent(),
                        "the cpu backend does not declare " + port.getSimpleName() + " yet");
            }
        }
    }
}
