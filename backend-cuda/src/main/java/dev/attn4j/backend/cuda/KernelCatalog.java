package dev.attn4j.backend.cuda;

import dev.attn4j.ports.tensor.DType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The PTX modules built from {@code src/main/cuda} and the kernel names each must export. Pure Java (no
 * JCuda), so the probe and the tests can ask whether the kernels were built without touching a driver.
 *
 * <p>Names follow the CUDA sources' macros: {@code attn_fwd_<dtype>_d<bucket>} and friends, where the
 * bucket is the head dimension rounded up to 32, 64, 128 or 256; {@code norm_fwd_<input>_<gamma>}.
 */
final class KernelCatalog {

    /** Where the build writes the PTX, as a class-path resource folder. */
    static final String RESOURCE_DIR = "/dev/attn4j/backend/cuda/kernels/";
    /** The attention module. */
    static final String ATTENTION = "attention";
    /** The normalisation module. */
    static final String NORM = "norm";
    /** The tensor-core attention module (opt-in: backend option {@code tensorCores=true}). */
    static final String ATTENTION_TC = "attention_tc";
    /** The rotary module. */
    static final String ROTARY = "rotary";
    /** Head dimensions the tensor-core forward is instantiated for. */
    static final int[] TENSOR_CORE_BUCKETS = {64, 128};
    /** Storage types the tensor-core forward is instantiated for. */
    static final List<DType> TENSOR_CORE_DTYPES = List.of(DType.F16, DType.BF16);
    /** Head dimensions the attention kernels are instantiated for; a real D runs in the first bucket >= D. */
    static final int[] HEAD_DIM_BUCKETS = {32, 64, 128, 256};
    /** Storage types the kernels are instantiated for. */
    static final List<DType> DTYPES = List.of(DType.F32, DType.F16, DType.BF16);

    private KernelCatalog() {
    }

    /** The modules, in load order. */
    static List<String> modules() {
        return List.of(ATTENTION, NORM, ATTENTION_TC, ROTARY);
    }

    /** Every kernel {@code module} must export. */
    static List<String> entries(String module) {
        List<String> names = new ArrayList<>();
        switch (module) {
            case ATTENTION -> {
                for (DType t : DTYPES) {
                    names.add(attentionDelta(t));
                    names.add(attentionBackwardTable(t));
                    for (int bucket : HEAD_DIM_BUCKETS) {
                        names.add(attentionForward(t, bucket));
                        names.add(attentionBackwardQuery(t, bucket));
                        names.add(attentionBackwardKeyValue(t, bucket));
                    }
                }
            }
            case NORM -> {
                for (DType t : DTYPES) {
                    names.add(normForward(t, DType.F32));
                    names.add(normBackward(t, DType.F32));
                    if (t != DType.F32) {
                        names.add(normForward(t, t));
                        names.add(normBackward(t, t));
                    }
                    names.add(normParamPartials(t));
                    names.add(normParamTotals(t));
                }
            }
            case ATTENTION_TC -> {
                for (DType t : TENSOR_CORE_DTYPES) {
                    for (int bucket : TENSOR_CORE_BUCKETS) {
                        names.add(tensorCoreForward(t, bucket));
                        names.add(tensorCoreSharedBytes(t, bucket));
                    }
                }
            }
            case ROTARY -> {
                for (DType t : DTYPES) {
                    names.add(rotary(t));
                }
            }
            default -> throw new IllegalArgumentException("unknown kernel module " + module);
        }
        return names;
    }

    /** The PTX text of {@code module}, if the build produced it. */
    static Optional<String> ptx(String module) {
        try (InputStream in = KernelCatalog.class.getResourceAsStream(RESOURCE_DIR + module + ".ptx")) {
            return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("reading PTX module " + module, e);
        }
    }

    /** Whether every module's PTX is present. */
    static boolean built() {
        return modules().stream().allMatch(m -> KernelCatalog.class.getResource(RESOURCE_DIR + m + ".ptx") != null);
    }

    /** The smallest bucket that holds {@code headDim}. */
    static int headDimBucket(int headDim) {
        for (int bucket : HEAD_DIM_BUCKETS) {
            if (headDim <= bucket) {
                return bucket;
            }
        }
        throw new IllegalArgumentException("head dim " + headDim + " exceeds " + maxHeadDim());
    }

    static int maxHeadDim() {
        return HEAD_DIM_BUCKETS[HEAD_DIM_BUCKETS.length - 1];
    }

    static String tag(DType dtype) {
        return switch (dtype) {
            case F32 -> "f32";
            case F16 -> "f16";
            case BF16 -> "bf16";
            default -> throw new IllegalArgumentException("no kernels for dtype " + dtype);
        };
    }

    static String attentionForward(DType t, int bucket) {
        return "attn_fwd_" + tag(t) + "_d" + bucket;
    }

    /** The smallest tensor-core bucket that holds {@code headDim}, or -1 when none does. */
    static int tensorCoreBucket(int headDim) {
        for (int bucket : TENSOR_CORE_BUCKETS) {
            if (headDim <= bucket) {
                return bucket;
            }
        }
        return -1;
    }

    static String tensorCoreForward(DType t, int bucket) {
        return "attn_fwd_tc_" + tag(t) + "_d" + bucket;
    }

    /** A one-thread kernel writing the tensor-core forward's dynamic shared-memory size to its argument. */
    static String tensorCoreSharedBytes(DType t, int bucket) {
        return tensorCoreForward(t, bucket) + "_smem";
    }

    static String attentionBackwardQuery(DType t, int bucket) {
        return "attn_bwd_dq_" + tag(t) + "_d" + bucket;
    }

    static String attentionBackwardKeyValue(DType t, int bucket) {
        return "attn_bwd_dkdv_" + tag(t) + "_d" + bucket;
    }

    static String attentionBackwardTable(DType t) {
        return "attn_bwd_dtable_" + tag(t);
    }

    static String rotary(DType t) {
        return "rotary_" + tag(t);
    }

    static String attentionDelta(DType t) {
        return "attn_bwd_delta_" + tag(t);
    }

    static String normForward(DType input, DType gamma) {
        return "norm_fwd_" + tag(input) + "_" + tag(gamma);
    }

    static String normBackward(DType input, DType gamma) {
        return "norm_bwd_" + tag(input) + "_" + tag(gamma);
    }

    static String normParamPartials(DType input) {
        return "norm_param_partials_" + tag(input);
    }

    static String normParamTotals(DType gamma) {
        return "norm_param_totals_" + tag(gamma);
    }
}
