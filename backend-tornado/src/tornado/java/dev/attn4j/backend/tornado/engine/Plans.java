package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Execution plans built once per kernel variant and shape and then reused. A TornadoVM task graph binds its
 * arrays (and captures its scalars) when it is built, so each plan owns its argument buffers and a call copies
 * its tensors in and its results out. An LRU bound keeps the number of compiled plans (and their device
 * buffers) in check. Not thread-safe: the engine serialises calls.
 */
final class Plans implements AutoCloseable {
    private static final int MAX_PLANS = 32;

    /** A built plan and the buffers it reads and writes, in the order its builder documents. */
    static final class Plan implements AutoCloseable {
        final FloatArray[] buffers;
        private final TornadoExecutionPlan plan;

        private Plan(FloatArray[] buffers, TornadoExecutionPlan plan) {
            this.buffers = buffers;
            this.plan = plan;
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
            p = new Plan(built.buffers(), new TornadoExecutionPlan(built.graph().snapshot()).withDevice(device));
            plans.put(key, p);
        }
        return p;
    }

    /** A unique task-graph name. */
    String graphName(String prefix) {
        return prefix + counter++;
    }

    /** Zero-filled buffers of the given sizes. */
    static FloatArray[] buffers(int... sizes) {
        FloatArray[] b = new FloatArray[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            b[i] = new FloatArray(Math.max(1, sizes[i]));
            b[i].init(0.0f);
        }
        return b;
    }

    /** What a builder returns. */
    record TaskGraphAndBuffers(TaskGraph graph, FloatArray[] buffers) {
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::close);
        plans.clear();
    }
}
