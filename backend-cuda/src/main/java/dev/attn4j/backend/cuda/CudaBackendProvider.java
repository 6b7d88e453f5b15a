package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;

/**
 * Provider of the {@code cuda} backend: CUDA C kernels, compiled to PTX by {@code nvcc} when the jar was
 * built, JIT-compiled by the driver and run through JCuda's driver API. Available where a CUDA driver
 * (R580 or newer: the PTX is ISA 9.0 for {@code compute_80}), a device and the built kernels are present.
 *
 * <p>Declares fp32, fp16 and bf16 storage for every port: attention forward and backward (causal, GQA/MQA,
 * deterministic backward) for head dims 1..256; LayerNorm and RMSNorm with the fused residual form; rotary;
 * activations and GLUs, element-wise ops, embedding, AdamW and sums of squares, Philox uniform fills, tensor
 * views, copies, casts and fills; and, where cuBLAS loads ({@code libcublas.so.12}), linear layers, matrix
 * products and the fused chunked cross-entropy. Options ({@code -Dattn4j.cuda.<key>=...}): {@code device}, the
 * device ordinal (default 0); {@code tensorCores} ({@code true|false}, default false), the WMMA forward for
 * fp16/bf16 with head dims up to 128: opt-in until it has been measured on a GPU (it has been checked only in the
 * host emulation); {@code lossChunkRows}, rows per chunk of the fused cross-entropy (default 0: as many as keep
 * a chunk's fp32 logits within {@link CudaLoss#CHUNK_ELEMENTS} elements).
 *
 * <p>Nothing here touches JCuda until {@link #probe()} or {@link #open} runs: its native library needs
 * {@code libcuda.so.1}, and a machine without it gets a reason, not a crash.
 *
 * <pre>{@code
 * System.out.println(new CudaBackendProvider().probe().reason());
 * try (Backend cuda = Backends.open("cuda")) { ... }
 * }</pre>
 */
public final class CudaBackendProvider implements BackendProvider {
    /** The backend's name (a constant here, so that asking for it loads no JCuda class). */
    static final String NAME = "cuda";
    /** The probe's reason where the driver library cannot be loaded. */
    static final String NO_DRIVER = "no CUDA driver (libcuda.so.1 not found)";
    /** The probe's reason where the jar holds no PTX. */
    static final String NO_KERNELS = "CUDA kernels were not built (nvcc absent at build time)";

    /** A native library that failed to load cannot be retried in this JVM: remember why. */
    private static volatile Availability linkFailure;

    /** The provider {@link java.util.ServiceLoader} makes; it loads nothing until probed or opened. */
    public CudaBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY_CUDA;
    }

    @Override
    public Availability probe() {
        Availability failed = linkFailure;
        if (failed != null) {
            return failed;
        }
        try {
            return Driver.probe();
        } catch (LinkageError e) {
            failed = Availability.unavailable(linkReason(e));
            linkFailure = failed;
            return failed;
        } catch (RuntimeException e) {
            return Availability.unavailable("CUDA probe failed: " + e.getMessage());
        }
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        Availability failed = linkFailure;
        if (failed != null) {
            throw new Attn4jException("backend 'cuda' cannot open: " + failed.reason());
        }
        int ordinal = options.getInt("device", 0);
        boolean tensorCores = options.get("tensorCores").map(v -> parseFlag("tensorCores", v)).orElse(false);
        int lossChunkRows = options.getInt("lossChunkRows", 0);
        if (lossChunkRows < 0) {
            throw new IllegalArgumentException("backend option 'lossChunkRows': expected 0 (automatic) or a row count, got "
                    + lossChunkRows);
        }
        try {
            return new CudaEngine(CudaGpu.open(ordinal), tensorCores, lossChunkRows);
        } catch (LinkageError e) {
            linkFailure = Availability.unavailable(linkReason(e));
            throw new Attn4jException("backend 'cuda' cannot open: " + linkFailure.reason(), e);
        }
    }

    private static boolean parseFlag(String key, String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("backend option '" + key + "': expected true or false, got '"
                    + value + "'");
        };
    }

    /** The reason for a failed native load: the missing driver when the loader says so, else the error itself. */
    static String linkReason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("libcuda")) {
                return NO_DRIVER;
            }
        }
        return "the JCuda driver library could not be loaded: " + e;
    }
}
