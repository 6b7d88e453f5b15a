package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;

/** FlashAttention-2 style tiled attention on the CPU (work in progress). */
final class TiledCpuAttention implements AttentionPort {
    TiledCpuAttention(CpuEngine engine, WorkerPool pool) {
    }

    @Override
    public AttentionResult forward(AttentionRequest request) {
        throw new UnsupportedOperationException("in progress");
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest request) {
        throw new UnsupportedOperationException("in progress");
    }
}
