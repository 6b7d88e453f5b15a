package dev.attn4j.ports;

import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Map;

/**
 * What the validating ports need from the {@link Backend} around them: its name and declaration, and checks
 * that a tensor may be passed to its engine. Each port package validates its own requests (the
 * {@code Validating*Port} classes) with this; a backend author never implements it.
 *
 * <pre>{@code
 * guard.requireUsable(request.tensors());            // open backend, tensors non-null, owned and open
 * IntRange ids = guard.intRange(request.ids());      // recorded at upload: no device read
 * }</pre>
 */
public interface PortGuard {

    /** {@return the backend's name, for messages} */
    String backendName();

    /** {@return what the backend declares} */
    Capabilities capabilities();

    /**
     * Checks that the backend is open.
     *
     * @throws Attn4jException when it was closed
     */
    void requireOpen();

    /**
     * Checks that the backend is open and that {@code tensor} is non-null, made by this backend and open.
     *
     * @param argument the request's name for the tensor, which an error message quotes
     * @param tensor   the tensor to check
     * @throws InvalidRequestException naming {@code argument} otherwise
     */
    void requireUsable(String argument, DeviceTensor tensor);

    /**
     * {@link #requireOpen()}, then {@link #requireUsable(String, DeviceTensor)} for every entry.
     *
     * @param tensors a request's tensors, keyed by the argument names that error messages quote
     * @throws InvalidRequestException naming the first unusable entry's argument
     */
    default void requireUsable(Map<String, DeviceTensor> tensors) {
        requireOpen();
        tensors.forEach(this::requireUsable);
    }

    /**
     * The smallest and largest value of an {@link dev.attn4j.ports.tensor.DType#I32} tensor: recorded when it
     * was uploaded (or inherited by a view of such a tensor), else read from the device once and remembered.
     *
     * @param ints an I32 tensor of this backend
     * @return what is known of its values
     */
    IntRange intRange(DeviceTensor ints);

    /**
     * Remembers the range of values of an I32 tensor the caller has just filled from the host.
     *
     * @param ints  the I32 tensor just filled
     * @param range the range of the values written into it
     */
    void recordIntRange(DeviceTensor ints, IntRange range);

    /** Forgets every remembered range, after a write into I32 storage that views may share. */
    void forgetIntRanges();

    /**
     * What is known of an I32 tensor's values: their range, and which negative values occur (index inputs use
     * one negative value as a marker, such as cross-entropy's ignore index −100).
     *
     * @param min       the smallest value ({@code Integer.MAX_VALUE} for no values)
     * @param max       the largest value ({@code Integer.MIN_VALUE} for no values)
     * @param negatives the distinct negative values, when there are at most {@link #TRACKED_NEGATIVES} of them;
     *                  {@code null} when there are more
     * @param firstMin  the flat index of the first element equal to {@code min} (−1 when unknown), so that an
     *                  error can say where a bad value is
     */
    record IntRange(int min, int max, java.util.Set<Integer> negatives, long firstMin) {
        /** How many distinct negative values are remembered before giving up. */
        public static final int TRACKED_NEGATIVES = 8;

        /** Copies {@code negatives}. */
        public IntRange {
            negatives = negatives == null ? null : java.util.Set.copyOf(negatives);
        }

        /**
         * {@return the range of {@code values}}
         *
         * @param values the values an I32 tensor holds, in flat order
         */
        public static IntRange of(int[] values) {
            int lo = Integer.MAX_VALUE;
            int hi = Integer.MIN_VALUE;
            long at = -1;
            java.util.Set<Integer> neg = new java.util.TreeSet<>();
            for (int i = 0; i < values.length; i++) {
                int v = values[i];
                if (v < lo) {
                    lo = v;
                    at = i;
                }
                hi = Math.max(hi, v);
                if (v < 0 && neg != null) {
                    neg.add(v);
                    if (neg.size() > TRACKED_NEGATIVES) {
                        neg = null;
                    }
                }
            }
            return new IntRange(lo, hi, neg, at);
        }

        /**
         * {@return the range of a tensor known to hold only {@code value}}
         *
         * @param value the value every element holds
         */
        public static IntRange constant(int value) {
            return new IntRange(value, value, value < 0 ? java.util.Set.of(value) : java.util.Set.of(), 0);
        }

        /**
         * {@return whether every value is in {@code [lo, hi]}}
         *
         * @param lo the smallest value allowed
         * @param hi the largest value allowed
         */
        public boolean within(int lo, int hi) {
            return min >= lo && max <= hi;
        }

        /**
         * {@return whether every value is in {@code [0, hi]} or equal to {@code marker} (a negative value)}
         *
         * @param hi     the largest value allowed
         * @param marker the one negative value allowed, such as an ignore index
         */
        public boolean withinOrMarker(int hi, int marker) {
            if (max > hi) {
                return false;
            }
            if (min >= 0) {
                return true;
            }
            return negatives != null && negatives.stream().allMatch(v -> v == marker);
        }
    }
}
