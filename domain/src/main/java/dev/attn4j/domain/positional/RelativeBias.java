package dev.attn4j.domain.positional;

/**
 * A position scheme whose bias depends only on the head and the relative position
 * {@code r = j - (i + off)} of key {@code j} to query row {@code i} ({@code off = Sk - Sq}, docs/design.md §4):
 * negative {@code r} is a key to the left. Tabulated by {@link RelativeBiasTable#of} into the
 * {@code [H, Sq + Sk - 1]} table the attention port adds to the scores.
 *
 * <pre>{@code
 * RelativeBias kerple = Kerple.of(new float[] {1f, 2f}, new float[] {0.5f, 0.25f});
 * RelativeBiasTable table = RelativeBiasTable.of(kerple, seqQ, seqK);
 * }</pre>
 */
public interface RelativeBias {

    /** {@return number of heads the scheme defines a bias for} */
    int heads();

    /**
     * {@return the bias of head {@code head} at relative position {@code relative = j - (i + off)}}
     *
     * @param head head index
     * @param relative the relative position j - (i + Sk - Sq)
     */
    double bias(int head, int relative);
}
