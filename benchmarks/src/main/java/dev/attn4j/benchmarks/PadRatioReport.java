package dev.attn4j.benchmarks;

import dev.attn4j.domain.data.Example;
import dev.attn4j.domain.data.Packer;
import dev.attn4j.domain.data.Packing;
import dev.attn4j.domain.data.PackingOptions;
import dev.attn4j.domain.data.PackingStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The pad-ratio figure of DESIGN §12: padding / all token slots of the rows for plain padding, zero padding
 * and greedy zero padding, on a long-tailed length distribution. Not a timing benchmark (the packing
 * times printed are for orientation only).
 *
 * <p>Lengths: {@code ceil(exp(ln(median) + sigma·z))} tokens with {@code z} from {@code java.util.Random(seed)
 * .nextGaussian()} (specified exactly by its Javadoc, so every JDK draws the same lengths), at least 1;
 * examples longer than {@code maxLength} are truncated (counted). Defaults: N = 20,000 examples, seed 1234,
 * median 400, sigma 1.0 (mean about 660, a tail past 8,192), max lengths 2048 and 8192, greedy groups of 500.
 * Also printed: for comparison with PaddleNLP's "~50%" (which is what padding each batch to its longest
 * example gives), plain padding to the longest example of each batch of 8 in file order; and greedy with
 * each group placed longest first ({@code PackingOptions.sortGroups}, an addition to PaddleNLP's rule).
 *
 * <pre>
 * mvn -B -q -o -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/benchmarks.jar dev.attn4j.benchmarks.PadRatioReport [--n 20000] [--seed 1234]
 *      [--median 400] [--sigma 1.0] [--max-lengths 2048,8192] [--group 500]
 * </pre>
 */
public final class PadRatioReport {

    private PadRatioReport() {
    }

    public static void main(String[] args) {
        int n = 20_000;
        long seed = 1234;
        double median = 400;
        double sigma = 1.0;
        int group = PackingOptions.PADDLE_GROUP_SIZE;
        int[] maxLengths = {2048, 8192};
        for (int k = 0; k + 1 < args.length; k += 2) {
            switch (args[k]) {
                case "--n" -> n = Integer.parseInt(args[k + 1]);
                case "--seed" -> seed = Long.parseLong(args[k + 1]);
                case "--median" -> median = Double.parseDouble(args[k + 1]);
                case "--sigma" -> sigma = Double.parseDouble(args[k + 1]);
                case "--group" -> group = Integer.parseInt(args[k + 1]);
                case "--max-lengths" -> {
                    String[] parts = args[k + 1].split(",");
                    maxLengths = new int[parts.length];
                    for (int p = 0; p < parts.length; p++) {
                        maxLengths[p] = Integer.parseInt(parts[p].trim());
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + args[k]);
            }
        }
        int[] lengths = lengths(n, seed, median, sigma);
        long total = 0;
        int longest = 0;
        for (int len : lengths) {
            total += len;
            longest = Math.max(longest, len);
        }
        int[] sorted = lengths.clone();
        java.util.Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "lengths: lognormal, N=%d, seed=%d, median=%.0f, sigma=%.2f: mean %.1f, "
                        + "p50 %d, p90 %d, p99 %d, max %d%n", n, seed, median, sigma, (double) total / n,
                sorted[n / 2], sorted[(int) (n * 0.9)], sorted[(int) (n * 0.99)], longest);
        List<Example> examples = new ArrayList<>(n);
        for (int len : lengths) {
            examples.add(Example.causal(new int[len]));
        }
        System.out.printf(Locale.ROOT, "%-10s %-42s %8s %9s %10s %9s %8s%n",
                "maxLength", "packing", "rows", "ex/row", "pad ratio", "truncated", "ms");
        for (int maxLength : maxLengths) {
            System.out.printf(Locale.ROOT, "%-10d %-42s %8s %9s %9.2f%% %9s %8s%n", maxLength,
                    "none, to the batch's longest (B=8)", "-", "1.00", 100 * dynamicPadding(lengths, maxLength, 8), "-", "-");
            for (int variant = 0; variant < 4; variant++) {
                Packing packing = Packing.values()[Math.min(variant, 2)];
                PackingOptions options = new PackingOptions(packing, maxLength,
                        dev.attn4j.domain.data.OverlongPolicy.TRUNCATE, group, 0, variant == 3);
                long t0 = System.nanoTime();
                PackingStats s = Packer.pack(examples, options).stats();
                long ms = (System.nanoTime() - t0) / 1_000_000;
                String name = switch (variant) {
                    case 0 -> "none, to maxLength";
                    case 1 -> "zero padding (next-fit)";
                    case 2 -> "greedy zero padding (groups of " + group + ")";
                    default -> "greedy, groups longest first (not Paddle)";
                };
                System.out.printf(Locale.ROOT, "%-10d %-42s %8d %9.2f %9.2f%% %9d %8d%n", maxLength, name, s.rows(),
                        s.examplesPerRow(), 100 * s.padRatio(), s.truncated(), ms);
            }
        }
    }

    /** The lengths, as the class comment states. */
    static int[] lengths(int n, long seed, double median, double sigma) {
        Random random = new Random(seed);
        double mu = Math.log(median);
        int[] out = new int[n];
        for (int k = 0; k < n; k++) {
            double len = Math.ceil(Math.exp(mu + sigma * random.nextGaussian()));
            out[k] = (int) Math.max(1, Math.min(1_000_000, len));
        }
        return out;
    }

    /** Padding when each batch of {@code b} examples (file order, truncated to maxLength) is padded to its longest. */
    static double dynamicPadding(int[] lengths, int maxLength, int b) {
        long slots = 0;
        long tokens = 0;
        for (int from = 0; from < lengths.length; from += b) {
            int longest = 0;
            int to = Math.min(lengths.length, from + b);
            for (int k = from; k < to; k++) {
                int len = Math.min(maxLength, lengths[k]);
                longest = Math.max(longest, len);
                tokens += len;
            }
            slots += (long) longest * (to - from);
        }
        return (double) (slots - tokens) / slots;
    }
}
