package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Lays examples into rows of {@code maxLength} tokens ({@link PackedRow}) by one of three rules
 * ({@link Packing}), deterministically: the same examples in the same order give the same rows.
 *
 * <p>The two packing rules follow PaddleNLP ({@code paddlenlp/datasets/zero_padding_dataset.py},
 * {@code ZeroPaddingMapDataset._create_zero_padding_data} and {@code generate_greedy_packs}):
 * <ul>
 *   <li>{@link Packing#ZERO_PADDING}, next-fit: the examples in order go into the current row while they
 *       fit ({@code used + length <= maxLength}); one that does not fit closes the row and starts the next.
 *       Rows come out in order.</li>
 *   <li>{@link Packing#GREEDY_ZERO_PADDING}: the examples are cut, in order, into groups of
 *       {@code groupSize} (500 in PaddleNLP). Within a group nothing is sorted: each example in order goes
 *       into the row with the most room left, ties going to the row opened first (numpy's {@code argmax}
 *       returns the first maximum); when even that row is too small a new row is opened (which then has
 *       the most room) and the example goes there. Every row of a group stays open until the group ends.
 *       The group's rows come out in the order they were opened, the examples in each row in the order
 *       they were placed, and the groups one after another.</li>
 * </ul>
 * PaddleNLP leaves out examples longer than {@code maxLength} before either rule (so they do not count in
 * a group); here {@link OverlongPolicy} chooses between that and truncation, which happens at the same
 * point, so a truncated example takes its place in a group like any other.
 *
 * <p>PaddleNLP returns packs of variable length and leaves padding to the collator; here every row is
 * padded to {@code maxLength}, so that the pad ratio is {@code padding / (rows · maxLength)}.
 *
 * <pre>{@code
 * Packer.Packed packed = Packer.pack(data.examples(), PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 2048).padId(tok));
 * System.out.println(packed.stats());     // rows, pad ratio, truncated, skipped
 * }</pre>
 */
public final class Packer {

    private Packer() {
    }

    /**
     * Rows and what it took to make them.
     *
     * <pre>{@code
     * Packer.Packed p = Packer.pack(examples, options);
     * double pad = p.stats().padRatio();
     * }</pre>
     *
     * @param rows    the rows, in the order the rule produces them
     * @param stats   counts and the pad ratio
     * @param options the options used
     */
    public record Packed(List<PackedRow> rows, PackingStats stats, PackingOptions options) {
        /** Copies the list. */
        public Packed {
            rows = List.copyOf(rows);
        }
    }

    /** Packs {@code examples} (in this order) as {@code options} say. */
    public static Packed pack(List<Example> examples, PackingOptions options) {
        InvalidRequestException.check(examples != null, "examples", "a list", "null");
        InvalidRequestException.check(options != null, "options", "packing options", "null");
        int maxLength = options.maxLength();
        // Overlong examples are dealt with first, as PaddleNLP skips them before packing.
        List<Example> kept = new ArrayList<>(examples.size());
        List<Integer> index = new ArrayList<>(examples.size());
        int truncated = 0;
        int skipped = 0;
        long truncatedTokens = 0;
        for (int k = 0; k < examples.size(); k++) {
            Example e = examples.get(k);
            InvalidRequestException.check(e != null, "examples[" + k + "]", "an example", "null");
            if (e.length() > maxLength) {
                if (options.overlong() == OverlongPolicy.SKIP) {
                    skipped++;
                    continue;
                }
                truncated++;
                truncatedTokens += e.length() - maxLength;
                e = e.truncate(maxLength);
            }
            kept.add(e);
            index.add(k);
        }
        int[] lengths = new int[kept.size()];
        for (int k = 0; k < lengths.length; k++) {
            lengths[k] = kept.get(k).length();
        }
        List<int[]> groups = switch (options.packing()) {
            case NONE -> none(lengths.length);
            case ZERO_PADDING -> nextFit(lengths, maxLength);
            case GREEDY_ZERO_PADDING -> greedy(lengths, maxLength, options.groupSize());
        };
        List<PackedRow> rows = new ArrayList<>(groups.size());
        long tokens = 0;
        long trained = 0;
        for (int[] members : groups) {
            PackedRow row = row(kept, index, members, maxLength, options.padId());
            rows.add(row);
            tokens += row.tokens();
            trained += Labels.countTrained(row.labels());
        }
        PackingStats stats = new PackingStats(examples.size(), kept.size(), truncated, truncatedTokens, skipped,
                rows.size(), maxLength, tokens, trained);
        return new Packed(rows, stats, options);
    }

    /** One example per row. */
    static List<int[]> none(int count) {
        List<int[]> out = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            out.add(new int[] {k});
        }
        return out;
    }

    /** Next-fit: the rows as lists of indices into {@code lengths}, each length at most {@code maxLength}. */
    static List<int[]> nextFit(int[] lengths, int maxLength) {
        List<int[]> out = new ArrayList<>();
        int start = 0;
        long used = 0;
        for (int k = 0; k < lengths.length; k++) {
            if (used + lengths[k] > maxLength) {
                out.add(range(start, k));
                start = k;
                used = 0;
            }
            used += lengths[k];
        }
        if (start < lengths.length) {
            out.add(range(start, lengths.length));
        }
        return out;
    }

    /**
     * PaddleNLP's grouped greedy packing. A heap ordered by (room left, descending; opening order,
     * ascending) finds the same row as numpy's {@code argmax} over the rooms in O(log rows).
     */
    static List<int[]> greedy(int[] lengths, int maxLength, int groupSize) {
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < lengths.length; from += groupSize) {
            int to = Math.min(lengths.length, from + groupSize);
            List<List<Integer>> packs = new ArrayList<>();
            // Entries are {room, pack index}; room is the sort key, the index breaks ties.
            PriorityQueue<int[]> open = new PriorityQueue<>((a, b) -> a[0] != b[0]
                    ? Integer.compare(b[0], a[0]) : Integer.compare(a[1], b[1]));
            packs.add(new ArrayList<>());
            open.add(new int[] {maxLength, 0});
            for (int k = from; k < to; k++) {
                int[] best = open.peek();
                if (lengths[k] > best[0]) {
                    // No open row has room: open a new one; it now has the most room.
                    best = new int[] {maxLength, packs.size()};
                    packs.add(new ArrayList<>());
                } else {
                    open.poll();
                }
                packs.get(best[1]).add(k);
                best[0] -= lengths[k];
                open.add(best);
            }
            for (List<Integer> pack : packs) {
                out.add(pack.stream().mapToInt(Integer::intValue).toArray());
            }
        }
        return out;
    }

    private static int[] range(int from, int to) {
        int[] out = new int[to - from];
        for (int k = 0; k < out.length; k++) {
            out[k] = from + k;
        }
        return out;
    }

    private static PackedRow row(List<Example> kept, List<Integer> index, int[] members, int maxLength, int padId) {
        int[] ids = new int[maxLength];
        int[] labels = new int[maxLength];
        int[] positions = new int[maxLength];
        int[] docLengths = new int[members.length];
        int[] sources = new int[members.length];
        int at = 0;
        for (int d = 0; d < members.length; d++) {
            Example e = kept.get(members[d]);
            int n = e.length();
            e.copyInto(ids, labels, at);
            // The first token of a document is predicted by nothing in its own document.
            labels[at] = Labels.IGNORE_INDEX;
            for (int t = 0; t < n; t++) {
                positions[at + t] = t;
            }
            docLengths[d] = n;
            sources[d] = index.get(members[d]);
            at += n;
        }
        Arrays.fill(ids, at, maxLength, padId);
        Arrays.fill(labels, at, maxLength, Labels.IGNORE_INDEX);
        // Padding positions stay 0: any valid position works, as padding attends to nothing.
        return new PackedRow(ids, labels, positions, docLengths, sources);
    }
}
