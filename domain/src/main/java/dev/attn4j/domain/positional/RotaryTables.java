package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.Arrays;

/**
 * The {@code cos} and {@code sin} tables {@code [S, R/2]} that {@link dev.attn4j.ports.rotary.RotaryRequest}
 * takes: entry {@code [n][k]} belongs to position {@code n} and pair {@code k}. Made by {@link Rotary}.
 *
 * <pre>{@code
 * RotaryTables t = Rotary.of(64).tables(seqLen);
 * try (DeviceTensor cos = t.uploadCos(tensors); DeviceTensor sin = t.uploadSin(tensors)) {
 *     DeviceTensor qRot = backend.rotary().apply(new RotaryRequest(q, cos, sin, null, RotaryLayout.SPLIT_HALF, false));
 * }
 * }</pre>
 *
 * @param cos       row-major {@code [S, R/2]}
 * @param sin       row-major {@code [S, R/2]}
 * @param seqLen    S
 * @param rotaryDim R
 */
public record RotaryTables(float[] cos, float[] sin, int seqLen, int rotaryDim) {

    /** Validates sizes and copies the tables. */
    public RotaryTables {
        InvalidRequestException.check(seqLen >= 1, "seqLen", ">= 1", seqLen);
        InvalidRequestException.check(rotaryDim >= 2 && rotaryDim % 2 == 0, "rotaryDim", "an even number >= 2", rotaryDim);
        long expected = (long) seqLen * (rotaryDim / 2);
        InvalidRequestException.check(cos != null && cos.length == expected, "cos", expected + " values [S, R/2]",
                cos == null ? "null" : cos.length);
        InvalidRequestException.check(sin != null && sin.length == expected, "sin", expected + " values [S, R/2]",
                sin == null ? "null" : sin.length);
        cos = cos.clone();
        sin = sin.clone();
    }

    /**
     * {@return {@code cos} of position {@code n}, pair {@code k}}
     *
     * @param n the count
     * @param k keys
     */
    public float cos(int n, int k) {
        return cos[n * (rotaryDim / 2) + k];
    }

    /**
     * {@return {@code sin} of position {@code n}, pair {@code k}}
     *
     * @param n the count
     * @param k keys
     */
    public float sin(int n, int k) {
        return sin[n * (rotaryDim / 2) + k];
    }

    /** {@return a copy of the cos table} */
    @Override
    public float[] cos() {
        return cos.clone();
    }

    /** {@return a copy of the sin table} */
    @Override
    public float[] sin() {
        return sin.clone();
    }

    /** {@return the tables' shape {@code [S, R/2]}} */
    public Shape shape() {
        return Shape.of(seqLen, rotaryDim / 2);
    }

    /**
     * Uploads the cos table as F32.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor uploadCos(TensorPort tensors) {
        return tensors.upload(cos, shape(), DType.F32);
    }

    /**
     * Uploads the sin table as F32.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor uploadSin(TensorPort tensors) {
        return tensors.upload(sin, shape(), DType.F32);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RotaryTables t && seqLen == t.seqLen && rotaryDim == t.rotaryDim
                && Arrays.equals(cos, t.cos) && Arrays.equals(sin, t.sin);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(cos) * 31 + Arrays.hashCode(sin);
    }

    @Override
    public String toString() {
        return "RotaryTables" + shape();
    }
}
