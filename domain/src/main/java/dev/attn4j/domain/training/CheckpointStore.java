package dev.attn4j.domain.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.ports.InvalidRequestException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * A directory of training checkpoints, each written so that a kill at any moment (even {@code kill -9} in the
 * middle of a file) leaves the newest complete checkpoint loadable (docs/design.md §12).
 *
 * <p>Layout: {@code DIR/step-00000120/} holds the checkpoint's files (here {@code model.safetensors},
 * {@code optimizer.safetensors}) and {@value #STATE_FILE}, which lists every file with its size and CRC-32;
 * {@code DIR/latest} names the newest one. A save writes everything into a fresh {@code DIR/.tmp-…} directory
 * (each file forced to the device), writes {@value #STATE_FILE} last, forces the directory, renames it to
 * {@code step-N} (one atomic rename: the checkpoint appears whole or not at all), forces {@code DIR}, then
 * replaces {@code latest} atomically (temporary file, force, rename, force {@code DIR}) and finally deletes all
 * but the newest {@code keep} checkpoints (each first renamed to {@code .trash-…}, so a half-deleted one never
 * looks like a checkpoint). Leftover {@code .tmp-…} and {@code .trash-…} directories of a killed process are
 * removed when the store is opened.
 *
 * <p>{@link #latest()} does not trust {@code latest} alone: it takes the highest-numbered {@code step-N}
 * directory whose {@value #STATE_FILE} parses and whose files have the recorded sizes and checksums, so a
 * checkpoint renamed into place just before a kill (before {@code latest} was updated) is found too.
 *
 * <pre>{@code
 * CheckpointStore store = CheckpointStore.at(Path.of("out/checkpoints"), 3);
 * store.save(120, Map.of("model.safetensors", modelWriter), stateJson);
 * Optional<CheckpointStore.Checkpoint> last = store.latest();
 * }</pre>
 */
public final class CheckpointStore {
    /** The pointer file naming the newest checkpoint. */
    public static final String LATEST = "latest";
    /** The state file of each checkpoint, written last. */
    public static final String STATE_FILE = "trainer.json";

    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{8,19})");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path directory;
    private final int keep;
    private final long pauseMillis;

    private CheckpointStore(Path directory, int keep, long pauseMillis) {
        this.directory = directory;
        this.keep = keep;
        this.pauseMillis = pauseMillis;
    }

    /**
     * {@return the store in {@code directory} (created if needed) keeping the newest {@code keep} checkpoints};
     * removes what a killed writer left behind.
     *
     * @param directory where the checkpoints live
     * @param keep      complete checkpoints kept, {@code >= 1}
     */
    public static CheckpointStore at(Path directory, int keep) {
        InvalidRequestException.check(directory != null, "directory", "a path", "null");
        InvalidRequestException.check(keep >= 1, "keep", ">= 1 checkpoints", keep);
        Path dir = directory.toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path p : entries) {
                    String name = p.getFileName().toString();
                    if ((name.startsWith(".tmp-") || name.startsWith(".trash-")) && Files.isDirectory(p)) {
                        deleteTree(p);
                    } else if (name.startsWith("." + LATEST + ".") && name.endsWith(".tmp")) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the checkpoint directory " + dir + ": " + e.getMessage(), e);
        }
        return new CheckpointStore(dir, keep, 0);
    }

    /**
     * This store sleeping {@code millis} between the files of a save and between its renames: a test hook, so that a
     * test killing the process lands inside a save often; 0 (the default) in production.
     *
     * @param millis the pause, {@code >= 0}
     * @return a store like this one with that pause
     */
    public CheckpointStore pauseBetweenFiles(long millis) {
        InvalidRequestException.check(millis >= 0, "pause", ">= 0 ms", millis);
        return new CheckpointStore(directory, keep, millis);
    }

    /** {@return the directory} */
    public Path directory() {
        return directory;
    }

    /** {@return the complete checkpoints kept} */
    public int keep() {
        return keep;
    }

    /**
     * {@return the directory name of step {@code step}'s checkpoint}
     *
     * @param step the optimizer steps it holds
     */
    public static String name(long step) {
        return String.format(Locale.ROOT, "step-%08d", step);
    }

    /**
     * One complete, verified checkpoint.
     *
     * @param directory its directory
     * @param step      the optimizer steps it holds
     * @param state     its {@value #STATE_FILE}
     */
    public record Checkpoint(Path directory, long step, JsonNode state) {

        /**
         * {@return the path of one of its files}
         *
         * @param name the file's name
         */
        public Path file(String name) {
            return directory.resolve(name);
        }
    }

    /**
     * Writes step {@code step}'s checkpoint: every file of {@code files} (by file name), then {@code state} (with a
     * {@code files} entry added: each file's size and CRC-32) as {@value #STATE_FILE}; then publishes it, updates
     * {@code latest} and deletes the oldest beyond {@code keep}.
     *
     * @param step  the optimizer steps it holds
     * @param files its files by name, written in this order
     * @param state its state, written last
     * @return the checkpoint's directory
     */
    public Path save(long step, Map<String, SafetensorsWriter> files, ObjectNode state) {
        InvalidRequestException.check(step >= 0, "step", ">= 0", step);
        InvalidRequestException.check(files != null && state != null, "files, state", "both given", "null");
        for (String f : files.keySet()) {
            InvalidRequestException.check(f.matches("[A-Za-z0-9_.-]+") && !f.startsWith(".") && !f.equals(STATE_FILE),
                    "file name", "a plain file name other than " + STATE_FILE, f);
        }
        Path target = directory.resolve(name(step));
        Path tmp = directory.resolve(".tmp-" + name(step) + "-" + Long.toHexString(RANDOM.nextLong()));
        try {
            Files.createDirectory(tmp);
            ObjectNode digests = JSON.createObjectNode();
            for (Map.Entry<String, SafetensorsWriter> e : files.entrySet()) {
                Path file = tmp.resolve(e.getKey());
                e.getValue().write(file);
                ObjectNode d = digests.putObject(e.getKey());
                d.put("bytes", Files.size(file));
                d.put("crc32", crc32(file));
                pause();
            }
            ObjectNode written = state.deepCopy();
            written.set("files", digests);
            writeForced(tmp.resolve(STATE_FILE), JSON.writeValueAsBytes(written));
            force(tmp);
            pause();
            if (Files.exists(target)) {
                // The same step saved again (a stop right after a resume): the new one replaces it.
                Path trash = directory.resolve(".trash-" + name(step) + "-" + Long.toHexString(RANDOM.nextLong()));
                move(target, trash);
                deleteTree(trash);
            }
            move(tmp, target);
            force(directory);
            pause();
            writeLatest(name(step));
            pause();
            prune();
            return target;
        } catch (IOException e) {
            try {
                deleteTree(tmp);
            } catch (IOException ignored) {
                // the save failed already; that is the error to report
            }
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + e.getMessage(), e);
        }
    }

    /** {@return the newest complete checkpoint (see the class comment), if any} */
    public Optional<Checkpoint> latest() {
        List<Long> steps = steps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            Optional<Checkpoint> c = verify(directory.resolve(name(steps.get(i))));
            if (c.isPresent()) {
                return c;
            }
        }
        return Optional.empty();
    }

    /** {@return the steps of every {@code step-N} directory, ascending (complete or not: {@link #latest()} verifies)} */
    public List<Long> steps() {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path p : entries) {
                Matcher m = STEP_DIR.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    try {
                        out.add(Long.parseLong(m.group(1)));
                    } catch (NumberFormatException ignored) {
                        // more digits than a long: not one of ours
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /**
     * Reads and verifies the checkpoint in {@code dir}: its state file parses, names its step, and every file it
     * lists has the recorded size and CRC-32.
     *
     * @param dir the checkpoint's directory
     * @return the checkpoint, or empty when it is incomplete, damaged or not one
     */
    public static Optional<Checkpoint> verify(Path dir) {
        try {
            Path stateFile = dir.resolve(STATE_FILE);
            if (!Files.isRegularFile(stateFile)) {
                return Optional.empty();
            }
            JsonNode state = JSON.readTree(stateFile.toFile());
            if (state == null || !state.path("step").canConvertToLong() || !state.path("files").isObject()) {
                return Optional.empty();
            }
            for (Map.Entry<String, JsonNode> f : state.path("files").properties()) {
                Path file = dir.resolve(f.getKey()).normalize();
                if (!file.getParent().equals(dir.normalize()) || !Files.isRegularFile(file)
                        || Files.size(file) != f.getValue().path("bytes").asLong(-1)
                        || !crc32(file).equals(f.getValue().path("crc32").asText())) {
                    return Optional.empty();
                }
            }
            return Optional.of(new Checkpoint(dir, state.path("step").asLong(), state));
        } catch (IOException | RuntimeException e) {
            // unreadable or malformed: not a complete checkpoint
            return Optional.empty();
        }
    }

    private void prune() throws IOException {
        List<Long> steps = steps();
        List<Long> complete = new ArrayList<>();
        for (long s : steps) {
            if (verifyQuick(directory.resolve(name(s)))) {
                complete.add(s);
            }
        }
        for (int i = 0; i < complete.size() - keep; i++) {
            Path old = directory.resolve(name(complete.get(i)));
            Path trash = directory.resolve(".trash-" + old.getFileName() + "-" + Long.toHexString(RANDOM.nextLong()));
            move(old, trash);
            deleteTree(trash);
        }
        // Directories without a state file are what a crash before the rename cannot leave (tmp dirs are cleared
        // on open), so any such step-N is foreign: leave it.
    }

    /** A checkpoint directory whose state file exists (renames make it complete; full checks are for loading). */
    private static boolean verifyQuick(Path dir) {
        return Files.isRegularFile(dir.resolve(STATE_FILE));
    }

    private void writeLatest(String name) throws IOException {
        Path tmp = directory.resolve("." + LATEST + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            writeForced(tmp, (name + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            move(tmp, directory.resolve(LATEST));
            tmp = null;
            force(directory);
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private void pause() {
        if (pauseMillis > 0) {
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void writeForced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Makes renames and new entries of a directory durable; a no-op where directories cannot be opened. */
    private static void force(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: every file was forced before its rename
        }
    }

    static String crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return String.format(Locale.ROOT, "%08x", crc.getValue());
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
