package dev.attn4j.domain.masks;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.attention.FlashMaskForm;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.Arrays;
import java.util.List;

/**
 * A FlashMask {@code startend_row_indices} tensor, int32 {@code [B, Hm, Sk, n]}, together with the
 * {@code causal} flag it must be used with (docs/design.md §4). Memory is O(B·Hm·Sk), never O(Sq·Sk).
 *
 * <p>For column (key) {@code j} of batch {@code b} and mask head {@code h}, with the values
 * {@code r0..r(n-1)} stored at {@code [b, h, j, :]}, query row {@code i} is masked when:
 * <ul>
 *   <li>{@code causal}, n = 1 ({@code [LTS]}): {@code i >= LTS};</li>
 *   <li>{@code causal}, n = 2 ({@code [LTS, LTE]}): {@code LTS <= i < LTE};</li>
 *   <li>not causal, n = 2 ({@code [LTS, UTE]}): {@code i >= LTS} or {@code i < UTE};</li>
 *   <li>not causal, n = 4 ({@code [LTS, LTE, UTS, UTE]}): {@code LTS <= i < LTE} or {@code UTS <= i < UTE};</li>
 * </ul>
 * and, when {@code causal}, also when {@code j > i + (Sk - Sq)} (bottom-right aligned). Values above
 * {@code Sq} act as {@code Sq}; negative values are rejected.
 *
 * <pre>{@code
 * FlashMask mask = FlashMasks.causalDocument(4096, 1000, 2000, 1096).repeatBatch(batch);
 * try (DeviceTensor indices = mask.upload(backend.tensors())) {
 *     var options = AttentionOptions.builder().causal(mask.causal()).flashMask(indices).build();
 *     ...
 * }
 * }</pre>
 *
 * @param data   the indices, row-major {@code [B, Hm, Sk, n]}
 * @param batch  B
 * @param heads  Hm, the mask heads (query head {@code h} uses mask head {@code h / (H / Hm)})
 * @param seqQ   Sq, the query rows the indices count
 * @param seqK   Sk, the key columns
 * @param n      values per column: 1, 2 or 4
 * @param causal whether the attention call must set {@code causal=true}
 */
public record FlashMask(int[] data, int batch, int heads, int seqQ, int seqK, int n, boolean causal) {

    /** Validates sizes, the {@code (causal, n)} pair and that no value is negative; copies {@code data}. */
    public FlashMask {
        InvalidRequestException.check(batch >= 1, "batch", ">= 1", batch);
        InvalidRequestException.check(heads >= 1, "heads", ">= 1", heads);
        InvalidRequestException.check(seqQ >= 1, "seqQ", ">= 1", seqQ);
        InvalidRequestException.check(seqK >= 1, "seqK", ">= 1", seqK);
        FlashMaskForm.require("n", causal, n);   // the (causal, n) rule lives in ports, next to the attention port's
        if (data == null) {
            throw new InvalidRequestException("data", "an int array", "null");
        }
        long expected = (long) batch * heads * seqK * n;
        InvalidRequestException.check(data.length == expected, "data",
                expected + " values (B·Hm·Sk·n = " + batch + "·" + heads + "·" + seqK + "·" + n + ")", data.length);
        data = data.clone();
        for (int k = 0; k < data.length; k++) {
            if (data[k] < 0) {
                int c = k % n;
                int j = (k / n) % seqK;
                throw new InvalidRequestException("data", "row indices >= 0",
                        data[k] + " at column " + j + ", value " + c);
            }
        }
    }

    /** {@return a copy of the indices, row-major {@code [B, Hm, Sk, n]}} */
    @Override
    public int[] data() {
        return data.clone();
    }

    /** {@return the tensor shape {@code [B, Hm, Sk, n]}} */
    public Shape shape() {
        return Shape.of(batch, heads, seqK, n);
    }

    /**
     * Uploads the indices as an {@code I32} tensor of {@link #shape()}.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor upload(TensorPort tensors) {
        return tensors.uploadInts(data, shape());
    }

    /**
     * {@return the value {@code c} of column {@code j} for batch {@code b} and mask head {@code h}}
     *
     * @param b batch index
     * @param h head index
     * @param j key column index
     * @param c the cap
     */
    public int value(int b, int h, int j, int c) {
        return data[offset(b, h, j) + c];
    }

    /**
     * {@return whether query row {@code i} may attend to key {@code j} in batch {@code b}, mask head {@code h}}
     *
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public boolean allows(int b, int h, int i, int j) {
        if (causal && j > i + (seqK - seqQ)) {
            return false;
        }
        // Values above Sq behave as Sq, and since i < Sq the form's comparisons need no clamp.
        return !form().masks(i, data, offset(b, h, j));
    }

    /** {@return which of FlashMask's four forms the mask is in (its {@code (causal, n)} pair)} */
    public FlashMaskForm form() {
        return FlashMaskForm.of(causal, n).orElseThrow();
    }

    /** {@return the same mask as a dense boolean mask {@code [B, Hm, Sq, Sk]} (O(S²): for tests and the escape hatch)} */
    public DenseMask toDense() {
        return DenseMask.of(batch, heads, seqQ, seqK, this::allows);
    }

    /**
     * {@return this mask (which must have batch 1) repeated for {@code count} batch entries}
     *
     * @param count the count
     */
    public FlashMask repeatBatch(int count) {
        InvalidRequestException.check(count >= 1, "count", ">= 1", count);
        InvalidRequestException.check(batch == 1, "batch", "1 to repeat", batch);
        int[] out = new int[Math.multiplyExact(count, data.length)];
        for (int b = 0; b < count; b++) {
            System.arraycopy(data, 0, out, b * data.length, data.length);
        }
        return new FlashMask(out, count, heads, seqQ, seqK, n, causal);
    }

    /**
     * Stacks masks along the batch axis; all must agree in heads, sizes, {@code n} and {@code causal}.
     *
     * @param masks the masks, in order
     * @return the stacked mask
     */
    public static FlashMask concatBatch(List<FlashMask> masks) {
        FlashMask first = requireCompatible(masks, false);
        int total = 0;
        for (FlashMask m : masks) {
            total += m.batch;
        }
        int[] out = new int[Math.multiplyExact(total, first.heads * first.seqK * first.n)];
        int at = 0;
        for (FlashMask m : masks) {
            System.arraycopy(m.data, 0, out, at, m.data.length);
            at += m.data.length;
        }
        return new FlashMask(out, total, first.heads, first.seqQ, first.seqK, first.n, first.causal);
    }

    /**
     * Stacks masks along the head axis (one mask per head group); all must agree in everything else.
     *
     * @param masks the masks, in order
     * @return the stacked mask
     */
    public static FlashMask concatHeads(List<FlashMask> masks) {
        FlashMask first = requireCompatible(masks, true);
        int total = 0;
        for (FlashMask m : masks) {
            total += m.heads;
        }
        int column = first.seqK * first.n;
        int[] out = new int[Math.multiplyExact(first.batch, total * column)];
        int at = 0;
        for (int b = 0; b < first.batch; b++) {
            for (FlashMask m : masks) {
                int len = m.heads * column;
                System.arraycopy(m.data, b * len, out, at, len);
                at += len;
            }
        }
        return new FlashMask(out, first.batch, total, first.seqQ, first.seqK, first.n, first.causal);
    }

    private static FlashMask requireCompatible(List<FlashMask> masks, boolean sameBatch) {
        InvalidRequestException.check(masks != null && !masks.isEmpty(), "masks", "at least one mask", masks);
        FlashMask first = masks.getFirst();
        for (int k = 1; k < masks.size(); k++) {
            FlashMask m = masks.get(k);
            boolean ok = m.seqQ == first.seqQ && m.seqK == first.seqK && m.n == first.n && m.causal == first.causal
                    && (sameBatch ? m.batch == first.batch : m.heads == first.heads);
            InvalidRequestException.check(ok, "masks[" + k + "]", "the layout of masks[0] " + first.describe(),
                    m.describe());
        }
        return first;
    }

    private int offset(int b, int h, int j) {
        return ((b * heads + h) * seqK + j) * n;
    }

    private String describe() {
        return "(B=" + batch + ", Hm=" + heads + ", Sq=" + seqQ + ", Sk=" + seqK + ", n=" + n + ", causal=" + causal + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlashMask m && batch == m.batch && heads == m.heads && seqQ == m.seqQ && seqK == m.seqK
                && n == m.n && causal == m.causal && Arrays.equals(data, m.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(data) + describe().hashCode();
    }

    @Override
    public String toString() {
        return "FlashMask" + describe();
    }
}
