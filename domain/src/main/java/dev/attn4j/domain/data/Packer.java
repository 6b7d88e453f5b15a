package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.RandomAccess;

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
 * {@link PackingOptions#sortGroups()} is an addition, off by default: each greedy group placed longest
 * first, which packs much tighter.
 *
 * <p>PaddleNLP leaves out examples longer than {@code maxLength} before either rule (so they do not count in
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
     * Rows and what it took to make them. The rows are built when read ({@link #rows()} is a lazy list):
     * only the plan (which examples go into which row) is kept, so a large dataset does not hold
     * {@code rows · maxLength} ids, labels and positions in memory at once.
     *
     * <pre>{@code
     * Packer.Packed p = Packer.pack(examples, options);
     * double pad = p.stats().padRatio();
     * PackedRow first = p.rows().get(0);
     * }</pre>
     */
    public static final class Packed {
        private final RowList rows;
        private final PackingStats stats;
        private final PackingOptions options;

        private Packed(RowList rows, PackingStats stats, PackingOptions options) {
            this.rows = rows;
            this.stats = stats;
            this.options = options;
        }

        /**
         * {@return the rows, in the order the rule produces them; an unmodifiable list that builds each row on access}
         */
        public List<PackedRow> rows() {
            return rows;
        }

        /** {@return counts and the pad ratio} */
        public PackingStats stats() {
            return stats;
        }

        /** {@return the options used} */
        public PackingOptions options() {
            return options;
        }

        @Override
        public String toString() {
            return "Packed(" + stats + ")";
        }
    }

    /**
     * The rows of a packing, built on access from the plan. {@link DataLoader} recognises it to fingerprint
     * the plan and the examples' tokens instead of building every row.
     */
    static final class RowList extends AbstractList<PackedRow> implements RandomAccess {
        private final List<Example> kept;
        private final int[] index;
        private final List<int[]> plan;
        private final int maxLength;
        private final int padId;

        RowList(List<Example> kept, int[] index, List<int[]> plan, int maxLength, int padId) {
            this.kept = kept;
            this.index = index;
            this.plan = plan;
            this.maxLength = maxLength;
            this.padId = padId;
        }

        @Override
        public PackedRow get(int i) {
            return row(kept, index, plan.get(i), maxLength, padId);
        }

        @Override
        public int size() {
            return plan.size();
        }

        /** {@link DataLoader#foldRow} over every row, from the plan and the examples. */
        long fold(long h) {
            for (int[] members : plan) {
                for (int m : members) {
                    for (int id : kept.get(m).view(true)) {
                        h = DataLoader.step(h, id);
                    }
                }
                for (int m : members) {
                    int[] labels = kept.get(m).view(false);
                    // In the row a document's first label is -100.
                    h = DataLoader.step(h, Labels.IGNORE_INDEX);
                    for (int t = 1; t < labels.length; t++) {
                        h = DataLoader.step(h, labels[t]);
                    }
                }
                for (int m : members) {
                    h = DataLoader.step(h, kept.get(m).length());
                }
                h = DataLoader.mix(h);
            }
            return h;
        }
    }

    /**
     * Packs {@code examples} (in this order) as {@code options} say.
     *
     * @param examples the examples, in file order
     * @param options how to pack them
     * @return the rows (built on access) and their counts
     */
    public static Packed pack(List<Example> examples, PackingOptions options) {
        InvalidRequestException.check(examples != null, "examples", "a list", "null");
        InvalidRequestException.check(options != null, "options", "packing options", "null");
        int maxLength = options.maxLength();
        // Overlong examples are dealt with first, as PaddleNLP skips them before packing.
        List<Example> kept = new ArrayList<>(examples.size());
        int[] index = new int[examples.size()];
        int truncated = 0;
        int skipped = 0;
        long truncatedTokens = 0;
        long tokens = 0;
        long trained = 0;
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
            index[kept.size()] = k;
            kept.add(e);
            tokens += e.length();
            // In a row the document's first label becomes -100.
            int[] labels = e.view(false);
            trained += Labels.countTrained(labels) - (labels[0] != Labels.IGNORE_INDEX ? 1 : 0);
        }
        int[] lengths = new int[kept.size()];
        for (int k = 0; k < lengths.length; k++) {
            lengths[k] = kept.get(k).length();
        }
        List<int[]> plan = switch (options.packing()) {
            case NONE -> none(lengths.length);
            case ZERO_PADDING -> nextFit(lengths, maxLength);
            case GREEDY_ZERO_PADDING -> greedy(lengths, maxLength, options.groupSize(), options.sortGroups());
        };
        RowList rows = new RowList(List.copyOf(kept), Arrays.copyOf(index, kept.size()), List.copyOf(plan),
                maxLength, options.padId());
        PackingStats stats = new PackingStats(examples.size(), kept.size(), truncated, truncatedTokens, skipped,
                plan.size(), maxLength, tokens, trained);
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
    static List<int[]> greedy(int[] lengths, int maxLength, int groupSize, boolean sortGroups) {
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < lengths.length; from += groupSize) {
            int to = Math.min(lengths.length, from + groupSize);
            int[] order = range(from, to);
            if (sortGroups) {
                // Longest first, ties in file order (a stable sort of boxed indices).
                order = Arrays.stream(order).boxed()
                        .sorted((a, b) -> Integer.compare(lengths[b], lengths[a]))
                        .mapToInt(Integer::intValue).toArray();
            }
            List<List<Integer>> packs = new ArrayList<>();
            // Entries are {room, pack index}; room is the sort key, the index breaks ties.
            PriorityQueue<int[]> open = new PriorityQueue<>((a, b) -> a[0] != b[0]
                    ? Integer.compare(b[0], a[0]) : Integer.compare(a[1], b[1]));
            packs.add(new ArrayList<>());
            open.add(new int[] {maxLength, 0});
            for (int k : order) {
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

    private static PackedRow row(List<Example> kept, int[] index, int[] members, int maxLength, int padId) {
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
            sources[d] = index[members[d]];
            at += n;
        }
        Arrays.fill(ids, at, maxLength, padId);
        Arrays.fill(labels, at, maxLength, Labels.IGNORE_INDEX);
        // Padding positions stay 0: any valid position works, as padding attends to nothing.
        return new PackedRow(ids, labels, positions, docLengths, sources);
    }
}
