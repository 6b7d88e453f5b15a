package dev.attn4j.app.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code attn4j make-data}: writes a synthetic task as JSON Lines of {@code {"prompt": …, "completion": …}}
 * records (a loss on the completion only), from a seed, so a small model can be seen to learn something in
 * minutes: {@code copy} ({@code "copy abc="} → {@code "abc"}), {@code reverse} ({@code "reverse abc="} →
 * {@code "cba"}), {@code sort} ({@code "sort cab="} → {@code "abc"}) over an alphabet, and {@code add}
 * ({@code "12+345="} → {@code "357"}).
 */
@Command(name = "make-data", mixinStandardHelpOptions = true,
        description = "Write a synthetic task (copy, reverse, sort, add) as prompt/completion JSONL.")
public final class MakeDataCommand implements Callable<Integer> {
    /** The tasks. */
    public enum Task {
        /** Repeat the string. */
        COPY,
        /** The string backwards. */
        REVERSE,
        /** The string's letters in order. */
        SORT,
        /** The sum of two numbers. */
        ADD
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "copy|reverse|sort|add", description = "The task.")
    Task task;

    @Option(names = "--count", defaultValue = "1000", paramLabel = "N", description = "Records. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--min-len", defaultValue = "3", paramLabel = "N",
            description = "Shortest string (add: fewest digits). Default: ${DEFAULT-VALUE}.")
    int minLen;

    @Option(names = "--max-len", defaultValue = "8", paramLabel = "N",
            description = "Longest string (add: most digits, at most 18). Default: ${DEFAULT-VALUE}.")
    int maxLen;

    @Option(names = "--alphabet", defaultValue = "abcdefghijklmnopqrstuvwxyz",
            description = "Letters of copy, reverse and sort. Default: ${DEFAULT-VALUE}.")
    String alphabet;

    @Option(names = "--seed", defaultValue = "1", description = "Seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Where to write.")
    Path out;

    /** A command writing to {@code env}'s output. */
    public MakeDataCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        if (count < 1) {
            bad("--count: expected a positive number, got " + count);
        }
        if (minLen < 1 || maxLen < minLen) {
            bad("--min-len/--max-len: expected 1 <= min <= max, got " + minLen + " and " + maxLen);
        }
        if (task == Task.ADD && maxLen > 18) {
            bad("--max-len: add takes at most 18 digits (the sum must fit a long), got " + maxLen);
        }
        if (alphabet.isEmpty()) {
            bad("--alphabet: expected at least one letter");
        }
        SplittableRandom random = new SplittableRandom(seed);
        try {
            if (out.toAbsolutePath().getParent() != null) {
                Files.createDirectories(out.toAbsolutePath().getParent());
            }
            try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                for (int i = 0; i < count; i++) {
                    String[] r = record(task, random, minLen, maxLen, alphabet);
                    ObjectNode n = JSON.createObjectNode();
                    n.put("prompt", r[0]);
                    n.put("completion", r[1]);
                    w.write(JSON.writeValueAsString(n));
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
        env.out().printf(Locale.ROOT, "wrote %d %s records to %s%n", count, task.name().toLowerCase(Locale.ROOT), out);
        return ExitCodes.OK;
    }

    /** One record's prompt and completion. */
    static String[] record(Task task, SplittableRandom random, int minLen, int maxLen, String alphabet) {
        int n = minLen + random.nextInt(maxLen - minLen + 1);
        if (task == Task.ADD) {
            long a = number(random, minLen + random.nextInt(maxLen - minLen + 1));
            long b = number(random, n);
            return new String[] {a + "+" + b + "=", Long.toString(a + b)};
        }
        char[] s = new char[n];
        for (int i = 0; i < n; i++) {
            s[i] = alphabet.charAt(random.nextInt(alphabet.length()));
        }
        String text = new String(s);
        return switch (task) {
            case COPY -> new String[] {"copy " + text + "=", text};
            case REVERSE -> new String[] {"reverse " + text + "=", new StringBuilder(text).reverse().toString()};
            case SORT -> {
                char[] sorted = s.clone();
                Arrays.sort(sorted);
                yield new String[] {"sort " + text + "=", new String(sorted)};
            }
            case ADD -> throw new AssertionError();
        };
    }

    /** A number of exactly {@code digits} digits (1 digit: 0..9). */
    private static long number(SplittableRandom random, int digits) {
        if (digits == 1) {
            return random.nextInt(10);
        }
        long low = 1;
        for (int i = 1; i < digits; i++) {
            low *= 10;
        }
        return random.nextLong(low, low * 10);
    }

    private void bad(String message) {
        throw new ParameterException(spec.commandLine(), message);
    }
}
