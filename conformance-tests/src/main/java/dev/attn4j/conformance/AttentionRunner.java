package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs one attention case on a backend: uploads the configuration's data, calls forward (and, for a
 * backward case, backward on the backend's own {@code o, lse}), downloads, and checks every output against
 * the golden oracle with the tolerance its ref gives.
 */
final class AttentionRunner {

    private AttentionRunner() {
    }

    static List<PassRule.Check> run(AttentionConfig cfg, boolean backward, AttentionLayout layout, Backend backend) {
        AttentionConfig.Data data = cfg.data();
        AttentionProblem p = data.problem();
        AttentionDims d = p.dims();
        DType dtype = cfg.dtype();
        Precision refPrecision = Precision.of(dtype);
        // The oracle's data is [B, S, H, D]; a BHSD case hands the backend the same values transposed, and
        // transposes what comes back, so both layouts are judged against the same golden values.
        Layouts query = new Layouts(layout, d.batch(), d.seqQ(), d.heads(), d.headDim());
        Layouts key = new Layouts(layout, d.batch(), d.seqK(), d.kvHeads(), d.headDim());
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor q = scope.upload(query.in(p.q()), query.shape(), dtype);
            DeviceTensor k = scope.upload(key.in(p.k()), key.shape(), dtype);
            DeviceTensor v = scope.upload(key.in(p.v()), key.shape(), dtype);
            AttentionOptions options = options(cfg, p, scope).toBuilder().layout(layout).build();
            AttentionResult fwd = scope.track(backend.attention().forward(new AttentionRequest(q, k, v, options)));
            List<PassRule.Check> checks = new ArrayList<>();
            if (!backward) {
                AttentionOutputs golden = AttentionOracle.forward(p, Precision.FP64);
                AttentionOutputs ref = AttentionOracle.forward(p, refPrecision);
                checks.add(PassRule.check("o", golden.o(), ref.o(), query.out(scope.download(fwd.o())), dtype));
                checks.add(PassRule.check("lse", golden.lse(), ref.lse(), scope.download(fwd.lse()), dtype));
                return checks;
            }
            DeviceTensor dO = scope.upload(query.in(data.dO()), query.shape(), dtype);
            AttentionOptions bwdOptions = options.toBuilder().biasTableGrad(cfg.biasTable())
                    .deterministic(cfg.deterministic()).build();
            var request = new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), bwdOptions);
            AttentionGradients g = scope.track(backend.attention().backward(request));
            AttentionGrads golden = AttentionOracle.backward(p, data.dO(), Precision.FP64);
            AttentionGrads ref = AttentionOracle.backward(p, data.dO(), refPrecision);
            float[] dq = query.out(scope.download(g.dq()));
            float[] dk = key.out(scope.download(g.dk()));
            float[] dv = key.out(scope.download(g.dv()));
            checks.add(PassRule.check("dq", golden.dq(), ref.dq(), dq, dtype));
            checks.add(PassRule.check("dk", golden.dk(), ref.dk(), dk, dtype));
            checks.add(PassRule.check("dv", golden.dv(), ref.dv(), dv, dtype));
            if (cfg.biasTable()) {
                if (g.dBiasTable() == null) {
                    throw new IllegalStateException("backward returned no dBiasTable although biasTableGrad was set");
                }
                checks.add(PassRule.check("dBiasTable", golden.dBiasTable(), ref.dBiasTable(),
                        scope.download(g.dBiasTable()), dtype));
            }
            if (cfg.deterministic()) {
                AttentionGradients again = scope.track(backend.attention().backward(request));
                requireSameBits("dq", dq, query.out(scope.download(again.dq())));
                requireSameBits("dk", dk, key.out(scope.download(again.dk())));
                requireSameBits("dv", dv, key.out(scope.download(again.dv())));
            }
            return checks;
        }
    }

    private static AttentionOptions options(AttentionConfig cfg, AttentionProblem p, DeviceScope scope) {
        AttentionDims d = p.dims();
        AttentionOptions.Builder b = AttentionOptions.builder().scale(cfg.scale()).causal(cfg.causal())
                .window(cfg.windowLeft(), cfg.windowRight()).softcap(cfg.softcap()).dropout(p.dropout());
        if (p.alibiSlopes() != null) {
            Shape s = p.alibiSlopes().length == d.heads() ? Shape.of(d.heads()) : Shape.of(d.batch(), d.heads());
            b.alibiSlopes(scope.upload(p.alibiSlopes(), s, DType.F32));
        }
        if (p.biasTable() != null) {
            b.biasTable(scope.upload(p.biasTable(), Shape.of(d.heads(), d.tableWidth()), DType.F32));
        }
        if (p.denseBias() != null) {
            var bias = p.denseBias();
            b.denseBias(scope.upload(bias.values(), Shape.of(bias.batches(), bias.heads(), d.seqQ(), d.seqK()), DType.F32));
        }
        if (p.flashMask() != null) {
            var m = p.flashMask();
            b.flashMask(scope.uploadInts(m.rows(), Shape.of(d.batch(), m.heads(), d.seqK(), m.n())));
        }
        if (p.denseMask() != null) {
            var m = p.denseMask();
            b.denseMask(scope.uploadBools(m.allowed(), Shape.of(m.batches(), m.heads(), d.seqQ(), d.seqK())));
        }
        return b.build();
    }

    /** One tensor family's sizes in the case's layout: its shape, and the transposes in and out of the oracle's. */
    private record Layouts(AttentionLayout layout, int batch, int seq, int heads, int headDim) {
        Shape shape() {
            return layout.shape(batch, seq, heads, headDim);
        }

        /** Oracle data {@code [B, S, H, D]} in the case's layout. */
        double[] in(double[] bshd) {
            if (layout == AttentionLayout.BSHD) {
                return bshd;
            }
            double[] out = new double[bshd.length];
            for (int b = 0; b < batch; b++) {
                for (int s = 0; s < seq; s++) {
                    for (int h = 0; h < heads; h++) {
                        System.arraycopy(bshd, ((b * seq + s) * heads + h) * headDim, out,
                                ((b * heads + h) * seq + s) * headDim, headDim);
                    }
                }
            }
            return out;
        }

        /** A backend's output in the case's layout, as {@code [B, S, H, D]}. */
        float[] out(float[] x) {
            if (layout == AttentionLayout.BSHD) {
                return x;
            }
            float[] out = new float[x.length];
            for (int b = 0; b < batch; b++) {
                for (int s = 0; s < seq; s++) {
                    for (int h = 0; h < heads; h++) {
                        System.arraycopy(x, ((b * heads + h) * seq + s) * headDim, out,
                                ((b * seq + s) * heads + h) * headDim, headDim);
                    }
                }
            }
            return out;
        }
    }

    private static void requireSameBits(String name, float[] first, float[] second) {
        if (first.length != second.length) {
            throw new IllegalStateException(name + ": lengths differ between two runs: " + first.length + " then "
                    + second.length);
        }
        for (int n = 0; n < first.length; n++) {
            if (Float.floatToRawIntBits(first[n]) != Float.floatToRawIntBits(second[n])) {
                throw new IllegalStateException("deterministic backward differs between two runs: " + name + "[" + n
                        + "] = " + first[n] + " then " + second[n]);
            }
        }
    }
}
