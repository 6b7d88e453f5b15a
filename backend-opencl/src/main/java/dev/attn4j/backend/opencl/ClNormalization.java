package dev.attn4j.backend.opencl;

import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.tensor.DType;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.List;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/** LayerNorm / RMSNorm on OpenCL ({@code norm.cl}): one work-group per row, one work-item per column for the parameter gradients. */
final class ClNormalization implements NormalizationPort {
    private static final String SOURCE = "norm.cl";

    private final OpenClEngine engine;

    ClNormalization(OpenClEngine engine) {
        this.engine = engine;
    }

    /**
     * Build options: the work-group size, fp64 for rstd where the device has it, and correctly rounded divide
     * and sqrt where the device offers them
     * (OpenCL's default allows 2.5 ulp for divide and 3 ulp for sqrt, which rstd = 1/sqrt(var + eps) shows).
     */
    private String buildOptions() {
        return "-DNORM_WG=" + workGroup() + (engine.device().fp64() ? " -DNORM_FP64=1" : "")
                + (engine.device().exactDivideSqrt() ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
    }

    /** Work-items per row: a power of two within the device's work-group limit. */
    private int workGroup() {
        int wg = 128;
        while (wg > 1 && wg > engine.device().maxWorkGroupSize()) {
            wg /= 2;
        }
        return wg;
    }

    @Override
    public NormResult forward(NormRequest r) {
        synchronized (engine) {
            engine.requireOpen();
            int wg = workGroup();
            int rows = Math.toIntExact(r.rows());
            int cols = r.input().shape().dim(-1);
            boolean ln = r.kind() == NormKind.LAYER_NORM;
            List<ClTensor> made = new ArrayList<>();
            try {
                ClTensor y = add(made, engine.allocate(r.input().shape(), DType.F32));
                ClTensor mean = ln ? add(made, engine.allocate(r.statsShape(), DType.F32)) : null;
                ClTensor rstd = add(made, engine.allocate(r.statsShape(), DType.F32));
                ClTensor sum = r.residual() != null ? add(made, engine.allocate(r.input().shape(), DType.F32)) : null;
                new KernelCall(engine.kernel(SOURCE, buildOptions(), "norm_fwd"))
                        .mem(buf(r.input())).mem(orPlaceholder(r.residual() != null ? buf(r.residual()) : null))
                        .f((float) r.residualScale()).i(r.residual() != null ? 1 : 0)
                        .mem(buf(r.gamma())).mem(orPlaceholder(r.beta() != null ? buf(r.beta()) : null))
                        .i(r.beta() != null ? 1 : 0).i(ln ? 1 : 0).f((float) r.eps()).i(cols)
                        .mem(y.buffer()).mem(orPlaceholder(mean != null ? mean.buffer() : null)).mem(rstd.buffer())
                        .mem(orPlaceholder(sum != null ? sum.buffer() : null))
                        .run(engine.queue(), new long[] {(long) rows * wg}, new long[] {wg});
                return new NormResult(y, mean, rstd, sum);
            } catch (RuntimeException e) {
                made.forEach(ClTensor::close);
                throw ClAttention.translate(e, "norm forward");
            }
        }
    }

    @Override
    public NormGradients backward(NormBackwardRequest b) {
        NormRequest r = b.forward();
        synchronized (engine) {
            engine.requireOpen();
            int wg = workGroup();
            int rows = Math.toIntExact(r.rows());
            int cols = r.input().shape().dim(-1);
            boolean ln = r.kind() == NormKind.LAYER_NORM;
            boolean res = r.residual() != null;
            String options = buildOptions();
            List<ClTensor> made = new ArrayList<>();
            try {
                ClTensor dInput = add(made, engine.allocate(r.input().shape(), DType.F32));
                ClTensor dResidual = res ? add(made, engine.allocate(r.input().shape(), DType.F32)) : null;
                ClTensor dGamma = add(made, engine.allocate(r.gamma().shape(), DType.F32));
                ClTensor dBeta = r.beta() != null ? add(made, engine.allocate(r.beta().shape(), DType.F32)) : null;
                cl_mem mean = orPlaceholder(ln ? buf(b.saved().mean()) : null);
                new KernelCall(engine.kernel(SOURCE, options, "norm_bwd_input"))
                        .mem(buf(b.normalizedInput())).mem(buf(b.dy()))
                        .mem(orPlaceholder(b.dSum() != null ? buf(b.dSum()) : null)).i(b.dSum() != null ? 1 : 0)
                        .mem(buf(r.gamma())).mem(mean).mem(buf(b.saved().rstd())).i(ln ? 1 : 0).i(cols)
                        .f((float) r.residualScale()).i(res ? 1 : 0)
                        .mem(dInput.buffer()).mem(orPlaceholder(dResidual != null ? dResidual.buffer() : null))
                        .run(engine.queue(), new long[] {(long) rows * wg}, new long[] {wg});
                new KernelCall(engine.kernel(SOURCE, options, "norm_bwd_params"))
                        .mem(buf(b.normalizedInput())).mem(buf(b.dy())).mem(mean).mem(buf(b.saved().rstd()))
                        .i(ln ? 1 : 0).i(rows).i(cols).i(dBeta != null ? 1 : 0)
                        .mem(dGamma.buffer()).mem(orPlaceholder(dBeta != null ? dBeta.buffer() : null))
                        .run(engine.queue(), new long[] {cols}, null);
                return new NormGradients(dInput, dResidual, dGamma, dBeta);
            } catch (RuntimeException e) {
                made.forEach(ClTensor::close);
                throw ClAttention.translate(e, "norm backward");
            }
        }
    }

    private cl_mem orPlaceholder(cl_mem m) {
        return m != null ? m : engine.placeholder();
    }

    private static ClTensor add(List<ClTensor> made, ClTensor t) {
        made.add(t);
        return t;
    }
}
