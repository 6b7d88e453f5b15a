package dev.attn4j.conformance.hostile;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 5: threads running calls on one backend while another thread closes the tensors they use and
 * then the backend itself. Every call must end (each thread is given a deadline: a call still running then is a
 * hang), and end either with a correct result (attention forward is checked against the oracle) or with an
 * attn4j exception; any other exception or error is a failure. Rounds vary when the closes land.
 *
 * <p>{@code -Dattn4j.concurrency.rounds=N} rounds per backend (default {@value #DEFAULT_ROUNDS}).
 */
class CloseInFlightTest {
    static final int DEFAULT_ROUNDS = 12;
    private static final int CALLERS = 4;
    private static final int B = 1, S = 96, H = 4, D = 32;

    @TestFactory
    Stream<DynamicTest> closingTensorsAndTheBackendUnderRunningCallsNeverHangsNorThrowsAnythingButAttn4jErrors() {
        int rounds = Integer.getInteger("attn4j.concurrency.rounds", DEFAULT_ROUNDS);
        BackendSelector selector = Backends.selector();
        return Backends.available(selector).stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Map<String, Integer> outcomes = new TreeMap<>();
            List<String> failures = new ArrayList<>();
            long start = System.nanoTime();
            for (int round = 0; round < rounds && failures.isEmpty(); round++) {
                runRound(selector, name, round, outcomes, failures);
            }
            System.out.printf(Locale.ROOT, "close-in-flight %s: %d rounds x %d callers in %.1f s: %s; %d failures%n", name,
                    rounds, CALLERS, (System.nanoTime() - start) / 1e9, outcomes, failures.size());
            assertTrue(failures.isEmpty(), () -> name + ": " + String.join("\n  ", failures));
        }));
    }

    private static void runRound(BackendSelector selector, String name, int round, Map<String, Integer> outcomes,
                                 List<String> failures) throws Exception {
        Random rnd = new Random(round);
        float[] q = random(rnd, B * S * H * D);
        float[] k = random(rnd, B * S * H * D);
        float[] v = random(rnd, B * S * H * D);
        AttentionOptions options = AttentionOptions.builder().causal(round % 2 == 0).build();
        AttentionProblem problem = new AttentionProblem(new AttentionDims(B, S, S, H, H, D), wide(q), wide(k), wide(v),
                options.scaleFor(D), options.causal(), -1, -1, 0, null, null, null, null, null, null);
        AttentionOutputs golden = AttentionOracle.forward(problem, Precision.FP64);
        AttentionOutputs ref = AttentionOracle.forward(problem, Precision.FP32);

        Backend backend = selector.open(name, BackendOptions.none());
        Shape shape = Shape.of(B, S, H, D);
        DeviceTensor tq = backend.tensors().upload(q, shape, DType.F32);
        DeviceTensor tk = backend.tensors().upload(k, shape, DType.F32);
        DeviceTensor tv = backend.tensors().upload(v, shape, DType.F32);
        DeviceTensor gamma = backend.tensors().upload(random(rnd, D), Shape.of(D), DType.F32);
        Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
        List<String> roundFailures = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch started = new CountDownLatch(CALLERS);
        ExecutorService pool = Executors.newFixedThreadPool(CALLERS, r -> {
            Thread t = new Thread(r, "close-in-flight-caller");
            t.setDaemon(true);   // a hung caller must not keep the test JVM alive
            return t;
        });
        List<Future<?>> callers = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
            int caller = c;
            callers.add(pool.submit(() -> {
                started.countDown();
                for (int n = 0; n < 400; n++) {
                    String outcome;
                    try {
                        switch ((caller + n) % 4) {
                            case 0, 1 -> {
                                try (AttentionResult r = backend.attention().forward(new AttentionRequest(tq, tk, tv, options))) {
                                    float[] o = backend.tensors().download(r.o());
                                    PassRule.Check check = PassRule.check("o", golden.o(), ref.o(), o, DType.F32);
                                    if (!check.passed()) {
                                        throw new AssertionError("wrong result: " + check.describe());
                                    }
                                }
                                outcome = "attention ok";
                            }
                            case 2 -> {
                                try (AttentionResult r = backend.attention().forward(new AttentionRequest(tq, tk, tv, options));
                                     AttentionGradients g = backend.attention().backward(new AttentionBackwardRequest(tq, tq,
                                             tk, tv, r.o(), r.lse(), options))) {
                                    backend.tensors().download(g.dq());
                                }
                                outcome = "backward ok";
                            }
                            default -> {
                                try (NormResult r = backend.normalization().forward(NormRequest.rmsNorm(tq, gamma, 1e-6))) {
                                    backend.tensors().download(r.y());
                                }
                                outcome = "norm ok";
                            }
                        }
                    } catch (Attn4jException e) {
                        outcome = e.getClass().getSimpleName();
                    } catch (Throwable t) {
                        outcome = "FAILURE " + t.getClass().getSimpleName();
                        roundFailures.add("round " + round + ", caller " + caller + ", call " + n + ": " + t);
                    }
                    counts.computeIfAbsent(outcome, x -> new AtomicInteger()).incrementAndGet();
                    if (backend.isClosed() && n > 0 && outcome.endsWith("Exception")) {
                        break;   // the backend is gone: one more refused call was enough
                    }
                }
                return null;
            }));
        }
        started.await();
        // Let the calls get going, then close inputs under them, then the backend.
        Thread.sleep(10 + rnd.nextInt(80));
        switch (round % 3) {
            case 0 -> tk.close();
            case 1 -> gamma.close();
            default -> { }
        }
        Thread.sleep(rnd.nextInt(40));
        backend.close();
        pool.shutdown();
        // One deadline for the round: every caller must be done within 60 s of the close.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (Future<?> f : callers) {
            try {
                f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                roundFailures.add("round " + round + ": a caller was still running 60 s after the backend closed (hang)");
                break;
            }
        }
        pool.shutdownNow();
        counts.forEach((k2, n) -> outcomes.merge(k2, n.get(), Integer::sum));
        failures.addAll(roundFailures);
        assertEquals(true, backend.isClosed());
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    private static double[] wide(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
