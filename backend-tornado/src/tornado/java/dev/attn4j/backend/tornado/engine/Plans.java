package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Execution plans built once per key and then reused. A TornadoVM task graph binds its arrays (and captures its
 * scalars) when it is built, so each plan owns its argument buffers and a call copies its tensors in and its
 * results out. Norm plans are keyed by shape; attention and rotary plans by buffer capacities ({@link
 * #capacity}), their sizes travelling in a {@code meta} array, so one compiled plan serves every call that fits.
 * An LRU bound keeps the number of compiled plans (and their device buffers) in check. Not thread-safe: the
 * engine serialises calls.
 */
final class Plans implements AutoCloseable {
    private static final int MAX_PLANS = 32;

    /** A built plan and the buffers it reads and writes, in the order its builder documents. */
    static final class Plan implements AutoCloseable {
        private final TornadoNativeArray[] buffers;
        private final TornadoExecutionPlan plan;
        private final WorkerGrid[] workers;

        private Plan(TornadoNativeArray[] buffers, TornadoExecutionPlan plan, WorkerGrid[] workers) {
            this.buffers = buffers;
            this.plan = plan;
            this.workers = workers;
        }

        /**
         * Runs a plan whose {@code KernelContext} tasks were named in {@link TaskGraphAndBuffers#gridTasks}: task
         * {@code t} runs {@code globals[t]} items in groups of {@code local}.
         */
        void run(int local, int... globals) {
            for (int t = 0; t < workers.length; t++) {
                workers[t].setGlobalWork(globals[t], 1, 1);
                workers[t].setLocalWork(local, 1, 1);
            }
            plan.execute();
        }

        /** All buffers of a plan built from {@link #buffers(int...)} (float buffers only). */
        FloatArray[] floats() {
            return (FloatArray[]) buffers;
        }

        /** Buffer {@code i} as floats. */
        FloatArray f(int i) {
            return (FloatArray) buffers[i];
        }

        /** Buffer {@code i} as ints. */
        IntArray ints(int i) {
            return (IntArray) buffers[i];
        }

        /** Buffer {@code i} as bytes. */
        ByteArray bytes(int i) {
            return (ByteArray) buffers[i];
        }

        void run() {
            plan.execute();
        }

        @Override
        public void close() {
            try {
                plan.freeDeviceMemory();
                plan.close();
            } catch (Exception e) {
                // Best effort while shutting down; the host buffers go with the plan.
            }
        }
    }

    private final TornadoDevice device;
    private final Map<Object, Plan> plans = new LinkedHashMap<>(16, 0.75f, true);
    private int counter;

    Plans(TornadoDevice device) {
        this.device = device;
    }

    /** The plan for {@code key} (a record naming the kernel, its shape and scalars), built on first use. */
    <K> Plan get(K key, Function<K, TaskGraphAndBuffers> builder) {
        Plan p = plans.get(key);
        if (p == null) {
            if (plans.size() >= MAX_PLANS) {
                var eldest = plans.entrySet().iterator().next();
                eldest.getValue().close();
                plans.remove(eldest.getKey());
            }
            TaskGraphAndBuffers built = builder.apply(key);
            TornadoExecutionPlan plan = new TornadoExecutionPlan(built.graph().snapshot()).withDevice(device);
            WorkerGrid[] workers = new WorkerGrid[built.gridTasks().size()];
            if (workers.length > 0) {
                GridScheduler grid = new GridScheduler();
                for (int t = 0; t < workers.length; t++) {
                    workers[t] = new WorkerGrid1D(1);
                    grid.addWorkerGrid(built.gridTasks().get(t), workers[t]);
                }
                plan.withGridScheduler(grid);
            }
            p = new Plan(built.buffers(), plan, workers);
            plans.put(key, p);
        }
        return p;
    }

    /** A unique task-graph name. */
    String graphName(String prefix) {
        return prefix + counter++;
    }

    /** The buffer size that holds {@code n} elements: the next power of two, so nearby shapes share a plan. */
    static int capacity(long n) {
        if (n > 1L << 30) {
            throw new IllegalArgumentException("tornado buffers hold at most 2^30 elements, need " + n);
        }
        return n <= 1 ? 1 : Integer.highestOneBit((int) (n - 1)) << 1;
    }

    /** A zero-filled int buffer. */
    static IntArray ints(int size) {
        IntArray a = new IntArray(Math.max(1, size));
        a.init(0);
        return a;
    }

    /** A zero-filled byte buffer. */
    static ByteArray bytes(int size) {
        ByteArray a = new ByteArray(Math.max(1, size));
        a.init((byte) 0);
        return a;
    }

    /** A zero-filled float buffer. */
    static FloatArray floats(int size) {
        FloatArray a = new FloatArray(Math.max(1, size));
        a.init(0.0f);
        return a;
    }

    /** Zero-filled float buffers of the given sizes. */
    static FloatArray[] buffers(int... sizes) {
        FloatArray[] b = new FloatArray[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            b[i] = floats(sizes[i]);
        }
        return b;
    }

    /** What a builder returns. */
    record TaskGraphAndBuffers(TaskGraph graph, TornadoNativeArray[] buffers, List<String> gridTasks) {
        /** A graph of {@code @Parallel} kernels, whose work size TornadoVM takes from their loop bounds. */
        TaskGraphAndBuffers(TaskGraph graph, TornadoNativeArray[] buffers) {
            this(graph, buffers, List.of());
        }
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::close);
        plans.clear();
    }
}
