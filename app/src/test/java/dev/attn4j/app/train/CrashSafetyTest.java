package dev.attn4j.app.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.Main;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.domain.training.CheckpointStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code attn4j train} in a child JVM, killed with SIGKILL ({@link Process#destroyForcibly()}) at random moments,
 * {@value #DEFAULT_KILLS} times by default ({@code -Dattn4j.test.crashKills=N} for more), each time resumed with
 * {@code --resume}. The writer pauses {@value #PAUSE_MS} ms after each file and rename of a checkpoint (the
 * {@link TrainCommand#CHECKPOINT_PAUSE_PROPERTY} test hook), so many kills land inside a save. After every kill the
 * newest complete checkpoint must load and hold, bit for bit, what the uninterrupted run's checkpoint of the same
 * step holds (weights, optimizer moments, logged losses); a run that reaches the end must end with the
 * uninterrupted run's losses and weights. About three minutes on a shared 2-core machine (each kill costs a JVM start).
 *
 * <p>Also: SIGINT (Ctrl-C) makes the child finish its step, write a checkpoint and the reports, and exit.
 */
class CrashSafetyTest {
    static final int DEFAULT_KILLS = 50;
    static final long PAUSE_MS = 50;
    static final int STEPS = 8;

    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());

    private Path config;
    private Path data;

    private void prepare() throws IOException {
        config = dir.resolve("tiny.json");
        Files.writeString(config, TrainCommandTest.TINY);
        data = dir.resolve("train.jsonl");
        assertEquals(ExitCodes.OK, cli.run("make-data", "--task", "copy", "--count", "80", "--max-len", "6", "--out",
                data.toString()), cli.err());
    }

    private List<String> trainArgs(Path out, int keep, long steps, int checkpointEvery) {
        return List.of("train", "--model", config.toString(), "--data", data.toString(), "--max-length", "24",
                "--steps", Long.toString(steps), "--batch-size", "4", "--grad-accum", "2", "--lr", "3e-3", "--warmup",
                "2", "--schedule", "cosine", "--neftune-alpha", "3", "--log-every", "1", "--checkpoint-every",
                Integer.toString(checkpointEvery), "--keep", Integer.toString(keep), "--seed", "5", "--out",
                out.toString(), "--backend", "cpu");
    }

    private Process child(List<String> args, Path log) throws IOException {
        return child(args, log, false);
    }

    /**
     * The CLI in a child JVM. With {@code defaultSigint}, through {@code env --default-signal=INT} (GNU coreutils
     * 8.31+): a shell starts background jobs with SIGINT ignored, children inherit that, and a JVM started with
     * SIGINT ignored installs no handler, so Ctrl-C would never reach the CLI when the build runs in the background.
     */
    private Process child(List<String> args, Path log, boolean defaultSigint) throws IOException {
        List<String> command = new ArrayList<>();
        if (defaultSigint) {
            command.addAll(List.of("env", "--default-signal=INT"));
        }
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-D" + TrainCommand.CHECKPOINT_PAUSE_PROPERTY + "=" + PAUSE_MS,
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        command.add("--resume");
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void killedAtRandomMomentsTheNewestCompleteCheckpointAlwaysLoadsAndResumingMatchesTheUninterruptedRun()
            throws Exception {
        CpuModels.assume();
        prepare();
        Path reference = dir.resolve("reference");
        // the uninterrupted run, in process, keeping every checkpoint for comparison
        assertEquals(ExitCodes.OK, cli.run(trainArgs(reference, 100, STEPS, 1).toArray(String[]::new)),
                cli.out() + cli.err());
        CheckpointStore ref = CheckpointStore.at(reference.resolve(TrainCommand.CHECKPOINTS), 100);
        assertEquals(STEPS, ref.steps().size());
        List<Double> referenceLosses = losses(new ObjectMapper().readTree(reference.resolve("train.json").toFile()));
        assertEquals(STEPS, referenceLosses.size());

        int wanted = Integer.getInteger("attn4j.test.crashKills", DEFAULT_KILLS);
        SplittableRandom random = new SplittableRandom(20261204L);
        int kills = 0;
        int insideSaves = 0;
        int completions = 0;
        int cycle = 0;
        long steady = 2500;                               // ms after a first step within which most kills fall
        Path out = dir.resolve("crash-" + cycle);
        Path log = dir.resolve("child.log");
        while (kills < wanted) {
            Process p = child(trainArgs(out, 3, STEPS, 1), log);
            boolean exited;
            int when = random.nextInt(8);
            if (when == 0) {
                // now and then during start-up (reading the data, opening the backend, loading the checkpoint)
                exited = p.waitFor(100 + random.nextLong(1500), TimeUnit.MILLISECONDS);
            } else if (when == 1) {
                // or in the first step, while the JIT warms up
                exited = !awaitLine(p, log, "model: ") || p.waitFor(random.nextLong(1500), TimeUnit.MILLISECONDS);
            } else {
                // mostly once steps run: a step, then its checkpoint's five pauses, over and over
                exited = !awaitLine(p, log, "step ") || p.waitFor(random.nextLong(steady), TimeUnit.MILLISECONDS);
            }
            if (!exited) {
                p.destroyForcibly();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the killed child exits");
                kills++;
                insideSaves += leftovers(out.resolve(TrainCommand.CHECKPOINTS)) ? 1 : 0;
                verifyNewest(out, ref, referenceLosses);
                continue;
            }
            assertTrue(p.waitFor(5, TimeUnit.MINUTES));
            assertEquals(0, p.exitValue(), () -> "child failed:\n" + read(log));
            verifyFinished(out, reference, referenceLosses);
            completions++;
            out = dir.resolve("crash-" + ++cycle);     // start over in a fresh directory
        }
        // and a last run to the end from wherever the kills left it
        Process last = child(trainArgs(out, 3, STEPS, 1), log);
        assertTrue(last.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, last.exitValue(), () -> read(log));
        verifyFinished(out, reference, referenceLosses);
        System.out.printf("crash safety: %d kills (%d inside a checkpoint save), %d runs completed between kills%n",
                kills, insideSaves, completions + 1);
        // a save pauses 5 times 50 ms, most of a step's time here; seen: 18 of 50 kills inside saves (leftovers)
        assertTrue(insideSaves >= Math.max(1, kills / 25), "kills land inside saves: " + insideSaves + " of " + kills);
    }

    /** Waits until the child's log has a line starting with {@code prefix}; false if it exited first. */
    private static boolean awaitLine(Process p, Path log, String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            if (read(log).lines().anyMatch(l -> l.startsWith(prefix))) {
                return true;
            }
            if (!p.isAlive()) {
                return false;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no '" + prefix + "' line in 2 minutes:\n" + read(log));
    }

    /**
     * Whether a save was under way: a temporary checkpoint directory or pointer file is left, or a checkpoint was
     * renamed into place but {@code latest} does not name it yet.
     */
    private static boolean leftovers(Path checkpoints) throws IOException {
        if (!Files.isDirectory(checkpoints)) {
            return false;
        }
        try (Stream<Path> s = Files.list(checkpoints)) {
            if (s.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-")
                    || p.getFileName().toString().startsWith(".latest.")
                    || p.getFileName().toString().startsWith(".trash-"))) {
                return true;
            }
        }
        Path latest = checkpoints.resolve(CheckpointStore.LATEST);
        List<Long> steps;
        try (Stream<Path> s = Files.list(checkpoints)) {
            steps = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d+"))
                    .map(n -> Long.parseLong(n.substring(5))).sorted().toList();
        }
        return !steps.isEmpty() && (!Files.exists(latest)
                || !Files.readString(latest).strip().equals(CheckpointStore.name(steps.getLast())));
    }

    /** The newest complete checkpoint holds exactly what the reference's of the same step holds. */
    private static void verifyNewest(Path out, CheckpointStore ref, List<Double> referenceLosses) throws IOException {
        Path dir = out.resolve(TrainCommand.CHECKPOINTS);
        if (!Files.isDirectory(dir)) {
            return;                                       // killed before the first save
        }
        var latest = CheckpointStore.at(dir, 3).latest();
        if (latest.isEmpty()) {
            return;
        }
        CheckpointStore.Checkpoint c = latest.get();
        CheckpointStore.Checkpoint r = CheckpointStore.verify(ref.directory().resolve(CheckpointStore.name(c.step())))
                .orElseThrow();
        for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
            assertArrayEquals(Files.readAllBytes(r.file(file)), Files.readAllBytes(c.file(file)),
                    "step " + c.step() + ": " + file + " as in the uninterrupted run");
        }
        List<Double> logged = losses(c.state());
        assertEquals(referenceLosses.subList(0, logged.size()), logged, "step " + c.step() + ": the losses so far");
        assertEquals(c.step(), logged.size());
    }

    private static void verifyFinished(Path out, Path reference, List<Double> referenceLosses) throws IOException {
        JsonNode report = new ObjectMapper().readTree(out.resolve("train.json").toFile());
        assertEquals("completed", report.path("status").asText());
        assertEquals(referenceLosses, losses(report), "a resumed run logs the uninterrupted run's losses, bit for bit");
        Path mine = out.resolve(TrainCommand.CHECKPOINTS).resolve(CheckpointStore.name(STEPS)).resolve("model.safetensors");
        Path theirs = reference.resolve(TrainCommand.CHECKPOINTS).resolve(CheckpointStore.name(STEPS))
                .resolve("model.safetensors");
        assertArrayEquals(Files.readAllBytes(theirs), Files.readAllBytes(mine), "the final weights, bit for bit");
    }

    private static List<Double> losses(JsonNode root) {
        List<Double> out = new ArrayList<>();
        root.path("logs").forEach(n -> out.add(n.path("loss").asDouble()));
        return out;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void ctrlCFinishesTheStepWritesACheckpointAndTheReportsAndExits() throws Exception {
        CpuModels.assume();
        prepare();
        Path out = dir.resolve("interrupted");
        Path log = dir.resolve("sigint.log");
        Process p = child(trainArgs(out, 3, 100_000, 0), log, true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!read(log).contains("step 3/") && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(50);
        }
        assertTrue(p.isAlive(), () -> "still training (exit " + (p.isAlive() ? "-" : p.exitValue()) + "):\n" + read(log));
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor());
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the child exits after Ctrl-C");
        assertEquals(130, p.exitValue(), () -> "128 + SIGINT:\n" + read(log));
        String text = read(log);
        assertTrue(text.contains("stopped at step "), text);
        long stoppedAt = Long.parseLong(text.replaceAll("(?s).*stopped at step (\\d+) of .*", "$1"));
        CheckpointStore.Checkpoint c = CheckpointStore.at(out.resolve(TrainCommand.CHECKPOINTS), 3).latest().orElseThrow();
        assertEquals(stoppedAt, c.step(), "the checkpoint holds the step it stopped at");
        JsonNode report = new ObjectMapper().readTree(out.resolve("train.json").toFile());
        assertEquals("stopped", report.path("status").asText());
        assertEquals(stoppedAt, report.path("step").asLong());
        assertTrue(Files.readString(out.resolve("train.html")).contains("data:image/png;base64,"));
        assertTrue(Arrays.asList(text.split("\n")).stream().anyMatch(l -> l.startsWith("checkpoint: ")), text);
    }
}
