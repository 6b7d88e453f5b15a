package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.Arrays;

/**
 * The relative-position bias table of docs/design.md §4: {@code T} of shape {@code [H, Sq + Sk - 1]}, read by the
 * attention port as {@code s += T[h][j - (i + off) + (Sk - 1)]} with {@code off = Sk - Sq}; index 0 is
 * the farthest key to the left, index {@code Sk - 1} the diagonal.
 *
 * <pre>{@code
 * RelativeBiasTable table = RelativeBiasTable.of(Alibi.of(heads), seqQ, seqK);
 * try (DeviceTensor t = table.upload(backend.tensors())) {
 *     var options = AttentionOptions.builder().biasTable(t).build();
 * }
 * }</pre>
 *
 * @param data  row-major {@code [H, Sq + Sk - 1]}
 * @param heads H
 * @param seqQ  Sq
 * @param seqK  Sk
 */
public record RelativeBiasTable(float[] data, int heads, int seqQ, int seqK) {

    /** Validates sizes and copies {@code data}. */
    public RelativeBiasTable {
        InvalidRequestException.check(heads >= 1, "heads", ">= 1", heads);
        InvalidRequestException.check(seqQ >= 1, "seqQ", ">= 1", seqQ);
        InvalidRequestException.check(seqK >= 1, "seqK", ">= 1", seqK);
        if (data == null) {
            throw new InvalidRequestException("data", "a float array", "null");
        }
        long expected = (long) heads * (seqQ + seqK - 1);
        InvalidRequestException.check(data.length == expected, "data",
                expected + " values (H·(Sq + Sk - 1))", data.length);
        data = data.clone();
    }

    /**
     * Tabulates {@code scheme} for every head and every relative position {@code [-(Sq - 1) - off, Sk - 1 - off]}.
     *
     * @param scheme the position scheme
     * @param seqQ Sq
     * @param seqK Sk
     * @return the table
     */
    public static RelativeBiasTable of(RelativeBias scheme, int seqQ, int seqK) {
        InvalidRequestException.check(seqQ >= 1, "seqQ", ">= 1", seqQ);
        InvalidRequestException.check(seqK >= 1, "seqK", ">= 1", seqK);
        int width = seqQ + seqK - 1;
        int heads = scheme.heads();
        float[] out = new float[Math.multiplyExact(heads, width)];
        for (int h = 0; h < heads; h++) {
            for (int r = 0; r < width; r++) {
                out[h * width + r] = (float) scheme.bias(h, relative(r, seqK));
            }
        }
        return new RelativeBiasTable(out, heads, seqQ, seqK);
    }

    /**
     * {@return the column of the table that query row {@code i} and key {@code j} read: {@code j - (i + off) + (Sk - 1)}}
     *
     * @param i query row index
     * @param j key column index
     * @param seqQ Sq
     * @param seqK Sk
     */
    public static int index(int i, int j, int seqQ, int seqK) {
        return j - (i + (seqK - seqQ)) + (seqK - 1);
    }

    /**
     * {@return the relative position {@code j - (i + off)} that table column {@code index} holds}
     *
     * @param index the index
     * @param seqK Sk
     */
    public static int relative(int index, int seqK) {
        return index - (seqK - 1);
    }

    /**
     * {@return the bias of head {@code h} for query row {@code i} and key {@code j}}
     *
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public float bias(int h, int i, int j) {
        return data[h * (seqQ + seqK - 1) + index(i, j, seqQ, seqK)];
    }

    /** {@return a copy of the values} */
    @Override
    public float[] data() {
        return data.clone();
    }

    /** {@return the tensor shape {@code [H, Sq + Sk - 1]}} */
    public Shape shape() {
        return Shape.of(heads, seqQ + seqK - 1);
    }

    /**
     * Uploads as an F32 tensor for {@code AttentionOptions.biasTable}.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor upload(TensorPort tensors) {
        return tensors.upload(data, shape(), DType.F32);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RelativeBiasTable t && heads == t.heads && seqQ == t.seqQ && seqK == t.seqK
                && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + heads * 7 + seqQ * 3 + seqK;
    }

    @Override
    public String toString() {
        return "RelativeBiasTable" + shape();
    }
}
