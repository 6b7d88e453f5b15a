package dev.attn4j.backend.cuda;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the launcher passes against what the PTX declares, parameter by parameter: a pointer or a Long is
 * a {@code .u64}, an Integer a {@code .u32}, a Float an {@code .f32}. A mismatch would corrupt every
 * argument after it on the device, which no driver reports; this catches it without a GPU.
 */
class KernelArgumentsTest {
    private static final AttentionShape SHAPE = new AttentionShape(2, 37, 53, 4, 2, 40);

    private static List<String> declared(String module, String kernel) {
        String ptx = KernelCatalog.ptx(module).orElse(null);
        assumeTrue(ptx != null, "PTX not built (nvcc absent at build time)");
        Matcher m = Pattern.compile("\\.entry\\s+" + kernel + "\\s*\\(([^)]*)\\)").matcher(ptx);
        assertEquals(true, m.find(), module + ".ptx has no .entry " + kernel);
        List<String> types = new ArrayList<>();
        Matcher p = Pattern.compile("\\.param\\s+\\.(\\w+)").matcher(m.group(1));
        while (p.find()) {
            types.add(p.group(1));
        }
        return types;
    }

    private static List<String> passed(Object[] args) {
        List<String> types = new ArrayList<>();
        for (Object a : args) {
            types.add(switch (a) {
                case DevicePointer p -> "u64";
                case Long l -> "u64";
                case Integer i -> "u32";
                case Float f -> "f32";
                default -> "unexpected " + a.getClass();
            });
        }
        return types;
    }

    private static List<Object> pointers(int count) {
        return new ArrayList<>(Collections.nCopies(count, DevicePointer.NULL));
    }

    @Test
    void attentionKernelsGetTheArgumentsTheirPtxDeclares() {
        AttentionOptions options = AttentionOptions.DEFAULT;
        for (DType t : KernelCatalog.DTYPES) {
            for (int bucket : KernelCatalog.HEAD_DIM_BUCKETS) {
                assertEquals(declared("attention", KernelCatalog.attentionForward(t, bucket)),
                        passed(CudaAttention.args(pointers(5), SHAPE, options)));
                assertEquals(declared("attention", KernelCatalog.attentionBackwardQuery(t, bucket)),
                        passed(CudaAttention.args(pointers(7), SHAPE, options)));
                assertEquals(declared("attention", KernelCatalog.attentionBackwardKeyValue(t, bucket)),
                        passed(CudaAttention.args(pointers(8), SHAPE, options)));
            }
            assertEquals(declared("attention", KernelCatalog.attentionBackwardTable(t)),
                    passed(CudaAttention.tableArgs(pointers(7), SHAPE, options)));
        }
    }

    @Test
    void rotaryKernelsGetTheArgumentsTheirPtxDeclares() {
        DevicePointer p = DevicePointer.NULL;
        Object[] args = CudaRotary.arguments(p, p, p, p, 5, 3, 10, 3, true, false, p, 150L);
        for (DType t : KernelCatalog.DTYPES) {
            assertEquals(declared("rotary", KernelCatalog.rotary(t)), passed(args));
        }
    }
}
