package dev.attn4j.domain.data;

import dev.attn4j.domain.masks.FlashMask;
import dev.attn4j.domain.masks.FlashMasks;
import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;

/**
 * One row of {@code L = maxLength} tokens holding one or more whole documents one after another, then
 * padding. Each document keeps its own labels except at its first position, which is −100 (no token
 * before it in the same document predicts it), its positions restart at 0, and the
 * {@link #causalDocumentMask() causal document mask} keeps it from attending to the others. Padding has
 * {@code padId}, label −100 and position 0, and attends to nothing.
 *
 * <pre>{@code
 * PackedRow row = packed.rows().get(0);
 * FlashMask mask = row.causalDocumentMask();           // FlashMasks.causalDocument(L, docLengths...)
 * int[] targets = Labels.nextTokenTargets(row.labels());
 * }</pre>
 *
 * @param inputIds   {@code [L]}
 * @param labels     {@code [L]}, aligned with the ids ({@link Example})
 * @param positions  {@code [L]}, the position of each token within its document
 * @param docLengths the documents' lengths in order, at least one, summing to at most L
 * @param examples   the index of each document in the list given to the packer (same order)
 */
public record PackedRow(int[] inputIds, int[] labels, int[] positions, int[] docLengths, int[] examples) {

    /** Validates that the arrays agree and copies them. */
    public PackedRow {
        InvalidRequestException.check(inputIds != null && inputIds.length >= 1, "inputIds", "at least one id",
                inputIds == null ? "null" : 0);
        int length = inputIds.length;
        InvalidRequestException.check(labels != null && labels.length == length, "labels", length + " labels",
                labels == null ? "null" : labels.length);
        InvalidRequestException.check(positions != null && positions.length == length, "positions",
                length + " positions", positions == null ? "null" : positions.length);
        InvalidRequestException.check(docLengths != null && docLengths.length >= 1, "docLengths", "at least one document",
                docLengths == null ? "null" : 0);
        InvalidRequestException.check(examples != null && examples.length == docLengths.length, "examples",
                docLengths.length + " example indices (one per document)", examples == null ? "null" : examples.length);
        long sum = 0;
        for (int d : docLengths) {
            InvalidRequestException.check(d >= 1, "docLengths", "lengths >= 1", Arrays.toString(docLengths));
            sum += d;
        }
        InvalidRequestException.check(sum <= length, "docLengths", "lengths summing to at most " + length, sum);
        inputIds = inputIds.clone();
        labels = labels.clone();
        positions = positions.clone();
        docLengths = docLengths.clone();
        examples = examples.clone();
    }

    /** {@return L, the row's length in tokens (padding included)} */
    public int length() {
        return inputIds.length;
    }

    /** {@return the real (non-padding) tokens: the sum of the document lengths} */
    public int tokens() {
        int n = 0;
        for (int d : docLengths) {
            n += d;
        }
        return n;
    }

    /** {@return padding positions, {@code length() - tokens()}} */
    public int padTokens() {
        return length() - tokens();
    }

    /**
     * The attention mask: each document attends causally to itself only, padding to nothing; batch 1,
     * one mask head, {@code causal=true} (DESIGN §4).
     *
     * @return the mask, for the attention port's FlashMask option
     */
    public FlashMask causalDocumentMask() {
        return FlashMasks.causalDocument(length(), docLengths);
    }

    /** {@return the next-token targets of this row ({@link Labels#nextTokenTargets(int[])})} */
    public int[] nextTokenTargets() {
        return Labels.nextTokenTargets(labels);
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

    /** {@return a copy of the positions} */
    @Override
    public int[] positions() {
        return positions.clone();
    }

    /** {@return a copy of the document lengths} */
    @Override
    public int[] docLengths() {
        return docLengths.clone();
    }

    /** {@return a copy of the example indices} */
    @Override
    public int[] examples() {
        return examples.clone();
    }

    /** Package-private, no copy, for batching: 0 the ids, 1 the labels, 2 the positions. */
    int[] view(int which) {
        return switch (which) {
            case 0 -> inputIds;
            case 1 -> labels;
            default -> positions;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PackedRow r && Arrays.equals(inputIds, r.inputIds) && Arrays.equals(labels, r.labels)
                && Arrays.equals(positions, r.positions) && Arrays.equals(docLengths, r.docLengths)
                && Arrays.equals(examples, r.examples);
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(inputIds);
        h = 31 * h + Arrays.hashCode(labels);
        h = 31 * h + Arrays.hashCode(positions);
        h = 31 * h + Arrays.hashCode(docLengths);
        return 31 * h + Arrays.hashCode(examples);
    }

    @Override
    public String toString() {
        return "PackedRow(L=" + length() + ", docs=" + Arrays.toString(docLengths) + ", examples="
                + Arrays.toString(examples) + ")";
    }
}
