package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;

/**
 * One training document as token ids, before packing: {@code inputIds [n]} and {@code labels [n]} aligned
 * with them in Hugging Face's convention: {@code labels[t]} is the token at {@code t} when position
 * {@code t} is trained (the loss compares {@code logits[t-1]} with {@code labels[t]}), and
 * {@link Labels#IGNORE_INDEX} (−100) where it is not (a prompt, a {@code bos}). {@link Labels#nextTokenTargets}
 * turns them into the targets aligned with the logits.
 *
 * <pre>{@code
 * // "ab" -> "c": loss on the target and the eos only
 * Example e = new Example(new int[] {97, 98, 99, 256}, new int[] {-100, -100, 99, 256}, "train.jsonl:3");
 * }</pre>
 *
 * @param inputIds the ids, at least one, each {@code >= 0}
 * @param labels   the same length; each {@code >= 0} or −100
 * @param source   where it came from, for messages ({@code file:line}), or {@code ""}
 */
public record Example(int[] inputIds, int[] labels, String source) {

    /** Validates lengths and values and copies the arrays. */
    public Example {
        InvalidRequestException.check(inputIds != null && inputIds.length >= 1, "inputIds", "at least one id",
                inputIds == null ? "null" : "none");
        InvalidRequestException.check(labels != null && labels.length == inputIds.length, "labels",
                inputIds.length + " labels (one per input id)", labels == null ? "null" : labels.length);
        inputIds = inputIds.clone();
        labels = labels.clone();
        for (int t = 0; t < inputIds.length; t++) {
            InvalidRequestException.check(inputIds[t] >= 0, "inputIds[" + t + "]", "an id >= 0", inputIds[t]);
            InvalidRequestException.check(labels[t] >= 0 || labels[t] == Labels.IGNORE_INDEX, "labels[" + t + "]",
                    "an id >= 0 or -100", labels[t]);
        }
        source = source == null ? "" : source;
    }

    /**
     * A causal-LM example: every token is a label.
     *
     * @param inputIds the token ids, at least one
     * @return the example, with the ids as labels and no source
     */
    public static Example causal(int... inputIds) {
        return new Example(inputIds, inputIds, "");
    }

    /** {@return a copy of the ids} */
    @Override
    public int[] inputIds() {
        return inputIds.clone();
    }

    /** {@return a copy of the labels} */
    @Override
    public int[] labels() {
        return labels.clone();
    }

    /** {@return the number of tokens} */
    public int length() {
        return inputIds.length;
    }

    /**
     * The first {@code length} tokens (and labels) of this example.
     *
     * @param length the tokens to keep, {@code 1 <= length <= length()}
     * @return this example when nothing is cut, else a shorter copy
     */
    public Example truncate(int length) {
        InvalidRequestException.check(length >= 1 && length <= inputIds.length, "length",
                "in [1, " + inputIds.length + "]", length);
        return length == inputIds.length ? this
                : new Example(Arrays.copyOf(inputIds, length), Arrays.copyOf(labels, length), source);
    }

    /** Package-private, no copy, for the packer: the ids, or the labels. */
    int[] view(boolean ids) {
        return ids ? inputIds : labels;
    }

    // Package-private, no copy: for the packer's inner loop.
    void copyInto(int[] ids, int[] lab, int at) {
        System.arraycopy(inputIds, 0, ids, at, inputIds.length);
        System.arraycopy(labels, 0, lab, at, labels.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && Arrays.equals(inputIds, e.inputIds) && Arrays.equals(labels, e.labels)
                && source.equals(e.source);
    }

    @Override
    public int hashCode() {
        return (31 * Arrays.hashCode(inputIds) + Arrays.hashCode(labels)) * 31 + source.hashCode();
    }

    @Override
    public String toString() {
        return "Example(" + inputIds.length + " tokens" + (source.isEmpty() ? "" : ", " + source) + ")";
    }
}
