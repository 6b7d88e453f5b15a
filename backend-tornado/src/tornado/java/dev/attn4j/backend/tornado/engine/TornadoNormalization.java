package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** LayerNorm and RMSNorm, plain or with a fused residual, on TornadoVM (see {@link NormKernels}). */
final class TornadoNormalization implements NormalizationPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;
    private final Plans plans;

    /** Which plan: direction, kernel flags, shape and the scalars a task graph captures when built. */
    private record Key(boolean backward, int flags, int rows, int c, float alpha, float eps) {
    }

    TornadoNormalization(TornadoEngine engine, TornadoTensors tensors, Plans plans) {
        this.engine = engine;
        this.tensors = tensors;
        this.plans = plans;
    }

    @Override
    public NormResult forward(NormRequest r) {
        int c = r.input().shape().dim(-1);
        int rows = Math.toIntExact(r.rows());
        int flags = flags(r);
        synchronized (engine) {
            Plans.Plan p = plans.get(new Key(false, flags, rows, c, (float) r.residualScale(), (float) r.eps()),
                    this::forwardGraph);
            FloatArray[] b = p.floats();
            Arrays.copy(f(r.input()), b[0]);
            if (r.residual() != null) {
                Arrays.copy(f(r.residual()), b[1]);
            }
            Arrays.copy(f(r.gamma()), b[2]);
            if (r.beta() != null) {
                Arrays.copy(f(r.beta()), b[3]);
            }
            p.run();
            Shape stats = r.statsShape();
            DeviceTensor y = tensors.wrap(Arrays.copyOf(b[4]), r.input().shape());
            DeviceTensor mean = r.kind() == NormKind.LAYER_NORM ? tensors.wrap(Arrays.copyOf(b[5]), stats) : null;
            DeviceTensor rstd = tensors.wrap(Arrays.copyOf(b[6]), stats);
            DeviceTensor sum = r.residual() != null ? tensors.wrap(Arrays.copyOf(b[7]), r.input().shape()) : null;
            return new NormResult(y, mean, rstd, sum);
        }
    }

    @Override
    public NormGradients backward(NormBackwardRequest r) {
        NormRequest fwd = r.forward();
        int c = fwd.input().shape().dim(-1);
        int rows = Math.toIntExact(fwd.rows());
        int flags = flags(fwd) & ~NormKernels.RESIDUAL;
        if (fwd.residual() != null) {
            flags |= NormKernels.RESIDUAL;
        }
        synchronized (engine) {
            Plans.Plan p = plans.get(new Key(true, flags, rows, c, (float) fwd.residualScale(), 0f),
                    this::backwardGraph);
            FloatArray[] b = p.floats();
            Arrays.copy(f(r.normalizedInput()), b[0]);
            Arrays.copy(f(r.dy()), b[1]);
            Arrays.copy(f(fwd.gamma()), b[2]);
            if (fwd.kind() == NormKind.LAYER_NORM) {
                Arrays.copy(f(r.saved().mean()), b[3]);
            }
            Arrays.copy(f(r.saved().rstd()), b[4]);
            if (fwd.residual() != null) {
                if (r.dSum() != null) {
                    Arrays.copy(f(r.dSum()), b[5]);
                } else {
                    b[5].init(0.0f);
                }
            }
            p.run();
            Shape shape = fwd.input().shape();
            DeviceTensor dInput = tensors.wrap(Arrays.copyOf(b[6]), shape);
            DeviceTensor dRes = fwd.residual() != null ? tensors.wrap(Arrays.copyOf(b[7]), shape) : null;
            DeviceTensor dGamma = tensors.wrap(Arrays.copyOf(b[8]), fwd.gamma().shape());
            DeviceTensor dBeta = fwd.beta() != null ? tensors.wrap(Arrays.copyOf(b[9]), fwd.beta().shape()) : null;
            return new NormGradients(dInput, dRes, dGamma, dBeta);
        }
    }

    /** Buffers: 0 x, 1 res, 2 gamma, 3 beta, 4 y, 5 mean, 6 rstd, 7 sum. */
    private Plans.TaskGraphAndBuffers forwardGraph(Key k) {
        int n = k.rows() * k.c();
        boolean res = (k.flags() & NormKernels.RESIDUAL) != 0;
        FloatArray[] b = Plans.buffers(n, res ? n : 1, k.c(), k.c(), n, k.rows(), k.rows(), res ? n : 1);
        TaskGraph g = new TaskGraph(plans.graphName("normf"))
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b[0], b[1], b[2], b[3])
                .task("forward", NormKernels::forward, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                        k.alpha(), k.eps(), k.rows(), k.c(), k.flags())
                .transferToHost(DataTransferMode.EVERY_EXECUTION, b[4], b[5], b[6], b[7]);
        return new Plans.TaskGraphAndBuffers(g, b);
    }

    /** Buffers: 0 h, 1 dy, 2 gamma, 3 mean, 4 rstd, 5 dSum, 6 dh, 7 dRes, 8 dGamma, 9 dBeta. */
    private Plans.TaskGraphAndBuffers backwardGraph(Key k) {
        int n = k.rows() * k.c();
        boolean res = (k.flags() & NormKernels.RESIDUAL) != 0;
        FloatArray[] b = Plans.buffers(n, n, k.c(), k.rows(), k.rows(), res ? n : 1, n, res ? n : 1, k.c(), k.c());
        TaskGraph g = new TaskGraph(plans.graphName("normb"))
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b[0], b[1], b[2], b[3], b[4], b[5])
                .task("input", NormKernels::backwardInput, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                        k.alpha(), k.rows(), k.c(), k.flags())
                .task("params", NormKernels::backwardParams, b[0], b[1], b[3], b[4], b[8], b[9], k.rows(), k.c(),
                        k.flags())
                .transferToHost(DataTransferMode.EVERY_EXECUTION, b[6], b[7], b[8], b[9]);
        return new Plans.TaskGraphAndBuffers(g, b);
    }

    private static int flags(NormRequest r) {
        return (r.residual() != null ? NormKernels.RESIDUAL : 0)
                | (r.kind() == NormKind.LAYER_NORM ? NormKernels.LAYER : 0)
                | (r.beta() != null ? NormKernels.BETA : 0);
    }

    private static FloatArray f(DeviceTensor t) {
        return ((TornadoTensor) t).storage(FloatArray.class);
    }
}
