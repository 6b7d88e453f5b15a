package dev.attn4j.backend.tornado.engine;

import dev.attn4j.backend.tornado.heap.BlockAllocator;
import dev.attn4j.ports.DeviceException;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task5;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the engine's tensors live: two device buffers, a float heap (F32 tensors) and an int heap (I32 and
 * BOOL tensors), each tensor a {@link Block} of one of them, so data stays on the device from op to op and
 * crosses to the host only in {@link #write}/{@link #read} (the tensor port's upload and download).
 *
 * <p>Why one plan. TornadoVM 5.2 gives device buffers to Java arrays per task graph, and lets a graph take
 * over another graph's buffer only inside one execution plan ({@code consumeFromDevice}, from the graph run
 * just before it). So every kernel is its own graph ({@link Op}) in a single plan, each consuming both heaps
 * and persisting them for the next: the first graph ({@link Op#ALLOCATE}) makes TornadoVM allocate them, and
 * from then on the heaps' device buffers pass from graph to graph, never copied. A call's sizes, flags and
 * block offsets travel in the graph's small {@code meta}/{@code fmeta} arrays (transferred every run); host
 * data goes through fixed-size staging arrays, {@link #STAGE} elements a run.
 *
 * <p>The heaps have a fixed size once the plan is built. When a block does not fit, the heap doubles: a new plan
 * with larger heaps is built beside the old one, the live ranges are copied across chunk by chunk through the
 * staging arrays, at the same offsets (so tensors keep their blocks), and only then does the new plan replace
 * the old; its kernels are compiled again on first use. If growing fails, the old plan and every tensor stay as
 * they were. The host side of each heap (TornadoVM needs a Java array of the device buffer's size) is allocated
 * but never read. Not thread-safe: the engine serialises calls.
 *
 * <pre>{@code
 * try (DeviceHeap heap = new DeviceHeap(device, 1 << 20, 1 << 16)) {
 *     DeviceHeap.Block x = heap.allocateFloats(n);
 *     heap.write(x, data);
 *     IntArray meta = heap.meta(DeviceHeap.Op.ROTARY);   // fill with sizes and offsets (x.offset(), ...)
 *     heap.run(DeviceHeap.Op.ROTARY, 64, n);
 *     float[] back = heap.read(x, n);
 * }
 * }</pre>
 */
final class DeviceHeap implements AutoCloseable {
    /**
     * Elements staged per transfer between the host and a heap. TornadoVM transfers a staging array whole, so
     * a small tensor still moves 1 MiB per upload: cheap on POCL, and a handful of microseconds over PCIe.
     */
    static final int STAGE = 1 << 18;
    /** Blocks start at multiples of this many elements (64 bytes). */
    static final int ALIGNMENT = 16;
    /** Largest heap, in elements: block offsets are Java ints, as TornadoVM's array indices. */
    static final long MAX_ELEMENTS = 1L << 30;
    /** Size of every graph's {@code meta} array: the largest of the kernels' layouts. */
    static final int META = Math.max(Math.max(Math.max(AttentionKernels.META_SIZE, NormKernels.META_SIZE),
            Math.max(RotaryKernels.META_SIZE, HeapKernels.META_SIZE)),
            Math.max(GemmKernels.META_SIZE, ModelKernels.META_SIZE));
    /** Size of every graph's {@code fmeta} array. */
    static final int FMETA = Math.max(Math.max(AttentionKernels.FMETA_SIZE, NormKernels.FMETA_SIZE),
            Math.max(GemmKernels.FMETA_SIZE, ModelKernels.FMETA_SIZE));

    /** The graphs of the plan, in order: one kernel each. */
    enum Op {
        ALLOCATE, UPLOAD_FLOATS, DOWNLOAD_FLOATS, UPLOAD_INTS, DOWNLOAD_INTS, ZERO, ATTENTION_FORWARD,
        ATTENTION_DELTA, ATTENTION_DQ, ATTENTION_DKV, ATTENTION_DTABLE, NORM_FORWARD, NORM_INPUT, NORM_PARAMS,
        ROTARY, GEMM, GEMM_PACK, AXPBY, ACTIVATION, COLUMN_DOTS, ROW_DOTS, TOKEN_SHIFT, EMBED_FORWARD, EMBED_BACKWARD, CE_ROWS,
        CE_TOTAL, ADAMW, SUM_SQUARES, SUM_INTO, UNIFORM
    }

    /** A block of the float heap or (when {@code ints}) of the int heap: {@code length} elements at {@code offset}. */
    record Block(boolean ints, int offset, int length) {
    }

    /** OpenCL build options of the kernels: warnings off, and none of TornadoVM's default fast-math flags. */
    static final String STRICT_OPENCL_FLAGS = "-w";

    /** Numbers plans, so that every task graph TornadoVM sees has its own name. */
    private static final AtomicInteger PLAN_IDS = new AtomicInteger();

    private final TornadoDevice device;
    private final BlockAllocator floatBlocks;
    private final BlockAllocator intBlocks;
    private Plan plan;

    /** The execution plan with heaps of fixed sizes; replaced when a heap grows. */
    private static final class Plan implements AutoCloseable {
        final FloatArray floats;
        final IntArray ints;
        final FloatArray floatStage = zeros(STAGE);
        final IntArray intStage = zeroInts(STAGE);
        final IntArray[] meta = new IntArray[Op.values().length];
        final FloatArray[] fmeta = new FloatArray[Op.values().length];
        final WorkerGrid[] workers = new WorkerGrid[Op.values().length];
        final TornadoExecutionPlan execution;
        boolean allocated;

        Plan(TornadoDevice device, int floatCapacity, int intCapacity) {
            floats = zeros(floatCapacity);
            ints = zeroInts(intCapacity);
            String prefix = "heap" + PLAN_IDS.getAndIncrement() + "_";
            ImmutableTaskGraph[] graphs = new ImmutableTaskGraph[Op.values().length];
            GridScheduler grid = new GridScheduler();
            for (Op op : Op.values()) {
                int g = op.ordinal();
                meta[g] = zeroInts(META);
                fmeta[g] = zeros(FMETA);
                workers[g] = new WorkerGrid1D(1);
                String name = prefix + op.name().toLowerCase();
                graphs[g] = graph(name, op, meta[g], fmeta[g]).snapshot();
                grid.addWorkerGrid(name + ".k", workers[g]);
            }
            // TornadoVM builds OpenCL with -cl-fast-relaxed-math by default: finite-math-only (the kernels mask
            // with -inf) and free reassociation (one kernel's dot product would no longer round like another's,
            // and dP − D would not cancel where a row sees one key). IEEE arithmetic it is; its explicit fma()s stay.
            execution = new TornadoExecutionPlan(graphs).withDevice(device).withGridScheduler(grid)
                    .withCompilerFlags(TornadoVMBackendType.OPENCL, STRICT_OPENCL_FLAGS);
        }

        private TaskGraph graph(String name, Op op, IntArray m, FloatArray f) {
            TaskGraph g = new TaskGraph(name);
            if (op == Op.ALLOCATE) {
                // Nothing to consume yet: the heaps appear as this graph's (never transferred) outputs.
                return g.transferToDevice(DataTransferMode.EVERY_EXECUTION, m, f)
                        .task("k", HeapKernels::allocate, new KernelContext(), floats, ints, m, f)
                        .persistOnDevice(floats, ints);
            }
            g.transferToDevice(DataTransferMode.EVERY_EXECUTION, m, f);
            switch (op) {
                case UPLOAD_FLOATS -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, floatStage);
                case UPLOAD_INTS -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, intStage);
                default -> { }
            }
            g.consumeFromDevice(floats, ints);
            switch (op) {
                case UPLOAD_FLOATS -> g.task("k", HeapKernels::uploadFloats, new KernelContext(), floatStage, floats, ints, m);
                case DOWNLOAD_FLOATS -> g.task("k", HeapKernels::downloadFloats, new KernelContext(), floatStage, floats, ints, m);
                case UPLOAD_INTS -> g.task("k", HeapKernels::uploadInts, new KernelContext(), intStage, floats, ints, m);
                case DOWNLOAD_INTS -> g.task("k", HeapKernels::downloadInts, new KernelContext(), intStage, floats, ints, m);
                default -> g.task("k", kernel(op), new KernelContext(), floats, ints, m, f);
            }
            g.persistOnDevice(floats, ints);
            switch (op) {
                case DOWNLOAD_FLOATS -> g.transferToHost(DataTransferMode.EVERY_EXECUTION, floatStage);
                case DOWNLOAD_INTS -> g.transferToHost(DataTransferMode.EVERY_EXECUTION, intStage);
                default -> { }
            }
            return g;
        }

        private static Task5<KernelContext, FloatArray, IntArray, IntArray, FloatArray> kernel(Op op) {
            return switch (op) {
                case ZERO -> HeapKernels::zero;
                case ATTENTION_FORWARD -> AttentionKernels::forwardTiled;
                case ATTENTION_DELTA -> AttentionKernels::rowDot;
                case ATTENTION_DQ -> AttentionKernels::backwardQTiled;
                case ATTENTION_DKV -> AttentionKernels::backwardKVTiled;
                case ATTENTION_DTABLE -> AttentionKernels::tableGrad;
                case NORM_FORWARD -> NormKernels::forward;
                case NORM_INPUT -> NormKernels::backwardInput;
                case NORM_PARAMS -> NormKernels::backwardParams;
                case ROTARY -> RotaryKernels::rotary;
                case GEMM -> GemmKernels::gemm;
                case GEMM_PACK -> GemmKernels::pack;
                case AXPBY -> ModelKernels::axpby;
                case ACTIVATION -> ModelKernels::activation;
                case COLUMN_DOTS -> ModelKernels::columnDots;
                case ROW_DOTS -> ModelKernels::rowDots;
                case TOKEN_SHIFT -> ModelKernels::tokenShift;
                case EMBED_FORWARD -> ModelKernels::embedForward;
                case EMBED_BACKWARD -> ModelKernels::embedBackward;
                case CE_ROWS -> ModelKernels::ceRows;
                case CE_TOTAL -> ModelKernels::ceTotal;
                case ADAMW -> ModelKernels::adamw;
                case SUM_SQUARES -> ModelKernels::sumSquares;
                case SUM_INTO -> ModelKernels::sumInto;
                case UNIFORM -> ModelKernels::philoxUniform;
                default -> throw new IllegalArgumentException("not a heap kernel: " + op);
            };
        }

        void run(Op op, int local, int global) {
            if (!allocated && op != Op.ALLOCATE) {
                run(Op.ALLOCATE, 1, 1);
                allocated = true;
            }
            WorkerGrid w = workers[op.ordinal()];
            int groups = Math.max(1, (global + local - 1) / local);
            w.setGlobalWork((long) groups * local, 1, 1);
            w.setLocalWork(local, 1, 1);
            execution.withGraph(op.ordinal()).execute();
        }

        /** {@code n} 4-byte elements from {@code src} (at byte {@code from}) into the heap at {@code at}. */
        void upload(boolean toInts, int at, MemorySegment src, long from, int n) {
            Op op = toInts ? Op.UPLOAD_INTS : Op.UPLOAD_FLOATS;
            MemorySegment stage = toInts ? intStage.getSegment() : floatStage.getSegment();
            for (int done = 0; done < n; done += STAGE) {
                int m = Math.min(STAGE, n - done);
                MemorySegment.copy(src, from + (long) done * Float.BYTES, stage, 0, (long) m * Float.BYTES);
                place(op, at + done, m);
                run(op, 256, m);
            }
        }

        /** {@code n} 4-byte elements of the heap at {@code at} into {@code dst} (at byte {@code from}). */
        void download(boolean fromInts, int at, MemorySegment dst, long from, int n) {
            Op op = fromInts ? Op.DOWNLOAD_INTS : Op.DOWNLOAD_FLOATS;
            MemorySegment stage = fromInts ? intStage.getSegment() : floatStage.getSegment();
            for (int done = 0; done < n; done += STAGE) {
                int m = Math.min(STAGE, n - done);
                place(op, at + done, m);
                run(op, 256, m);
                MemorySegment.copy(stage, 0, dst, from + (long) done * Float.BYTES, (long) m * Float.BYTES);
            }
        }

        /**
         * Copies elements {@code [0, n)} of one heap into the same places of {@code target}'s, one stage at a time
         * (downloaded into this plan's staging array, uploaded from there).
         */
        void copyTo(Plan target, boolean ofInts, int n) {
            MemorySegment stage = ofInts ? intStage.getSegment() : floatStage.getSegment();
            for (int done = 0; done < n; done += STAGE) {
                int m = Math.min(STAGE, n - done);
                download(ofInts, done, stage, 0, m);
                target.upload(ofInts, done, stage, 0, m);
            }
        }

        private void place(Op op, int at, int count) {
            meta[op.ordinal()].set(HeapKernels.AT, at);
            meta[op.ordinal()].set(HeapKernels.COUNT, count);
        }

        @Override
        public void close() {
            try {
                execution.freeDeviceMemory();
                execution.close();
            } catch (Exception e) {
                // Best effort while shutting down or growing; the host arrays go with the plan.
            }
        }
    }

    /**
     * @param device        where the heaps live
     * @param floatCapacity initial float-heap size in elements (it grows on demand)
     * @param intCapacity   initial int-heap size in elements
     */
    DeviceHeap(TornadoDevice device, int floatCapacity, int intCapacity) {
        this.device = device;
        this.floatBlocks = new BlockAllocator(floatCapacity, ALIGNMENT);
        this.intBlocks = new BlockAllocator(intCapacity, ALIGNMENT);
        this.plan = new Plan(device, floatCapacity, intCapacity);
    }

    /** A new block of {@code n} floats (contents undefined until written). */
    Block allocateFloats(long n) {
        return allocate(false, n);
    }

    /** A new block of {@code n} ints (contents undefined until written). */
    Block allocateInts(long n) {
        return allocate(true, n);
    }

    private Block allocate(boolean ints, long n) {
        long size = Math.max(1, n);
        BlockAllocator blocks = ints ? intBlocks : floatBlocks;
        long at = blocks.allocate(size);
        if (at < 0) {
            grow(ints, size);
            at = blocks.allocate(size);
        }
        return new Block(ints, Math.toIntExact(at), (int) size);
    }

    /** Returns a block to its heap. */
    void free(Block block) {
        (block.ints() ? intBlocks : floatBlocks).free(block.offset());
    }

    /** Copies {@code data} into the start of {@code block}. */
    void write(Block block, float[] data) {
        requireKind(block, false);
        plan.upload(false, block.offset(), MemorySegment.ofArray(data), 0, data.length);
    }

    /** Copies {@code data} into the start of {@code block} (an int block). */
    void write(Block block, int[] data) {
        requireKind(block, true);
        plan.upload(true, block.offset(), MemorySegment.ofArray(data), 0, data.length);
    }

    /** The first {@code n} elements of a float block. */
    float[] read(Block block, int n) {
        requireKind(block, false);
        float[] out = new float[n];
        plan.download(false, block.offset(), MemorySegment.ofArray(out), 0, n);
        return out;
    }

    /** The first {@code n} elements of an int block. */
    int[] readInts(Block block, int n) {
        requireKind(block, true);
        int[] out = new int[n];
        plan.download(true, block.offset(), MemorySegment.ofArray(out), 0, n);
        return out;
    }

    /** Zeroes a block on the device. */
    void zero(Block block) {
        plan.place(Op.ZERO, block.offset(), block.length());
        plan.meta[Op.ZERO.ordinal()].set(HeapKernels.INTS, block.ints() ? 1 : 0);
        plan.run(Op.ZERO, 256, block.length());
    }

    /**
     * The {@code meta} array {@code op} reads on its next {@link #run}. Fetch it after allocating the call's
     * blocks: growing a heap replaces the plan and its arrays.
     */
    IntArray meta(Op op) {
        return plan.meta[op.ordinal()];
    }

    /** The {@code fmeta} array {@code op} reads on its next {@link #run}. */
    FloatArray fmeta(Op op) {
        return plan.fmeta[op.ordinal()];
    }

    /** Runs {@code op}'s kernel on {@code global} work items (rounded up to groups of {@code local}). */
    void run(Op op, int local, int global) {
        plan.run(op, local, global);
    }

    /** Elements of the float heap and of the int heap (for tests and diagnostics). */
    long[] capacities() {
        return new long[] {floatBlocks.capacity(), intBlocks.capacity()};
    }

    /** Elements in blocks of the float heap and of the int heap (for tests and diagnostics). */
    long[] used() {
        return new long[] {floatBlocks.used(), intBlocks.used()};
    }

    /**
     * Whether the host side of both heaps still holds only the zeros it was made with: the tensors' data has
     * never been copied through it (for tests).
     */
    boolean hostSideUntouched() {
        for (int i = 0; i < plan.floats.getSize(); i++) {
            if (plan.floats.get(i) != 0.0f) {
                return false;
            }
        }
        for (int i = 0; i < plan.ints.getSize(); i++) {
            if (plan.ints.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    private static void requireKind(Block block, boolean ints) {
        if (block.ints() != ints) {
            throw new IllegalArgumentException("expected a block of the " + (ints ? "int" : "float") + " heap");
        }
    }

    /**
     * Makes one heap large enough for a block of {@code need} more elements (doubling, capped at {@link
     * #MAX_ELEMENTS}), keeping every block's offset and contents. The new plan is filled before it replaces
     * the old one, so a failure leaves the heaps as they were.
     */
    private void grow(boolean ints, long need) {
        BlockAllocator blocks = ints ? intBlocks : floatBlocks;
        long required = blocks.end() + need + ALIGNMENT;
        if (required > MAX_ELEMENTS) {
            throw new DeviceException(TornadoEngine.NAME, "OUT_OF_MEMORY", "the tornado " + (ints ? "int" : "float")
                    + " heap would need " + required + " elements; it holds at most " + MAX_ELEMENTS);
        }
        long capacity = Math.max(ALIGNMENT, blocks.capacity());
        while (capacity < required) {
            capacity *= 2;
        }
        capacity = Math.min(capacity, MAX_ELEMENTS);
        long floatCapacity = ints ? floatBlocks.capacity() : capacity;
        long intCapacity = ints ? capacity : intBlocks.capacity();
        Plan grown = null;
        try {
            grown = new Plan(device, (int) floatCapacity, (int) intCapacity);
            plan.copyTo(grown, false, (int) floatBlocks.end());
            plan.copyTo(grown, true, (int) intBlocks.end());
        } catch (RuntimeException | OutOfMemoryError e) {
            if (grown != null) {
                grown.close();
            }
            DeviceException failure = new DeviceException(TornadoEngine.NAME, "OUT_OF_MEMORY", "could not grow the "
                    + "tornado " + (ints ? "int" : "float") + " heap to " + capacity + " elements: " + e);
            failure.initCause(e);
            throw failure;
        }
        blocks.grow(capacity);
        plan.close();
        plan = grown;
    }

    private static FloatArray zeros(int n) {
        FloatArray a = new FloatArray(Math.max(1, n));
        a.init(0.0f);
        return a;
    }

    private static IntArray zeroInts(int n) {
        IntArray a = new IntArray(Math.max(1, n));
        a.init(0);
        return a;
    }

    @Override
    public void close() {
        plan.close();
    }
}
