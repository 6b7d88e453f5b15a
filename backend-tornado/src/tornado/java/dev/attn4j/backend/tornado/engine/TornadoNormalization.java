package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;
import static dev.attn4j.backend.tornado.engine.NormKernels.*;

/**
 * LayerNorm and RMSNorm, plain or with a fused residual, on TornadoVM (see {@link NormKernels}), from and into
 * the device heaps.
 */
final class TornadoNormalization implements NormalizationPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoNormalization(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    @Override
    public NormResult forward(NormRequest r) {
        Shape shape = r.input().shape();
        Shape stats = r.statsShape();
        boolean layer = r.kind() == NormKind.LAYER_NORM;
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor y = made.add(tensors.allocate(shape));
                TornadoTensor mean = layer ? made.add(tensors.allocate(stats)) : null;
                TornadoTensor rstd = made.add(tensors.allocate(stats));
                TornadoTensor sum = r.residual() != null ? made.add(tensors.allocate(shape)) : null;
                DeviceHeap heap = engine.heap();
                IntArray meta = heap.meta(DeviceHeap.Op.NORM_FORWARD);
                FloatArray fmeta = heap.fmeta(DeviceHeap.Op.NORM_FORWARD);
                int rows = sizes(meta, r, flags(r));
                fmeta.set(ALPHA, (float) r.residualScale());
                fmeta.set(EPS, (float) r.eps());
                meta.set(X_AT, at(r.input()));
                meta.set(RES_AT, at(r.residual()));
                meta.set(GAMMA_AT, at(r.gamma()));
                meta.set(BETA_AT, at(r.beta()));
                meta.set(Y_AT, y.offset());
                meta.set(MEAN_AT, at(mean));
                meta.set(RSTD_AT, rstd.offset());
                meta.set(SUM_AT, at(sum));
                heap.run(DeviceHeap.Op.NORM_FORWARD, 64, rows);
                return new NormResult(y, mean, rstd, sum);
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    @Override
    public NormGradients backward(NormBackwardRequest r) {
        NormRequest fwd = r.forward();
        Shape shape = fwd.input().shape();
        int flags = flags(fwd) | (fwd.residual() != null && r.dSum() != null ? DSUM : 0);
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor dInput = made.add(tensors.allocate(shape));
                TornadoTensor dRes = fwd.residual() != null ? made.add(tensors.allocate(shape)) : null;
                TornadoTensor dGamma = made.add(tensors.allocate(fwd.gamma().shape()));
                TornadoTensor dBeta = fwd.beta() != null ? made.add(tensors.allocate(fwd.beta().shape())) : null;
                DeviceHeap heap = engine.heap();
                int rows = 0;
                for (DeviceHeap.Op op : new DeviceHeap.Op[] {DeviceHeap.Op.NORM_INPUT, DeviceHeap.Op.NORM_PARAMS}) {
                    IntArray meta = heap.meta(op);
                    rows = sizes(meta, fwd, flags);
                    heap.fmeta(op).set(ALPHA, (float) fwd.residualScale());
                    meta.set(X_AT, at(r.normalizedInput()));
                    meta.set(DY_AT, at(r.dy()));
                    meta.set(GAMMA_AT, at(fwd.gamma()));
                    meta.set(MEAN_AT, at(r.saved().mean()));
                    meta.set(RSTD_AT, at(r.saved().rstd()));
                    meta.set(DSUM_AT, (flags & DSUM) != 0 ? at(r.dSum()) : 0);
                    meta.set(DH_AT, dInput.offset());
                    meta.set(DRES_AT, at(dRes));
                    meta.set(DGAMMA_AT, dGamma.offset());
                    meta.set(DBETA_AT, at(dBeta));
                }
                heap.run(DeviceHeap.Op.NORM_INPUT, 64, rows);
                heap.run(DeviceHeap.Op.NORM_PARAMS, 64, shape.dim(-1));
                return new NormGradients(dInput, dRes, dGamma, dBeta);
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    /** Rows, row length and flags into {@code meta}; returns the rows. */
    private static int sizes(IntArray meta, NormRequest r, int flags) {
        int rows = Math.toIntExact(r.rows());
        meta.set(ROWS, rows);
        meta.set(C, r.input().shape().dim(-1));
        meta.set(FLAGS, flags);
        return rows;
    }

    private static int flags(NormRequest r) {
        return (r.residual() != null ? RESIDUAL : 0)
                | (r.kind() == NormKind.LAYER_NORM ? LAYER : 0)
                | (r.beta() != null ? BETA : 0);
    }

}
