package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import static dev.attn4j.backend.tornado.engine.RotaryKernels.*;

/** Rotary / xPos on TornadoVM (see {@link RotaryKernels}); plans keyed by buffer capacities, as attention's. */
final class TornadoRotary implements RotaryPort {
    private static final int X = 0, COS = 1, SIN = 2, SCALE = 3, Y = 4, META = 5;

    private final TornadoEngine engine;
    private final TornadoTensors tensors;
    private final Plans plans;

    /** Which plan: the capacities of x (and y) and of the tables. */
    private record Key(int elements, int table) {
    }

    TornadoRotary(TornadoEngine engine, TornadoTensors tensors, Plans plans) {
        this.engine = engine;
        this.tensors = tensors;
        this.plans = plans;
    }

    @Override
    public DeviceTensor apply(RotaryRequest r) {
        Shape shape = r.x().shape();
        long count = shape.elementCount();
        long table = r.cos().shape().elementCount();
        synchronized (engine) {
            Plans.Plan p = plans.get(new Key(Plans.capacity(count), Plans.capacity(table)), this::graph);
            Arrays.copy(f(r.x()), p.f(X));
            Arrays.copy(f(r.cos()), p.f(COS));
            Arrays.copy(f(r.sin()), p.f(SIN));
            if (r.scale() != null) {
                Arrays.copy(f(r.scale()), p.f(SCALE));
            }
            IntArray meta = p.ints(META);
            meta.set(COUNT, (int) count);
            meta.set(SEQ, shape.dim(1));
            meta.set(HEADS, shape.dim(2));
            meta.set(DIM, shape.dim(3));
            meta.set(PAIRS, r.rotaryDim() / 2);
            meta.set(SPLIT_HALF, r.layout() == RotaryLayout.SPLIT_HALF ? 1 : 0);
            meta.set(INVERSE, r.inverse() ? 1 : 0);
            meta.set(HAS_SCALE, r.scale() != null ? 1 : 0);
            p.run();
            return tensors.wrap(Arrays.copyOf(p.f(Y), (int) count), shape);
        }
    }

    private Plans.TaskGraphAndBuffers graph(Key key) {
        FloatArray x = Plans.floats(key.elements());
        FloatArray cos = Plans.floats(key.table());
        FloatArray sin = Plans.floats(key.table());
        FloatArray scale = Plans.floats(key.table());
        FloatArray y = Plans.floats(key.elements());
        IntArray meta = Plans.ints(META_SIZE);
        TaskGraph g = new TaskGraph(plans.graphName("rotary"))
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, x, cos, sin, scale, meta)
                .task("rotary", RotaryKernels::rotary, x, cos, sin, scale, y, meta, key.elements())
                .transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        return new Plans.TaskGraphAndBuffers(g, new TornadoNativeArray[] {x, cos, sin, scale, y, meta});
    }

    private static FloatArray f(DeviceTensor t) {
        return ((TornadoTensor) t).storage(FloatArray.class);
    }
}
