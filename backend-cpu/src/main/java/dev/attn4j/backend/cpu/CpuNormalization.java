package dev.attn4j.backend.cpu;

import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;

/** LayerNorm / RMSNorm on the CPU (work in progress). */
final class CpuNormalization implements NormalizationPort {
    CpuNormalization(CpuEngine engine, WorkerPool pool) {
    }

    @Override
    public NormResult forward(NormRequest request) {
        throw new UnsupportedOperationException("in progress");
    }

    @Override
    public NormGradients backward(NormBackwardRequest request) {
        throw new UnsupportedOperationException("in progress");
    }
}
