package dev.attn4j.domain.masks;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.Arrays;

/**
 * A dense boolean mask {@code [B|1, H|1, Sq, Sk]}, {@code true} = may attend: the O(S²) escape hatch for
 * patterns no {@link FlashMask} expresses, and the form tests compare masks in. It also converts to the
 * other escape hatch, a dense additive bias (0 where allowed, −∞ where masked).
 *
 * <pre>{@code
 * DenseMask mask = DenseMask.of(1, 1, sq, sk, (b, h, i, j) -> (i ^ j) % 3 != 0);
 * try (DeviceTensor t = mask.upload(backend.tensors())) {
 *     var options = AttentionOptions.builder().denseMask(t).build();
 * }
 * }</pre>
 *
 * @param data  row-major {@code [B, H, Sq, Sk]}
 * @param batch B (1 broadcasts)
 * @param heads H (1 broadcasts)
 * @param seqQ  Sq
 * @param seqK  Sk
 */
public record DenseMask(boolean[] data, int batch, int heads, int seqQ, int seqK) {

    /**
     * Says whether query row {@code i} may attend to key {@code j}.
     *
     * <pre>{@code
     * DenseMask.Rule stride = (b, h, i, j) -> j <= i && (i - j) % 4 == 0;
     * }</pre>
     */
    @FunctionalInterface
    public interface Rule {
        /**
         * {@return {@code true} when {@code (i, j)} of batch {@code b}, head {@code h} is allowed}
         *
         * @param b batch index
         * @param h head index
         * @param i query row index
         * @param j key column index
         */
        boolean allows(int b, int h, int i, int j);
    }

    /** Validates sizes and copies {@code data}. */
    public DenseMask {
        InvalidRequestException.check(batch >= 1, "batch", ">= 1", batch);
        InvalidRequestException.check(heads >= 1, "heads", ">= 1", heads);
        InvalidRequestException.check(seqQ >= 1, "seqQ", ">= 1", seqQ);
        InvalidRequestException.check(seqK >= 1, "seqK", ">= 1", seqK);
        if (data == null) {
            throw new InvalidRequestException("data", "a boolean array", "null");
        }
        long expected = (long) batch * heads * seqQ * seqK;
        InvalidRequestException.check(data.length == expected, "data", expected + " values (B·H·Sq·Sk)", data.length);
        data = data.clone();
    }

    /**
     * {@return a mask filled from {@code rule}}
     *
     * @param batch B (1 broadcasts)
     * @param heads H (1 broadcasts)
     * @param seqQ Sq
     * @param seqK Sk
     * @param rule the pass rule
     */
    public static DenseMask of(int batch, int heads, int seqQ, int seqK, Rule rule) {
        long size = (long) batch * heads * seqQ * seqK;
        InvalidRequestException.check(size <= Integer.MAX_VALUE - 8, "seqQ·seqK",
                "a dense mask of at most 2^31 elements", size);
        boolean[] out = new boolean[(int) size];
        int at = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seqQ; i++) {
                    for (int j = 0; j < seqK; j++) {
                        out[at++] = rule.allows(b, h, i, j);
                    }
                }
            }
        }
        return new DenseMask(out, batch, heads, seqQ, seqK);
    }

    /** {@return a copy of the values} */
    @Override
    public boolean[] data() {
        return data.clone();
    }

    /**
     * {@return whether query row {@code i} may attend to key {@code j}}
     *
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public boolean allows(int b, int h, int i, int j) {
        return data[((b * heads + h) * seqQ + i) * seqK + j];
    }

    /** {@return the tensor shape {@code [B, H, Sq, Sk]}} */
    public Shape shape() {
        return Shape.of(batch, heads, seqQ, seqK);
    }

    /**
     * Uploads as a {@code BOOL} tensor for {@code AttentionOptions.denseMask}.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor upload(TensorPort tensors) {
        return tensors.uploadBools(data, shape());
    }

    /** {@return the additive form: 0 where allowed, −∞ where masked, row-major {@code [B, H, Sq, Sk]}} */
    public float[] toAdditiveBias() {
        float[] out = new float[data.length];
        for (int k = 0; k < data.length; k++) {
            out[k] = data[k] ? 0f : Float.NEGATIVE_INFINITY;
        }
        return out;
    }

    /**
     * Uploads {@link #toAdditiveBias()} as an F32 tensor for {@code AttentionOptions.denseBias}.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor uploadAsBias(TensorPort tensors) {
        return tensors.upload(toAdditiveBias(), shape(), DType.F32);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DenseMask m && batch == m.batch && heads == m.heads && seqQ == m.seqQ && seqK == m.seqK
                && Arrays.equals(data, m.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + seqQ * 17 + seqK;
    }

    @Override
    public String toString() {
        return "DenseMask" + shape();
    }
}
