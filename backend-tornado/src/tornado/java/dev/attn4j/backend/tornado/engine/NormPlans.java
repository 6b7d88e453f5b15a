package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Execution plans for the norm kernels, built once per variant and shape and reused: a TornadoVM task graph
 * binds its arrays when it is built, so each plan owns its argument buffers and a call copies its tensors in
 * and its results out. A small LRU bound keeps the number of compiled plans (and their device buffers) in check.
 */
final class NormPlans implements AutoCloseable {
    private static final int MAX_PLANS = 16;

    /** Which plan: kernel flags, shape and the scalars a task graph captures when built. */
    record Key(boolean backward, int flags, int rows, int c, float alpha, float eps) {
    }

    /** A built plan and the buffers it reads and writes. */
    static final class Plan implements AutoCloseable {
        final FloatArray[] buffers;
        final TornadoExecutionPlan plan;

        Plan(FloatArray[] buffers, TornadoExecutionPlan plan) {
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
                // Freeing is best effort when the engine shuts down; the arrays go with the plan.
            }
        }
    }

    private final TornadoDevice device;
    private final Map<Key, Plan> plans = new LinkedHashMap<>(16, 0.75f, true);
    private int counter;

    NormPlans(TornadoDevice device) {
        this.device = device;
    }

    /**
     * The forward plan; buffers: 0 x, 1 res, 2 gamma, 3 beta, 4 y, 5 mean, 6 rstd, 7 sum.
     */
    Plan forward(Key key) {
        return plans.computeIfAbsent(key, k -> {
            evict();
            int n = k.rows() * k.c();
            boolean res = (k.flags() & NormKernels.RESIDUAL) != 0;
            FloatArray[] b = {new FloatArray(n), new FloatArray(res ? n : 1), new FloatArray(k.c()),
                    new FloatArray(k.c()), new FloatArray(n), new FloatArray(k.rows()), new FloatArray(k.rows()),
                    new FloatArray(res ? n : 1)};
            for (FloatArray a : b) {
                a.init(0.0f);
            }
            TaskGraph g = new TaskGraph("normf" + counter++)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, b[0], b[1], b[2], b[3])
                    .task("forward", NormKernels::forward, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                            k.alpha(), k.eps(), k.rows(), k.c(), k.flags())
                    .transferToHost(DataTransferMode.EVERY_EXECUTION, b[4], b[5], b[6], b[7]);
            return build(g, b);
        });
    }

    /**
     * The backward plan; buffers: 0 h, 1 dy, 2 gamma, 3 mean, 4 rstd, 5 dSum, 6 dh, 7 dRes, 8 dGamma, 9 dBeta.
     */
    Plan backward(Key key) {
        return plans.computeIfAbsent(key, k -> {
            evict();
            int n = k.rows() * k.c();
            boolean res = (k.flags() & NormKernels.RESIDUAL) != 0;
            FloatArray[] b = {new FloatArray(n), new FloatArray(n), new FloatArray(k.c()), new FloatArray(k.rows()),
                    new FloatArray(k.rows()), new FloatArray(res ? n : 1), new FloatArray(n),
                    new FloatArray(res ? n : 1), new FloatArray(k.c()), new FloatArray(k.c())};
            for (FloatArray a : b) {
                a.init(0.0f);
            }
            TaskGraph g = new TaskGraph("normb" + counter++)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, b[0], b[1], b[2], b[3], b[4], b[5])
                    .task("input", NormKernels::backwardInput, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                            k.alpha(), k.rows(), k.c(), k.flags())
                    .task("params", NormKernels::backwardParams, b[0], b[1], b[3], b[4], b[8], b[9], k.rows(), k.c(),
                            k.flags())
                    .transferToHost(DataTransferMode.EVERY_EXECUTION, b[6], b[7], b[8], b[9]);
            return build(g, b);
        });
    }

    private Plan build(TaskGraph graph, FloatArray[] buffers) {
        ImmutableTaskGraph snapshot = graph.snapshot();
        TornadoExecutionPlan plan = new TornadoExecutionPlan(snapshot).withDevice(device);
        return new Plan(buffers, plan);
    }

    private void evict() {
        if (plans.size() >= MAX_PLANS) {
            var eldest = plans.entrySet().iterator().next();
            eldest.getValue().close();
            plans.remove(eldest.getKey());
        }
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::close);
        plans.clear();
    }
}
