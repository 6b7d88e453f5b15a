package dev.attn4j.app.bench;

import java.util.Arrays;

/**
 * Wall-clock times of the measured repeats of one benchmark, in milliseconds.
 *
 * <pre>{@code
 * Timing t = Timing.of(new double[]{2.1, 2.0, 2.4});
 * t.medianMs();   // 2.1
 * }</pre>
 *
 * @param medianMs the median (the mean of the middle two for an even count)
 * @param minMs    the fastest repeat
 * @param maxMs    the slowest repeat
 * @param repeats  how many repeats were measured
 */
public record Timing(double medianMs, double minMs, double maxMs, int repeats) {

    /** Summarises {@code samplesMs} (at least one). */
    public static Timing of(double[] samplesMs) {
        if (samplesMs.length == 0) {
            throw new IllegalArgumentException("samplesMs: expected at least one sample, got none");
        }
        double[] s = samplesMs.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Timing(median, s[0], s[n - 1], n);
    }

    /** {@code (max − min) / median}: how much the repeats disagree. */
    public double spread() {
        return medianMs == 0 ? 0 : (maxMs - minMs) / medianMs;
    }
}
