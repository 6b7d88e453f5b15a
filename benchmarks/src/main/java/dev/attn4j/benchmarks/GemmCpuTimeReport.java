package dev.attn4j.benchmarks;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The cpu backend's GEMM through the linear port on one core, as thread CPU time: robust where wall time is not,
 * on a VM shared with other jobs (a descheduled thread accrues no CPU time). The backend runs with one worker,
 * the calling thread, so its CPU time is all the work. Prints the GFLOP/s ({@code 2·M·N·K} / least CPU time of
 * {@code repeats} calls after two untimed ones) as one JSON number, for {@code benchmarks/gemm-vs-openblas.sh}
 * with {@code CPUTIME=1}, which measures OpenBLAS on one thread the same way.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *      dev.attn4j.benchmarks.GemmCpuTimeReport 4096 2048 512 NT [repeats]
 * </pre>
 */
public final class GemmCpuTimeReport {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    private GemmCpuTimeReport() {
    }

    public static void main(String[] args) {
        int m = Integer.parseInt(args[0]);
        int n = Integer.parseInt(args[1]);
        int k = Integer.parseInt(args[2]);
        String form = args[3];
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        boolean ta = form.charAt(0) == 'T';
        boolean tb = form.charAt(1) == 'T';
        System.setProperty("attn4j.cpu.threads", "1");
        try (Backend cpu = Backends.open("cpu")) {
            System.err.println(cpu.devices().get(0));   // "cpu: 1 worker threads, ..."
            DeviceTensor a = Inputs.upload(cpu, ta ? Shape.of(k, m) : Shape.of(m, k), 1);
            DeviceTensor b = Inputs.upload(cpu, tb ? Shape.of(n, k) : Shape.of(k, n), 2);
            DeviceTensor c = cpu.tensors().zeros(Shape.of(m, n), DType.F32);
            MatmulRequest request = new MatmulRequest(a, ta, b, tb, c, 1f, 0f);
            for (int i = 0; i < 2; i++) {
                cpu.linear().matmul(request);
            }
            long best = Long.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                long t0 = MX.getCurrentThreadCpuTime();
                cpu.linear().matmul(request);
                best = Math.min(best, MX.getCurrentThreadCpuTime() - t0);
            }
            System.out.println(2.0 * m * n * k / best);
        }
    }
}
