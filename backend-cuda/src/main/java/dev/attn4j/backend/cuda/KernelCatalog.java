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
    /** Copies, casts and row broadcasts. */
    static final String TENSOR = "tensor";
    /** Activations and GLUs. */
    static final String ACTIVATION = "activation";
    /** Element-wise ops, token shift and column sums. */
    static final String ELEMENTWISE = "elementwise";
    /** Embedding gather, the key sort and the scatter-add backward. */
    static final String EMBEDDING = "embedding";
    /** The cross-entropy's softmax rows and total. */
    static final String LOSS = "loss";
    /** AdamW and sums of squares. */
    static final String OPTIM = "optim";
    /** Philox uniform fills. */
    static final String RANDOM = "random";
    /** Element sizes the copy kernel is instantiated for (bytes). */
    static final int[] COPY_SIZES = {1, 2, 4};
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
        return List.of(ATTENTION, NORM, ATTENTION_TC, ROTARY, TENSOR, ACTIVATION, ELEMENTWISE, EMBEDDING, LOSS, OPTIM,
                RANDOM);
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
            case TENSOR -> {
                for (int size : COPY_SIZES) {
                    names.add(copyRows(size));
                }
                for (DType from : DTYPES) {
                    for (DType to : DTYPES) {
                        if (from != to) {
                            names.add(cast(from, to));
                        }
                    }
                    names.add(broadcastRows(from, from));
                    if (from != DType.F32) {
                        names.add(broadcastRows(from, DType.F32));
                    }
                }
            }
            case ACTIVATION -> {
                for (DType t : DTYPES) {
                    names.addAll(List.of(activationForward(t), activationBackward(t), gluForward(t), gluBackward(t)));
                }
            }
            case ELEMENTWISE -> {
                for (DType t : DTYPES) {
                    names.addAll(List.of(add(t), axpy(t), scale(t), broadcastMultiply(t), rowDot(t), columnPartials(t),
                            columnTotals(t), tokenShift(t)));
                }
            }
            case EMBEDDING -> {
                for (DType t : DTYPES) {
                    names.add(embeddingForward(t));
                    names.add(embeddingBackward(t));
                }
                names.addAll(List.of(EMBEDDING_KEYS, SORT_BLOCK, SORT_STEP, SORT_MERGE));
            }
            case LOSS -> {
                for (DType t : DTYPES) {
                    names.add(crossEntropyRows(t));
                }
                names.add(CROSS_ENTROPY_TOTAL);
            }
            case OPTIM -> {
                names.add(ADAMW);
                for (DType t : DTYPES) {
                    names.add(sumOfSquaresPartials(t));
                }
                names.add(SUM_OF_SQUARES_FINAL);
            }
            case RANDOM -> {
                for (DType t : DTYPES) {
                    names.add(uniform(t));
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

    /** The copy kernel moving elements of {@code bytes} bytes. */
    static String copyRows(int bytes) {
        return switch (bytes) {
            case 1 -> "copy_rows_u8";
            case 2 -> "copy_rows_u16";
            case 4 -> "copy_rows_u32";
            default -> throw new IllegalArgumentException("no copy kernel for " + bytes + "-byte elements");
        };
    }

    static String cast(DType from, DType to) {
        return "cast_" + tag(from) + "_" + tag(to);
    }

    /** Rows of {@code to} filled with a vector of {@code from}. */
    static String broadcastRows(DType from, DType to) {
        return "broadcast_rows_" + tag(from) + "_" + tag(to);
    }

    static String activationForward(DType t) {
        return "act_fwd_" + tag(t);
    }

    static String activationBackward(DType t) {
        return "act_bwd_" + tag(t);
    }

    static String gluForward(DType t) {
        return "glu_fwd_" + tag(t);
    }

    static String gluBackward(DType t) {
        return "glu_bwd_" + tag(t);
    }

    static String add(DType t) {
        return "ew_add_" + tag(t);
    }

    static String axpy(DType t) {
        return "ew_axpy_" + tag(t);
    }

    static String scale(DType t) {
        return "ew_scale_" + tag(t);
    }

    static String broadcastMultiply(DType t) {
        return "ew_bmul_" + tag(t);
    }

    static String rowDot(DType t) {
        return "ew_row_dot_" + tag(t);
    }

    /** Column sums of a {@code t} matrix over row chunks, into fp32 partials. */
    static String columnPartials(DType t) {
        return "colsum_partials_" + tag(t);
    }

    /** The partials' chunks added, in order, into a {@code t} accumulator. */
    static String columnTotals(DType t) {
        return "colsum_totals_" + tag(t);
    }

    static String tokenShift(DType t) {
        return "token_shift_" + tag(t);
    }

    static String embeddingForward(DType t) {
        return "emb_fwd_" + tag(t);
    }

    static String embeddingBackward(DType t) {
        return "emb_bwd_" + tag(t);
    }

    /** The embedding backward's sort keys, id << 32 | token. */
    static final String EMBEDDING_KEYS = "emb_keys";
    /** Bitonic sort of each shared-memory segment. */
    static final String SORT_BLOCK = "emb_sort_block";
    /** One global stride of a bitonic merge. */
    static final String SORT_STEP = "emb_sort_step";
    /** The shared-memory strides of a bitonic merge. */
    static final String SORT_MERGE = "emb_sort_merge";

    static String crossEntropyRows(DType t) {
        return "ce_rows_" + tag(t);
    }

    /** The cross-entropy's loss sum and count. */
    static final String CROSS_ENTROPY_TOTAL = "ce_total";
    /** The fused AdamW step (F32). */
    static final String ADAMW = "adamw";
    /** The sum of squares' block sums into the accumulator. */
    static final String SUM_OF_SQUARES_FINAL = "sumsq_final";

    static String sumOfSquaresPartials(DType t) {
        return "sumsq_partials_" + tag(t);
    }

    static String uniform(DType t) {
        return "uniform_" + tag(t);
    }
}
