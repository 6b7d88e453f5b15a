package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One token shift of the suite: {@code x [B, S, C]} with features {@code [begin, begin + count)} moved
 * {@code amount} tokens, within documents given by segment ids (or each row one document), padding marked by a
 * negative id. The backward is the port's own (the same shift by {@code −amount}); the oracle's is the forward's
 * adjoint, so the suite checks that the two agree.
 *
 * <pre>{@code
 * TokenShiftConfig c = TokenShiftConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index    position among the token-shift configurations (part of the id)
 * @param batch    B
 * @param seq      S
 * @param cols     C
 * @param begin    first shifted feature
 * @param count    shifted features
 * @param amount   tokens moved (negative: backward)
 * @param segments how documents are marked
 * @param dtype    storage type
 * @param dataSeed seed of the inputs and of the document boundaries
 */
public record TokenShiftConfig(int index, int batch, int seq, int cols, int begin, int count, int amount,
                               Segments segments, DType dtype, long dataSeed) implements CaseConfig {

    /** How documents are given. */
    public enum Segments {
        /** No segment ids: each row is one document. */
        NONE,
        /** Segment ids: documents of random lengths, ids restarting in every row. */
        DOCUMENTS,
        /** As {@link #DOCUMENTS}, with a padded tail (negative ids) in every row and one padding token inside. */
        DOCUMENTS_WITH_PADDING
    }

    /**
     * Host data.
     *
     * @param x        the input
     * @param dy       the upstream gradient
     * @param segments the segment ids, {@code null} for {@link Segments#NONE}
     */
    public record Data(double[] x, double[] dy, int[] segments) {
    }

    /** Checks the feature range. */
    public TokenShiftConfig {
        if (batch < 1 || seq < 1 || cols < 1 || begin < 0 || count < 1 || begin + count > cols) {
            throw new IllegalArgumentException("bad sizes or feature range");
        }
    }

    /**
     * One token, shifts by 1, 2, −1, −3 and past the row's end, with and without documents and padding; one BF16
     * and one F16.
     *
     * @param seed the suite's seed (the configurations' data seeds are drawn from it)
     * @return the configurations
     */
    public static List<TokenShiftConfig> standard(long seed) {
        Random r = new Random(seed ^ 0x5417_F7L);
        Object[][] rows = {
                {1, 1, 1, 0, 1, 1, Segments.NONE, DType.F32},
                {2, 7, 4, 2, 2, 1, Segments.NONE, DType.F32},
                {2, 13, 10, 5, 5, 1, Segments.DOCUMENTS, DType.F32},
                {3, 17, 6, 0, 3, 2, Segments.DOCUMENTS_WITH_PADDING, DType.F32},
                {1, 31, 9, 4, 5, -1, Segments.DOCUMENTS_WITH_PADDING, DType.F32},
                {2, 11, 3, 1, 2, 13, Segments.NONE, DType.F32},
                {2, 9, 8, 0, 8, -3, Segments.DOCUMENTS, DType.F32},
                {1, 64, 16, 8, 8, 1, Segments.DOCUMENTS_WITH_PADDING, DType.F32},
                {2, 10, 6, 3, 3, 1, Segments.DOCUMENTS, DType.BF16},
                {1, 12, 5, 0, 5, 2, Segments.DOCUMENTS_WITH_PADDING, DType.F16},
        };
        List<TokenShiftConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Object[] c = rows[i];
            out.add(new TokenShiftConfig(i, (int) c[0], (int) c[1], (int) c[2], (int) c[3], (int) c[4], (int) c[5],
                    (Segments) c[6], (DType) c[7], r.nextLong()));
        }
        return out;
    }

    /** {@return {@code [B, S, C]}} */
    public Shape shape() {
        return Shape.of(batch, seq, cols);
    }

    /** {@return the ops: forward, then backward} */
    @Override
    public List<Op> ops() {
        return List.of(Op.TOKEN_SHIFT_FORWARD, Op.TOKEN_SHIFT_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return TokenShiftRunner.run(this, checked(op) == Op.TOKEN_SHIFT_BACKWARD, backend);
    }

    /** {@return A stable, readable id, e.g. {@code t003 b3 s17 c6 [0,3) by 2 documents+padding f32}} */
    @Override
    public String id() {
        String docs = switch (segments) {
            case NONE -> "rows";
            case DOCUMENTS -> "documents";
            case DOCUMENTS_WITH_PADDING -> "documents+padding";
        };
        return String.format("t%03d b%d s%d c%d [%d,%d) by %d %s %s", index, batch, seq, cols, begin, begin + count,
                amount, docs, Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        int n = batch * seq * cols;
        double[] x = Draw.gaussian(r, n, 1, store);
        double[] dy = Draw.gaussian(r, n, 1, store);
        if (segments == Segments.NONE) {
            return new Data(x, dy, null);
        }
        int[] ids = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            int doc = 0;
            for (int t = 0; t < seq; t++) {
                if (t > 0 && r.nextInt(4) == 0) {
                    doc++;
                }
                ids[b * seq + t] = doc;
            }
            if (segments == Segments.DOCUMENTS_WITH_PADDING) {
                int pad = Math.min(seq - 1, 1 + r.nextInt(Math.max(1, seq / 4)));
                for (int t = seq - pad; t < seq; t++) {
                    ids[b * seq + t] = -1;
                }
                if (seq > 3) {
                    // a lone padding token inside a document: neither gives nor receives
                    ids[b * seq + 1 + r.nextInt(seq - pad - 1 > 0 ? seq - pad - 1 : 1)] = -1;
                }
            }
        }
        return new Data(x, dy, ids);
    }
}
