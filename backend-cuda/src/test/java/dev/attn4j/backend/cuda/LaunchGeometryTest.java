package dev.attn4j.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launch geometry the Java side uses must be the one the kernels were written for: a block-size or
 * rows-per-block mismatch would leave rows uncomputed (or computed twice) without any CUDA error. Read
 * from the CUDA sources themselves (surefire runs in the module folder).
 */
class LaunchGeometryTest {
    private static final Path CUDA = Path.of("src", "main", "cuda");

    private static int constant(String file, String name) throws IOException {
        String source = Files.readString(CUDA.resolve(file));
        Matcher m = Pattern.compile("constexpr int " + name + " = (\\d+);").matcher(source);
        assertTrue(m.find(), file + " defines no constexpr int " + name);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void attentionBlockShapeMatchesTheKernels() throws IOException {
        assertEquals(constant("attention.cu", "THREADS"), CudaAttention.THREADS);
        assertEquals(constant("attention.cu", "ELEMS"), CudaAttention.ELEMS);
        // Tiling::ROWS = THREADS / (DMAX / ELEMS): every row of a block is covered, none twice
        for (int bucket : KernelCatalog.HEAD_DIM_BUCKETS) {
            int threadsPerRow = bucket / CudaAttention.ELEMS;
            assertEquals(0, 32 % threadsPerRow, "threads per row must tile a warp for bucket " + bucket);
            assertEquals(CudaAttention.THREADS, CudaAttention.rowsPerBlock(bucket) * threadsPerRow);
        }
    }

    @Test
    void tensorCoreBlockShapeMatchesTheKernel() throws IOException {
        int warps = constant("attention_tc.cu", "TC_WARPS");
        assertEquals(CudaAttention.THREADS, warps * 32, "the tensor-core forward launches THREADS threads too");
        assertEquals(CudaAttention.TENSOR_CORE_ROWS, warps * 16, "16 query rows per warp");
        for (int bucket : KernelCatalog.TENSOR_CORE_BUCKETS) {
            assertEquals(0, bucket % 16, "WMMA tiles are 16 wide");
            assertTrue(bucket <= KernelCatalog.maxHeadDim());
        }
        assertEquals(64, KernelCatalog.tensorCoreBucket(1));
        assertEquals(128, KernelCatalog.tensorCoreBucket(65));
        assertEquals(-1, KernelCatalog.tensorCoreBucket(129));
    }

    @Test
    void normBlockShapesMatchTheKernels() throws IOException {
        assertEquals(constant("norm.cu", "NORM_THREADS"), CudaNormalization.ROW_THREADS);
        assertEquals(constant("norm.cu", "COLUMN_THREADS"), CudaNormalization.COLUMN_THREADS);
        assertEquals(0, CudaNormalization.ROW_THREADS % 32, "blockSum needs whole warps");
    }

    @Test
    void headDimsRunInTheSmallestBucketThatHoldsThem() {
        assertEquals(32, KernelCatalog.headDimBucket(1));
        assertEquals(32, KernelCatalog.headDimBucket(32));
        assertEquals(64, KernelCatalog.headDimBucket(33));
        assertEquals(128, KernelCatalog.headDimBucket(128));
        assertEquals(256, KernelCatalog.headDimBucket(129));
        assertEquals(256, KernelCatalog.headDimBucket(256));
        assertThrows(IllegalArgumentException.class, () -> KernelCatalog.headDimBucket(257));
        assertEquals(KernelCatalog.maxHeadDim(), CudaEngine.capabilities(true).port(dev.attn4j.ports.attention.AttentionCapabilities.class).orElseThrow().maxHeadDim());
    }
}
