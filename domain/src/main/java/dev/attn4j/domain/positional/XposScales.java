package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.Arrays;

/**
 * The xPos scale tables {@code [S, R/2]} for queries and keys, passed as
 * {@link dev.attn4j.ports.rotary.RotaryRequest#scale()} when rotating q and k respectively. Made by
 * {@link Xpos}.
 *
 * <pre>{@code
 * XposScales s = Xpos.of(64).scales(seqLen);
 * try (DeviceTensor qs = s.uploadQuery(tensors); DeviceTensor ks = s.uploadKey(tensors)) {
 *     var qRot = backend.rotary().apply(new RotaryRequest(q, cos, sin, qs, RotaryLayout.INTERLEAVED, false));
 *     var kRot = backend.rotary().apply(new RotaryRequest(k, cos, sin, ks, RotaryLayout.INTERLEAVED, false));
 * }
 * }</pre>
 *
 * @param query     {@code ζ_k^((n - c)/scaleBase)}, row-major {@code [S, R/2]}
 * @param key       {@code ζ_k^(-(n - c)/scaleBase)}, row-major {@code [S, R/2]}
 * @param seqLen    S
 * @param rotaryDim R
 */
public record XposScales(float[] query, float[] key, int seqLen, int rotaryDim) {

    /** Validates sizes and copies the tables. */
    public XposScales {
        InvalidRequestException.check(seqLen >= 1, "seqLen", ">= 1", seqLen);
        InvalidRequestException.check(rotaryDim >= 2 && rotaryDim % 2 == 0, "rotaryDim", "an even number >= 2", rotaryDim);
        long expected = (long) seqLen * (rotaryDim / 2);
        InvalidRequestException.check(query != null && query.length == expected, "query", expected + " values [S, R/2]",
                query == null ? "null" : query.length);
        InvalidRequestException.check(key != null && key.length == expected, "key", expected + " values [S, R/2]",
                key == null ? "null" : key.length);
        query = query.clone();
        key = key.clone();
    }

    /**
     * {@return the query scale of position {@code n}, pair {@code k}}
     *
     * @param n the count
     * @param k keys
     */
    public float query(int n, int k) {
        return query[n * (rotaryDim / 2) + k];
    }

    /**
     * {@return the key scale of position {@code n}, pair {@code k}}
     *
     * @param n the count
     * @param k keys
     */
    public float key(int n, int k) {
        return key[n * (rotaryDim / 2) + k];
    }

    /** {@return a copy of the query scales} */
    @Override
    public float[] query() {
        return query.clone();
    }

    /** {@return a copy of the key scales} */
    @Override
    public float[] key() {
        return key.clone();
    }

    /** {@return the tables' shape {@code [S, R/2]}} */
    public Shape shape() {
        return Shape.of(seqLen, rotaryDim / 2);
    }

    /**
     * Uploads the query scales as F32.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor uploadQuery(TensorPort tensors) {
        return tensors.upload(query, shape(), DType.F32);
    }

    /**
     * Uploads the key scales as F32.
     *
     * @param tensors the backend's tensor port
     * @return the new tensor, owned by the backend
     */
    public DeviceTensor uploadKey(TensorPort tensors) {
        return tensors.upload(key, shape(), DType.F32);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof XposScales s && seqLen == s.seqLen && rotaryDim == s.rotaryDim
                && Arrays.equals(query, s.query) && Arrays.equals(key, s.key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(query) * 31 + Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "XposScales" + shape();
    }
}
