package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.Supplier;

/**
 * The cpu backend's element-wise ops and activations on one core, as thread CPU time: robust where wall time is
 * not, on a VM shared with other jobs. The backend runs with one worker thread, which is the calling thread, so
 * its CPU time is all the work. Each op runs 15 times after warming up; the least CPU time is printed, with
 * {@code System.arraycopy} of the same number of floats for scale (ops that return a tensor close it, so from
 * the second call on its array is recycled).
 *
 * <pre>
 * mvn -B -q -o -pl benchmarks -am package -DskipTests
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \\
 *      dev.attn4j.benchmarks.ElementwiseCpuTimeReport [n]
 * </pre>
 */
public final class ElementwiseCpuTimeReport {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    private static final int REPEATS = 15;

    private ElementwiseCpuTimeReport() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1 << 24;
        System.setProperty("attn4j.cpu.threads", "1");
        float[] src = Inputs.gaussian(Shape.of(n), 1);
        float[] dst = new float[n];
        try (Backend cpu = Backends.open("cpu")) {
            Shape shape = Shape.of(n);
            DeviceTensor x = Inputs.upload(cpu, shape, 2);
            DeviceTensor y = Inputs.upload(cpu, shape, 3);
            DeviceTensor half = Inputs.upload(cpu, Shape.of(n / 2), 4);
            System.out.printf("cpu backend, 1 thread (%s), n = %d floats; least thread CPU time of %d calls%n",
                    cpu.devices().get(0), n, REPEATS);
            report("System.arraycopy", () -> {
                System.arraycopy(src, 0, dst, 0, n);
                return null;
            });
            report("axpy", () -> {
                cpu.elementwise().axpy(new AxpyRequest(1e-3f, x, y));
                return null;
            });
            report("add", () -> cpu.elementwise().add(AddRequest.of(x, y)));
            for (Activation f : Activation.values()) {
                ActivationRequest fwd = new ActivationRequest(f, x);
                // a fused up/gate projection: rows of 2F = 4096 (F = 2048)
                GluRequest glu = new GluRequest(f, cpu.tensors().view(x, 0, Shape.of(n / 4096, 4096)));
                // the split form: value and gate as the two halves of x, each [n/4096, 2048]
                GluRequest split = GluRequest.split(f, cpu.tensors().view(x, 0, Shape.of(n / 4096, 2048)),
                        cpu.tensors().view(x, n / 2, Shape.of(n / 4096, 2048)));
                report(f + " forward", () -> cpu.activation().forward(fwd));
                report(f + " backward", () -> cpu.activation().backward(new ActivationBackwardRequest(fwd, y)));
                report(f + " GLU forward (n/2 outputs)", () -> cpu.activation().glu(glu));
                report(f + " GLU backward", () -> cpu.activation().gluBackward(new GluBackwardRequest(glu,
                        cpu.tensors().view(half, 0, glu.outputShape()))));
                report(f + " split GLU forward", () -> cpu.activation().glu(split));
                report(f + " split GLU backward", () -> cpu.activation().gluBackward(new GluBackwardRequest(split,
                        cpu.tensors().view(half, 0, split.outputShape()))));
            }
        }
    }

    /** Runs {@code op} (closing what it returns) and prints its least CPU time. */
    private static void report(String name, Supplier<DeviceTensor> op) {
        for (int i = 0; i < 5; i++) {
            close(op.get());
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < REPEATS; i++) {
            long t0 = MX.getCurrentThreadCpuTime();
            DeviceTensor out = op.get();
            best = Math.min(best, MX.getCurrentThreadCpuTime() - t0);
            close(out);
        }
        System.out.printf("  %-36s %8.2f ms%n", name, best / 1e6);
    }

    private static void close(DeviceTensor t) {
        if (t != null) {
            t.close();
        }
    }
}
