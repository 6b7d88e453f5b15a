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
 * from the CUDA sources themselves.
 */
class LaunchGeometryTest {
    /** The CUDA sources: from the module folder (surefire), or from the repository root (tools/gpu-check.sh run). */
    private static final Path CUDA = Files.isDirectory(Path.of("src", "main", "cuda")) ? Path.of("src", "main", "cuda")
            : Path.of("backend-cuda", "src", "main", "cuda");

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
    void modelPortBlockShapesMatchTheKernels() throws IOException {
        assertEquals(constant("tensor.cu", "TENSOR_THREADS"), CudaTensors.THREADS);
        assertEquals(constant("activation.cu", "ACT_THREADS"), CudaActivation.THREADS);
        assertEquals(constant("elementwise.cu", "EW_THREADS"), CudaElementwise.THREADS);
        assertEquals(constant("elementwise.cu", "EW_ROW_THREADS"), CudaElementwise.ROW_THREADS);
        assertEquals(constant("elementwise.cu", "EW_COLUMN_THREADS"), ColumnSums.THREADS);
        assertEquals(constant("embedding.cu", "EMB_THREADS"), CudaEmbedding.THREADS);
        assertEquals(constant("embedding.cu", "EMB_COLUMN_THREADS"), CudaEmbedding.COLUMN_THREADS);
        assertEquals(constant("embedding.cu", "SORT_SEGMENT"), CudaEmbedding.SORT_SEGMENT);
        assertEquals(constant("embedding.cu", "SORT_THREADS"), CudaEmbedding.SORT_THREADS);
        assertEquals(CudaEmbedding.SORT_SEGMENT, 2 * CudaEmbedding.SORT_THREADS, "one compare-exchange per thread and stride");
        assertEquals(constant("loss.cu", "CE_THREADS"), CudaLoss.THREADS);
        assertEquals(constant("optim.cu", "OPT_THREADS"), CudaOptimizer.THREADS);
        assertEquals(constant("optim.cu", "SUMSQ_BLOCKS"), CudaOptimizer.SUMSQ_BLOCKS);
        assertEquals(constant("random.cu", "RANDOM_THREADS"), CudaRandom.THREADS);
        // blockSum needs whole warps; blockSumDouble's tree a power of two
        for (int threads : new int[] {CudaElementwise.ROW_THREADS, CudaLoss.THREADS, CudaOptimizer.THREADS}) {
            assertEquals(0, threads % 32);
            assertEquals(1, Integer.bitCount(threads), threads + " threads: a power of two");
        }
    }

    @Test
    void theSortCoversEveryPowerOfTwoWithOneStridePerMergeStep() {
        assertEquals(1, CudaEmbedding.sortSize(1));
        assertEquals(2, CudaEmbedding.sortSize(2));
        assertEquals(4, CudaEmbedding.sortSize(3));
        assertEquals(4096, CudaEmbedding.sortSize(3000));
        assertEquals(1 << 30, CudaEmbedding.sortSize(1 << 30));
        for (long n : new long[] {1, 512, 1024, 2048, 1 << 16}) {
            var launches = CudaEmbedding.sortLaunches(n);
            // shared segments do strides below SORT_SEGMENT; the global kernel does each stride k/2 .. SORT_SEGMENT once
            long globalSteps = launches.stream().filter(l -> l.kernel().equals(KernelCatalog.SORT_STEP)).count();
            long expected = 0;
            for (long k = 2L * CudaEmbedding.SORT_SEGMENT; k <= n; k *= 2) {
                expected += Long.numberOfTrailingZeros(k) - Long.numberOfTrailingZeros(CudaEmbedding.SORT_SEGMENT);
            }
            assertEquals(expected, globalSteps, "n = " + n);
            assertEquals(KernelCatalog.SORT_BLOCK, launches.getFirst().kernel());
        }
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
