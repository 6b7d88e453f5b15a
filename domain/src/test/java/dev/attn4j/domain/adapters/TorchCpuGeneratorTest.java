package dev.attn4j.domain.adapters;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** torch.Generator().manual_seed(k) and Tensor.uniform_, bit for bit (values printed by torch 1.13). */
class TorchCpuGeneratorTest {

    @Test
    void uniformDrawsAreTorchs() {
        float[] a = new float[6];
        new TorchCpuGenerator(1234).uniform(a, -0.5, 0.75);
        // torch.empty(6).uniform_(-0.5, 0.75, generator=torch.Generator().manual_seed(1234))
        assertArrayEquals(new float[] {(float) -0x1.dae814p-2, (float) 0x1.370f8p-9, (float) -0x1.66cc84p-3,
                (float) -0x1.5597b8p-5, (float) -0x1.b56004p-2, (float) 0x1.80d344p-2}, a);
    }

    @Test
    void aNegativeSeedKeepsItsLow32Bits() {
        float[] a = new float[3];
        new TorchCpuGenerator(-3).uniform(a, -1, 1);
        assertArrayEquals(new float[] {(float) 0x1.ff723p-3, (float) 0x1.ef87p-7, (float) -0x1.eff22cp-1}, a);
    }
}
